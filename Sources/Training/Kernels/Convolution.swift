import Tensor

/// Convolution geometry shared by forward and backward: stride and padding per axis (dilation 1, group 1).
public struct ConvGeometry: Sendable, Hashable, Codable {
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public init(stride: Int = 1, padding: Int = 0) {
        self.strideH = stride; self.strideW = stride; self.padH = padding; self.padW = padding
    }
    /// Output size of a convolution over `size` with kernel `k` along one axis.
    static func convOut(_ size: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (size + 2 * p - k) / s + 1 }
}

extension Kernels {
    private static func convWindow(_ x: [Int], _ w: [Int], _ g: ConvGeometry) -> Window {
        let oh = ConvGeometry.convOut(x[2], w[2], g.strideH, g.padH)
        let ow = ConvGeometry.convOut(x[3], w[3], g.strideW, g.padW)
        return Window(c: x[1], h: x[2], w: x[3], kh: w[2], kw: w[3], sh: g.strideH, sw: g.strideW,
                      ph: g.padH, pw: g.padW, oh: oh, ow: ow)
    }

    /// Y = conv(X, W) + B. X: [N, C, H, W], W: [OC, C, KH, KW], B: [OC] or nil -> Y: [N, OC, OH, OW].
    /// Per image: `Y[OC, OH*OW] = W[OC, C*KH*KW] * im2col(X)`.
    static func conv2dForward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geo: ConvGeometry) -> Tensor {
        precondition(x.shape[1] == w.shape[1], "conv input has \(x.shape[1]) channels, weight expects \(w.shape[1])")
        let win = convWindow(x.shape, w.shape, geo)
        let n = x.shape[0], oc = w.shape[0]
        let y = Tensor(uninitialized: [n, oc, win.oh, win.ow])
        let col = win.isIdentity ? nil : Tensor(uninitialized: [win.rows, win.cols])
        let xp = x.floats.baseAddress!, yp = y.floats.baseAddress!, wp = w.floats.baseAddress!
        for i in 0..<n {
            let xi = xp + i * win.c * win.h * win.w
            let src: UnsafePointer<Float>
            if let col { im2col(xi, win, col.floats.baseAddress!); src = UnsafePointer(col.floats.baseAddress!) }
            else { src = UnsafePointer(xi) }
            let yi = yp + i * oc * win.cols
            gemm(m: oc, n: win.cols, k: win.rows, wp, src, yi)
            if let b { addBias(yi, b, plane: win.cols) }
        }
        return y
    }

    /// dX = conv2d backward data: per image `col2im(W^T * dY)`. Shapes as in `conv2dForward`.
    static func conv2dBackwardData(_ dY: Tensor, _ w: Tensor, inputShape: [Int], _ geo: ConvGeometry) -> Tensor {
        let win = convWindow(inputShape, w.shape, geo)
        let n = inputShape[0], oc = w.shape[0]
        let dX = Tensor(uninitialized: inputShape)
        let col = Tensor(uninitialized: [win.rows, win.cols])
        let gp = dY.floats.baseAddress!, wp = w.floats.baseAddress!, dp = dX.floats.baseAddress!
        for i in 0..<n {
            let di = dp + i * win.c * win.h * win.w
            if win.isIdentity {
                gemm(transA: true, m: win.rows, n: win.cols, k: oc, wp, gp + i * oc * win.cols, di)
            } else {
                gemm(transA: true, m: win.rows, n: win.cols, k: oc, wp, gp + i * oc * win.cols, col.floats.baseAddress!)
                col2im(col.floats.baseAddress!, win, di)
            }
        }
        return dX
    }

    /// dW = sum over images of `dY[OC, OH*OW] * im2col(X)^T` -> [OC, C, KH, KW].
    static func conv2dBackwardWeight(_ dY: Tensor, _ x: Tensor, weightShape: [Int], _ geo: ConvGeometry) -> Tensor {
        let win = convWindow(x.shape, weightShape, geo)
        let n = x.shape[0], oc = weightShape[0]
        let dW = Tensor(zeros: weightShape)
        let col = win.isIdentity ? nil : Tensor(uninitialized: [win.rows, win.cols])
        let xp = x.floats.baseAddress!, gp = dY.floats.baseAddress!
        for i in 0..<n {
            let xi = xp + i * win.c * win.h * win.w
            let src: UnsafePointer<Float>
            if let col { im2col(xi, win, col.floats.baseAddress!); src = UnsafePointer(col.floats.baseAddress!) }
            else { src = UnsafePointer(xi) }
            gemm(transB: true, m: oc, n: win.rows, k: win.cols, gp + i * oc * win.cols, src, beta: 1,
                 dW.floats.baseAddress!)
        }
        return dW
    }

    /// dB[C] = sum of dY[N, C, H, W] over N, H, W.
    static func biasBackward(_ dY: Tensor) -> Tensor {
        let n = dY.shape[0], c = dY.shape[1], plane = dY.count / max(n * c, 1)
        let db = Tensor(zeros: [c])
        let g = dY.floats, d = db.floats
        for i in 0..<n {
            for j in 0..<c {
                var s: Double = 0
                let base = (i * c + j) * plane
                for k in 0..<plane { s += Double(g[base + k]) }
                d[j] += Float(s)
            }
        }
        return db
    }

    static func addBias(_ y: UnsafeMutablePointer<Float>, _ b: Tensor, plane: Int) {
        let bp = b.floats
        for c in 0..<bp.count {
            let row = y + c * plane, v = bp[c]
            for k in 0..<plane { row[k] += v }
        }
    }
}
