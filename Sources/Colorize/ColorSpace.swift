import Foundation

// Colour spaces: sRGB (IEC 61966-2-1) <-> linear RGB <-> CIE XYZ <-> CIELAB, white point D65, and luma.
//
// - sRGB values in [0, 1]; linear RGB in [0, 1]; XYZ with Y of white = 1; L* in [0, 100], a*, b* about
//   [-128, 127]. Lab uses the D65 white (0.95047, 1, 1.08883): sRGB's own white, so grey maps to a* = b* = 0.
// - Luminance grey (`luma`): Rec. 601 weights on the gamma-encoded values, Y' = 0.299 R' + 0.587 G' + 0.114 B'.
//   Chosen because it is what scanners, PIL's convert("L") and OpenCV's cvtColor use, so the grey pages a
//   user brings look like the grey inputs the generator trained on.
// - Scalar functions work in Double (metrics need the precision); image functions in Float.
//
// API:
//   srgbToLinear(_:), linearToSRGB(_:)                    one component
//   rgbToLab(_ r, _ g, _ b) -> (L, a, b), labToRGB(_ L, _ a, _ b) -> (r, g, b)   sRGB <-> Lab, Double
//   rgbToXYZ, xyzToLab, labToXYZ                          the steps in between
//   luma(_ r, _ g, _ b)                                    Rec. 601
//   image.luminance() -> 1-channel Image;  image.lab() -> [L, a, b] planes;  Image(lab:width:height:)

public let whiteD65 = (x: 0.95047, y: 1.0, z: 1.08883)

@inline(__always)
public func srgbToLinear(_ v: Double) -> Double {
    v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
}

@inline(__always)
public func linearToSRGB(_ v: Double) -> Double {
    v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055
}

/// Linear RGB to XYZ (sRGB primaries, D65).
@inline(__always)
public func linearRGBToXYZ(_ r: Double, _ g: Double, _ b: Double) -> (x: Double, y: Double, z: Double) {
    (0.4124564 * r + 0.3575761 * g + 0.1804375 * b,
     0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
     0.0193339 * r + 0.1191920 * g + 0.9503041 * b)
}

/// XYZ to linear RGB (the exact inverse of the matrix above).
@inline(__always)
public func xyzToLinearRGB(_ x: Double, _ y: Double, _ z: Double) -> (r: Double, g: Double, b: Double) {
    (3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
     -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
     0.0556434 * x - 0.2040259 * y + 1.0572252 * z)
}

public func rgbToXYZ(_ r: Double, _ g: Double, _ b: Double) -> (x: Double, y: Double, z: Double) {
    linearRGBToXYZ(srgbToLinear(r), srgbToLinear(g), srgbToLinear(b))
}

// CIE constants as exact rationals: epsilon = (6/29)^3, kappa = (29/3)^3.
private let labEpsilon = 216.0 / 24389.0
private let labKappa = 24389.0 / 27.0

@inline(__always)
private func labF(_ t: Double) -> Double {
    t > labEpsilon ? cbrt(t) : (labKappa * t + 16) / 116
}

@inline(__always)
private func labFInverse(_ f: Double) -> Double {
    let f3 = f * f * f
    return f3 > labEpsilon ? f3 : (116 * f - 16) / labKappa
}

public func xyzToLab(_ x: Double, _ y: Double, _ z: Double) -> (l: Double, a: Double, b: Double) {
    let fx = labF(x / whiteD65.x), fy = labF(y / whiteD65.y), fz = labF(z / whiteD65.z)
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
}

public func labToXYZ(_ l: Double, _ a: Double, _ b: Double) -> (x: Double, y: Double, z: Double) {
    let fy = (l + 16) / 116
    let fx = fy + a / 500, fz = fy - b / 200
    return (whiteD65.x * labFInverse(fx), whiteD65.y * labFInverse(fy), whiteD65.z * labFInverse(fz))
}

/// sRGB [0, 1] to CIELAB (D65).
public func rgbToLab(_ r: Double, _ g: Double, _ b: Double) -> (l: Double, a: Double, b: Double) {
    let xyz = rgbToXYZ(r, g, b)
    return xyzToLab(xyz.x, xyz.y, xyz.z)
}

/// CIELAB (D65) to sRGB. Not clamped: out-of-gamut colours give components outside [0, 1].
public func labToRGB(_ l: Double, _ a: Double, _ b: Double) -> (r: Double, g: Double, b: Double) {
    let xyz = labToXYZ(l, a, b)
    let lin = xyzToLinearRGB(xyz.x, xyz.y, xyz.z)
    // linearToSRGB of a negative value would be NaN through pow: extend it as an odd function.
    func encode(_ v: Double) -> Double { v < 0 ? -linearToSRGB(-v) : linearToSRGB(v) }
    return (encode(lin.r), encode(lin.g), encode(lin.b))
}

/// L* of a neutral grey with sRGB value v (a* = b* = 0).
public func lightnessOfGrey(_ v: Double) -> Double {
    116 * labF(srgbToLinear(v)) - 16
}

/// Rec. 601 luma of gamma-encoded R'G'B'.
@inline(__always)
public func luma(_ r: Float, _ g: Float, _ b: Float) -> Float {
    0.299 * r + 0.587 * g + 0.114 * b
}

extension Image {
    /// 1-channel Rec. 601 luma (a grey image is returned as is).
    public func luminance() -> Image {
        if channels == 1 { return self }
        precondition(channels == 3, "luminance needs 1 or 3 channels, got \(channels)")
        var out = Image(width: width, height: height, channels: 1)
        let n = planeSize
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< n { dst[i] = luma(src[i], src[n + i], src[2 * n + i]) }
            }
        }
        return out
    }

    /// CIELAB planes L, a, b as a 3-channel image of raw Lab values (not in [0, 1]). Grey images give a = b = 0.
    public func lab() -> Image {
        precondition(channels == 1 || channels == 3)
        var out = Image(width: width, height: height, channels: 3)
        let n = planeSize, grey = channels == 1, src = pixels
        out.pixels.withUnsafeMutableBufferPointer { buffer in
            let dst = SendablePointer(buffer.baseAddress!)
            parallelChunks(count: n) { _, range in
                for i in range {
                    if grey {
                        dst[i] = Float(lightnessOfGrey(Double(src[i])))
                        dst[n + i] = 0
                        dst[2 * n + i] = 0
                    } else {
                        let lab = rgbToLab(Double(src[i]), Double(src[n + i]), Double(src[2 * n + i]))
                        dst[i] = Float(lab.l)
                        dst[n + i] = Float(lab.a)
                        dst[2 * n + i] = Float(lab.b)
                    }
                }
            }
        }
        return out
    }

    /// sRGB image from Lab planes (as made by `lab()`), clamped to [0, 1].
    public init(lab: Image) {
        precondition(lab.channels == 3)
        var out = Image(width: lab.width, height: lab.height, channels: 3)
        let n = lab.planeSize, src = lab.pixels
        out.pixels.withUnsafeMutableBufferPointer { buffer in
            let dst = SendablePointer(buffer.baseAddress!)
            parallelChunks(count: n) { _, range in
                for i in range {
                    let rgb = labToRGB(Double(src[i]), Double(src[n + i]), Double(src[2 * n + i]))
                    dst[i] = Float(min(max(rgb.r, 0), 1))
                    dst[n + i] = Float(min(max(rgb.g, 0), 1))
                    dst[2 * n + i] = Float(min(max(rgb.b, 0), 1))
                }
            }
        }
        self = out
    }
}
