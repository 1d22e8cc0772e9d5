import Tensor

extension Kernels {
    /// Max pooling, no padding, floor mode. X: [N, C, H, W] -> Y: [N, C, OH, OW] and, per output, the flat
    /// index (within its H*W plane) of the element it took.
    /// NOTE: ties go to the first maximum in row-major window order (strict `>`), as PyTorch's CPU kernel.
    static func maxPool2dForward(_ x: Tensor, kernel: Int, stride: Int) -> (Tensor, [Int32]) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        let y = Tensor(uninitialized: [n, c, oh, ow])
        var indices = [Int32](repeating: 0, count: n * c * oh * ow)
        let xp = x.floats, yp = y.floats
        indices.withUnsafeMutableBufferPointer { ip in
            for p in 0..<(n * c) {
                let xb = p * h * w, yb = p * oh * ow
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = -Float.infinity, at = (oy * stride) * w + ox * stride
                        for i in 0..<kernel {
                            for j in 0..<kernel {
                                let k = (oy * stride + i) * w + ox * stride + j
                                let v = xp[xb + k]
                                if v > best || v.isNaN { best = v; at = k; if v.isNaN { break } }
                            }
                        }
                        yp[yb + oy * ow + ox] = best
                        ip[yb + oy * ow + ox] = Int32(at)
                    }
                }
            }
        }
        return (y, indices)
    }

    /// dX: each output gradient added to the input element its max came from.
    static func maxPool2dBackward(_ dY: Tensor, indices: [Int32], inputShape: [Int]) -> Tensor {
        let dX = Tensor(zeros: inputShape)
        let plane = inputShape[2] * inputShape[3], oplane = dY.shape[2] * dY.shape[3]
        let g = dY.floats, d = dX.floats
        for p in 0..<(inputShape[0] * inputShape[1]) {
            for k in 0..<oplane { d[p * plane + Int(indices[p * oplane + k])] += g[p * oplane + k] }
        }
        return dX
    }

    /// Average pooling, no padding, floor mode. X: [N, C, H, W] -> Y: [N, C, OH, OW].
    static func avgPool2dForward(_ x: Tensor, kernel: Int, stride: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h - kernel) / stride + 1, ow = (w - kernel) / stride + 1
        let y = Tensor(uninitialized: [n, c, oh, ow])
        let xp = x.floats, yp = y.floats, scale = 1 / Float(kernel * kernel)
        for p in 0..<(n * c) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s: Float = 0
                    for i in 0..<kernel { for j in 0..<kernel { s += xp[p * h * w + (oy * stride + i) * w + ox * stride + j] } }
                    yp[(p * oh + oy) * ow + ox] = s * scale
                }
            }
        }
        return y
    }

    /// dX: each output gradient spread evenly over its window.
    static func avgPool2dBackward(_ dY: Tensor, inputShape: [Int], kernel: Int, stride: Int) -> Tensor {
        let (h, w) = (inputShape[2], inputShape[3])
        let (oh, ow) = (dY.shape[2], dY.shape[3])
        let dX = Tensor(zeros: inputShape)
        let g = dY.floats, d = dX.floats, scale = 1 / Float(kernel * kernel)
        for p in 0..<(inputShape[0] * inputShape[1]) {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let v = g[(p * oh + oy) * ow + ox] * scale
                    for i in 0..<kernel { for j in 0..<kernel { d[p * h * w + (oy * stride + i) * w + ox * stride + j] += v } }
                }
            }
        }
        return dX
    }
}
