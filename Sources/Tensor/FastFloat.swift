/// Branch-free float32 exp, sigmoid, tanh and erf that the compiler vectorises inside a loop (libm's expf and
/// tanhf are calls it cannot vectorise). Used by `sigmoidForward` / `tanhForward` and the runtime's float32
/// Sigmoid and Tanh. The libm-based formulas in `ActivationMath` are the slow reference they are tested
/// against (Tests/TensorTests/FastFloatTests.swift): exp within 2 ulp, sigmoid within 3 ulp,
/// tanh within 4 ulp or 1e-8 absolute, erf within 5e-7 absolute.
public enum FastFloat {
    /// e^x by Cephes' expf: n = round(x·log2 e), r = x − n·ln 2 (in two parts), a degree-7 polynomial for
    /// e^r, then 2^n applied in two halves so that both factors stay normal floats (x down to −104).
    /// Overflows to +inf past 88.72, underflows to 0 below −103.97; NaN stays NaN.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let high: Float = 88.72283, low: Float = -103.97208
        let xc = x > high ? high : (x < low ? low : x)   // NaN passes through
        // Round x·log2(e) to an integer with the 1.5·2^23 trick: the integer lands in the low mantissa bits.
        let magic: Float = 12_582_912
        let t = xc * 1.44269504088896341 + magic
        let nf = t - magic
        let n = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        var r = xc - nf * 0.693359375
        r = r - nf * -2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let n1 = n >> 1, n2 = n &- (n >> 1)
        let s1 = Float(bitPattern: UInt32(bitPattern: (n1 &+ 127) << 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (n2 &+ 127) << 23))
        let y = p * s1 * s2
        return x > high ? .infinity : (x < low ? 0 : y)
    }

    /// 1 / (1 + e^−x) for x >= 0, e^x / (1 + e^x) below: with e = e^−|x| it never overflows and keeps
    /// full relative precision down to the denormals.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        let e = exp(-x.magnitude)
        let q = 1 / (1 + e)
        return x >= 0 ? q : e * q
    }

    /// tanh: an odd Taylor polynomial to x^13 for |x| < 0.4 (where 1 − 2/(e^2x + 1) would cancel), else
    /// sign(x) · (1 − 2 / (e^2|x| + 1)).
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let a = x.magnitude
        let x2 = x * x
        var p: Float = 21844.0 / 6081075.0
        p = p * x2 - 1382.0 / 155925.0
        p = p * x2 + 62.0 / 2835.0
        p = p * x2 - 17.0 / 315.0
        p = p * x2 + 2.0 / 15.0
        p = p * x2 - 1.0 / 3.0
        let small = x * (1 + x2 * p)   // keeps the sign of -0
        let big = 1 - 2 / (exp(2 * a) + 1)
        return a < 0.4 ? small : Float(signOf: x, magnitudeOf: big)
    }

    /// erf: x clamped to [−4, 4] (erf is ±1 in float32 beyond), then an odd degree-13 over an even degree-8
    /// polynomial in x — the rational approximation Eigen and XLA use for float32 erf. Within 5e-7 absolute
    /// of the exact value (a few float32 steps near ±1). The primitive spelling of GELU, x · (1 + erf(x / √2)) / 2, spends its time here.
    @inlinable @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let c = x > 4 ? 4 : (x < -4 ? -4 : x)   // NaN passes through
        let x2 = c * c
        var p: Float = -2.72614225801306e-10
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 - 2.10102402082508e-06
        p = p * x2 - 5.69250639462346e-05
        p = p * x2 - 7.34990630326855e-04
        p = p * x2 - 2.95459980854025e-03
        p = p * x2 - 1.60960333262415e-02
        var q: Float = -1.45660718464996e-05
        q = q * x2 - 2.13374055278905e-04
        q = q * x2 - 1.68282697438203e-03
        q = q * x2 - 7.37332916720468e-03
        q = q * x2 - 1.42647390514189e-02
        return c * p / q
    }
}
