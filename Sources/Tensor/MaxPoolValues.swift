// Max pooling when only the values are wanted (ONNX MaxPool without its Indices output, the usual case in
// published detectors): each output row is the running maximum of the input rows under its window, one
// kernel column at a time over a contiguous range of outputs, which the compiler vectorises — instead of
// `maxPoolForward`'s window walk per output that also records where each maximum came from.
// Same values as `maxPoolForward` (NaN wins; Tests/TensorTests/PoolingTests.swift).

/// Max pooling values of x (N, C, [H,] W) float32 with unit dilations and pads smaller than the kernel
/// (every window then holds at least one input element); nil for other problems (use `maxPoolForward`).
public func maxPoolValues(_ x: Tensor, _ g: PoolingGeometry) -> Tensor? {
    let r = g.kernel.count
    guard x.dtype == .float32, x.rank == r + 2, r == 1 || r == 2, g.dilations.allSatisfy({ $0 == 1 }),
          (0..<r).allSatisfy({ g.padsBegin[$0] < g.kernel[$0] && g.padsEnd[$0] < g.kernel[$0] }) else { return nil }
    let spatial = Array(x.shape.dropFirst(2)), out = g.outputSpatialShape(for: spatial)
    let y = Tensor(uninitialized: Array(x.shape.prefix(2)) + out, dtype: .float32)
    guard y.count > 0 else { return y }
    let (ih, iw) = r == 2 ? (spatial[0], spatial[1]) : (1, spatial[0])
    let (oh, ow) = r == 2 ? (out[0], out[1]) : (1, out[0])
    let (kh, kw) = r == 2 ? (g.kernel[0], g.kernel[1]) : (1, g.kernel[0])
    let (sh, sw) = r == 2 ? (g.strides[0], g.strides[1]) : (1, g.strides[0])
    let (ph, pw) = r == 2 ? (g.padsBegin[0], g.padsBegin[1]) : (0, g.padsBegin[0])
    // Per kernel column: the outputs whose tap lands inside the row, and the tap's offset at output 0.
    let columns: [(lo: Int, hi: Int, offset: Int)] = (0..<kw).map { kx in
        let offset = kx - pw
        let lo = max(0, (-offset + sw - 1) / sw)
        let hi = iw - 1 - offset < 0 ? 0 : min(ow, (iw - 1 - offset) / sw + 1)
        return (lo, max(lo, hi), offset)
    }
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let planes = x.shape[0] * x.shape[1]
    poolingForEachPlane(planes, work: oh * ow * kh * kw) { plane in
        let xs = xp + plane * ih * iw, ys = yp + plane * oh * ow
        for oy in 0..<oh {
            let yrow = ys + oy * ow
            for ox in 0..<ow { yrow[ox] = -.infinity }
            for ky in 0..<kh {
                let iy = oy * sh + ky - ph
                guard iy >= 0 && iy < ih else { continue }
                let xrow = xs + iy * iw
                for (lo, hi, offset) in columns where lo < hi {
                    if sw == 1 {
                        let source = xrow + offset
                        for ox in lo..<hi {
                            let v = source[ox], best = yrow[ox]
                            yrow[ox] = v > best || v != v ? v : best
                        }
                    } else {
                        for ox in lo..<hi {
                            let v = xrow[ox * sw + offset], best = yrow[ox]
                            yrow[ox] = v > best || v != v ? v : best
                        }
                    }
                }
            }
        }
    }
    return y
}
