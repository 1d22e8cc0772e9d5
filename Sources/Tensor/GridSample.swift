import Foundation

/// How `gridSampled` treats grid locations outside the input (ONNX GridSample's `padding_mode`).
public enum GridPadding: String, Sendable, CaseIterable {
    case zeros, border, reflection
}

/// Samples `x` at the normalised locations in `grid` (ONNX GridSample, PyTorch `grid_sample`).
///
/// Shapes: x [N, C, D1, ..., Dr], grid [N, O1, ..., Or, r] with the last axis listing coordinates in
/// reverse axis order (x = width first) in [-1, 1] -> [N, C, O1, ..., Or]. Interpolation: nearest
/// (round half to even), linear or cubic (Keys, A = -0.75), separable over the r spatial axes. Follows
/// onnx/reference/ops/op_grid_sample.py. Computes in Double; returns x's dtype.
public func gridSampled(_ x: Tensor, grid: Tensor, interpolation: ResizeInterpolation, padding: GridPadding,
                        alignCorners: Bool) -> Tensor {
    let r = x.rank - 2
    let dims = Array(x.shape[2...])
    let outSpatial = Array(grid.shape[1..<(grid.rank - 1)])
    let (n, c) = (x.shape[0], x.shape[1])
    let outShape = [n, c] + outSpatial
    let points = outSpatial.reduce(1, *)
    if outShape.contains(0) { return Tensor(zeros: outShape, dtype: x.dtype) }
    let data = x.doubles(), g = grid.doubles()
    let planeSize = dims.reduce(1, *)
    let strides = Tensor.strides(of: dims)
    // Borders of the valid coordinate range per axis.
    let lo = dims.map { _ in alignCorners ? 0.0 : -0.5 }
    let hi = dims.map { alignCorners ? Double($0 - 1) : Double($0) - 0.5 }

    func reflect(_ v: Double, _ a: Int) -> Double {
        let (xMin, xMax) = (lo[a], hi[a])
        let range = xMax - xMin
        // A one-pixel axis with align_corners has range 0: every reflection lands on it.
        guard range > 0 else { return xMin }
        // k (the number of whole reflections) stays a Double: dx / range may exceed Int's range.
        if v < xMin {
            let dx = xMin - v, k = (dx / range).rounded(.towardZero), rest = dx - k * range
            return k.truncatingRemainder(dividingBy: 2) == 0 ? xMin + rest : xMax - rest
        }
        if v > xMax {
            let dx = v - xMax, k = (dx / range).rounded(.towardZero), rest = dx - k * range
            return k.truncatingRemainder(dividingBy: 2) == 0 ? xMax - rest : xMin + rest
        }
        return v
    }
    /// The input index a tap at integer position i reads on axis a, or -1 for a zero.
    func tapIndex(_ i: Int, _ a: Int) -> Int {
        let d = dims[a]
        switch padding {
        case .zeros: return i >= 0 && i < d ? i : -1
        case .border: return min(max(i, 0), d - 1)
        case .reflection: return Int(reflect(Double(i), a))
        }
    }

    var out = [Double](repeating: 0, count: n * c * points)
    var taps = [[(index: Int, weight: Double)]](repeating: [], count: r)
    for b in 0..<n {
        for p in 0..<points {
            for a in 0..<r {
                // Grid coordinates come in reverse axis order: the first is the last spatial axis.
                let normalised = g[(b * points + p) * r + (r - 1 - a)]
                let d = Double(dims[a])
                var v = alignCorners ? (normalised + 1) / 2 * (d - 1) : ((normalised + 1) * d - 1) / 2
                if interpolation == .nearest { v = v.rounded(.toNearestOrEven) }
                // NOTE: a NaN or huge grid value (a crafted file) is pinned far outside (NaN to the low side),
                // where it samples what any far-outside value does; converting it to Int would trap.
                if !(v.magnitude < 0x1p52) { v = v > 0 ? 0x1p52 : -0x1p52 }
                if v < lo[a] || v > hi[a] {
                    if padding == .border { v = min(max(v, 0), d - 1) }
                    if padding == .reflection { v = reflect(v, a) }
                }
                switch interpolation {
                case .nearest:
                    taps[a] = [(tapIndex(Int(v), a), 1)]
                case .linear:
                    let i0 = Int(floor(v)), f = v - floor(v)
                    taps[a] = [(tapIndex(i0, a), 1 - f), (tapIndex(i0 + 1, a), f)]
                case .cubic:
                    let i0 = Int(floor(v)), f = v - floor(v)
                    taps[a] = (0..<4).map { k in (tapIndex(i0 - 1 + k, a), cubicWeight(Double(k - 1) - f, -0.75)) }
                }
            }
            // Tensor-product sum over the taps of every axis.
            var k = [Int](repeating: 0, count: r)
            var sums = [Double](repeating: 0, count: c)
            combinations: while true {
                var weight = 1.0, offset = 0, inside = true
                for a in 0..<r {
                    let t = taps[a][k[a]]
                    if t.index < 0 { inside = false; break }
                    weight *= t.weight
                    offset += t.index * strides[a]
                }
                if inside && weight != 0 {
                    for ch in 0..<c { sums[ch] += weight * data[(b * c + ch) * planeSize + offset] }
                }
                var a = r - 1
                while a >= 0 {
                    k[a] += 1
                    if k[a] < taps[a].count { continue combinations }
                    k[a] = 0
                    a -= 1
                }
                break
            }
            for ch in 0..<c { out[(b * c + ch) * points + p] = sums[ch] }
        }
    }
    return tensorFromDoubles(out, shape: outShape, dtype: x.dtype, rounding: true)
}
