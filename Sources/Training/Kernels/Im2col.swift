import Dispatch

// NOTE: private fallback kernels of the trainer. The shared kernels of the Tensor module (conv, normpool,
// elementwise branches) had not landed when the trainer was written; everything the trainer computes goes
// through `Kernels`, so switching to the shared kernels is a change to the Kernels/ files only.

/// Geometry of one 2-D sliding window: image `c x h x w`, kernel `kh x kw`, stride, padding, and the
/// number of window positions `oh x ow` (given, so transposed convolution can reuse it with output_padding).
struct Window {
    var c: Int, h: Int, w: Int
    var kh: Int, kw: Int
    var sh: Int, sw: Int
    var ph: Int, pw: Int
    var oh: Int, ow: Int
    var rows: Int { c * kh * kw }
    var cols: Int { oh * ow }
    var isIdentity: Bool { kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && oh == h && ow == w }
}

enum Kernels {
    /// Spreads one image `x: [C, H, W]` into columns `col: [C*KH*KW, OH*OW]` (zero where the window hangs
    /// over the padding). Row `(c*KH + i)*KW + j`, column `oh*OW + ow` holds `x[c, oh*SH - PH + i, ow*SW - PW + j]`.
    static func im2col(_ x: UnsafePointer<Float>, _ g: Window, _ col: UnsafeMutablePointer<Float>) {
        let plane = g.oh * g.ow
        Kernels.parallelFor(g.c) { c in
            let xc = x + c * g.h * g.w
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let dst = col + ((c * g.kh + i) * g.kw + j) * plane
                    for oy in 0..<g.oh {
                        let iy = oy * g.sh - g.ph + i
                        let row = dst + oy * g.ow
                        if iy < 0 || iy >= g.h {
                            row.update(repeating: 0, count: g.ow)
                            continue
                        }
                        let xrow = xc + iy * g.w
                        if g.sw == 1 {
                            // Contiguous: zeros at the edges, one copy in the middle.
                            let lo = max(0, g.pw - j), hi = min(g.ow, g.w + g.pw - j)
                            if lo > 0 { row.update(repeating: 0, count: min(lo, g.ow)) }
                            if hi > lo { (row + lo).update(from: xrow + (lo - g.pw + j), count: hi - lo) }
                            if hi < g.ow { (row + max(hi, 0)).update(repeating: 0, count: g.ow - max(hi, 0)) }
                        } else {
                            for ox in 0..<g.ow {
                                let ix = ox * g.sw - g.pw + j
                                row[ox] = (ix >= 0 && ix < g.w) ? xrow[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry back into `x: [C, H, W]` (which it zeroes first).
    static func col2im(_ col: UnsafePointer<Float>, _ g: Window, _ x: UnsafeMutablePointer<Float>) {
        let plane = g.oh * g.ow
        Kernels.parallelFor(g.c) { c in
            let xc = x + c * g.h * g.w
            xc.update(repeating: 0, count: g.h * g.w)
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let src = col + ((c * g.kh + i) * g.kw + j) * plane
                    for oy in 0..<g.oh {
                        let iy = oy * g.sh - g.ph + i
                        if iy < 0 || iy >= g.h { continue }
                        let row = src + oy * g.ow
                        let xrow = xc + iy * g.w
                        if g.sw == 1 {
                            let lo = max(0, g.pw - j), hi = min(g.ow, g.w + g.pw - j)
                            if hi > lo {
                                let base = xrow + (lo - g.pw + j)
                                for ox in lo..<hi { base[ox - lo] += row[ox] }
                            }
                        } else {
                            for ox in 0..<g.ow {
                                let ix = ox * g.sw - g.pw + j
                                if ix >= 0 && ix < g.w { xrow[ix] += row[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}

private struct UncheckedSendable<T>: @unchecked Sendable { let value: T }

extension Kernels {
    /// Runs `body(i)` for i in 0..<n on the Dispatch pool (one level of parallelism: never call inside a
    /// BLAS call). The body may capture raw pointers: iterations must write disjoint memory.
    static func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        if n == 1 { body(0); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(value: body)
            DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
        }
    }
}
