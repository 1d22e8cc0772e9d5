// Binary-mask and window helpers for page analysis and descreening, all O(n) or O(n r) over a plane.
//
// API: median(_:) -> Double, slidingExtreme(_:width:height:radius:maximum:) -> [Float] (square window max/min),
//      chamferDistance(to:width:height:) -> [Float] (3-4 chamfer distance to the nearest true pixel)

func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let sorted = values.sorted()
    let m = sorted.count
    return m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
}

/// Maximum (or minimum) over the (2r+1) x (2r+1) square around each pixel, clamped at the borders;
/// separable, O(n r).
func slidingExtreme(_ values: [Float], width w: Int, height h: Int, radius r: Int, maximum: Bool) -> [Float] {
    var rows = values
    values.withUnsafeBufferPointer { src in
        rows.withUnsafeMutableBufferPointer { dst in
            for y in 0 ..< h {
                let base = y * w
                for x in 0 ..< w {
                    var m = src[base + x]
                    for k in max(0, x - r) ... min(w - 1, x + r) {
                        let v = src[base + k]
                        m = maximum ? Swift.max(m, v) : Swift.min(m, v)
                    }
                    dst[base + x] = m
                }
            }
        }
    }
    var out = rows
    rows.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0 ..< h {
                for x in 0 ..< w {
                    var m = src[y * w + x]
                    for k in max(0, y - r) ... min(h - 1, y + r) {
                        let v = src[k * w + x]
                        m = maximum ? Swift.max(m, v) : Swift.min(m, v)
                    }
                    dst[y * w + x] = m
                }
            }
        }
    }
    return out
}

/// Distance (3-4 chamfer, in pixels: 1 along an axis, 4/3 on a diagonal) from each pixel to the nearest
/// pixel where `mask` is true; `.infinity` everywhere when the mask is empty.
func chamferDistance(to mask: [Bool], width w: Int, height h: Int) -> [Float] {
    let far: Int32 = Int32.max / 2
    var d = mask.map { $0 ? Int32(0) : far }
    d.withUnsafeMutableBufferPointer { p in
        for y in 0 ..< h {
            for x in 0 ..< w {
                let i = y * w + x
                var v = p[i]
                if x > 0 { v = min(v, p[i - 1] + 3) }
                if y > 0 {
                    v = min(v, p[i - w] + 3)
                    if x > 0 { v = min(v, p[i - w - 1] + 4) }
                    if x + 1 < w { v = min(v, p[i - w + 1] + 4) }
                }
                p[i] = v
            }
        }
        for y in stride(from: h - 1, through: 0, by: -1) {
            for x in stride(from: w - 1, through: 0, by: -1) {
                let i = y * w + x
                var v = p[i]
                if x + 1 < w { v = min(v, p[i + 1] + 3) }
                if y + 1 < h {
                    v = min(v, p[i + w] + 3)
                    if x + 1 < w { v = min(v, p[i + w + 1] + 4) }
                    if x > 0 { v = min(v, p[i + w - 1] + 4) }
                }
                p[i] = v
            }
        }
    }
    return d.map { $0 >= far ? .infinity : Float($0) / 3 }
}
