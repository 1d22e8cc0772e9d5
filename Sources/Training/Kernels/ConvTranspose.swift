import Tensor

/// Transposed-convolution geometry: stride, padding and output padding (dilation 1, group 1).
public struct ConvTransposeGeometry: Sendable, Hashable, Codable {
    public var stride: Int, padding: Int, outputPadding: Int
    public init(stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) {
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
    }
    /// OH = (H - 1)*S - 2P + K + OP.
    func outputSize(_ size: Int, _ k: Int) -> Int { (size - 1) * stride - 2 * padding + k + outputPadding }
}

extension Kernels {
    /// The window of the convolution that a transposed convolution is the adjoint of: it runs over the
    /// (larger) output `[C_out, OH, OW]` and produces the input grid `[H, W]`.
    private static func transposeWindow(input: [Int], weight: [Int], _ g: ConvTransposeGeometry) -> Window {
        Window(c: weight[1], h: g.outputSize(input[2], weight[2]), w: g.outputSize(input[3], weight[3]),
               kh: weight[2], kw: weight[3], sh: g.stride, sw: g.stride, ph: g.padding, pw: g.padding,
               oh: input[2], ow: input[3])
    }

    /// Y = convTranspose(X, W) + B. X: [N, C_in, H, W], W: [C_in, C_out, KH, KW], B: [C_out] or nil
    /// -> Y: [N, C_out, OH, OW]. Per image: `Y = col2im(W^T[C_out*KH*KW, C_in] * X[C_in, H*W])`.
    static func convTranspose2dForward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geo: ConvTransposeGeometry) -> Tensor {
        precondition(x.shape[1] == w.shape[0], "convTranspose input has \(x.shape[1]) channels, weight expects \(w.shape[0])")
        let win = transposeWindow(input: x.shape, weight: w.shape, geo)
        let n = x.shape[0], cin = x.shape[1]
        let y = Tensor(uninitialized: [n, win.c, win.h, win.w])
        let col = Tensor(uninitialized: [win.rows, win.cols])
        let xp = x.floats.baseAddress!, yp = y.floats.baseAddress!, wp = w.floats.baseAddress!
        for i in 0..<n {
            gemm(transA: true, m: win.rows, n: win.cols, k: cin, wp, xp + i * cin * win.cols, col.floats.baseAddress!)
            let yi = yp + i * win.c * win.h * win.w
            col2im(col.floats.baseAddress!, win, yi)
            if let b { addBias(yi, b, plane: win.h * win.w) }
        }
        return y
    }

    /// dX[C_in, H*W] = W[C_in, C_out*KH*KW] * im2col(dY).
    static func convTranspose2dBackwardData(_ dY: Tensor, _ w: Tensor, inputShape: [Int], _ geo: ConvTransposeGeometry) -> Tensor {
        let win = transposeWindow(input: inputShape, weight: w.shape, geo)
        let n = inputShape[0], cin = inputShape[1]
        let dX = Tensor(uninitialized: inputShape)
        let col = Tensor(uninitialized: [win.rows, win.cols])
        let gp = dY.floats.baseAddress!, wp = w.floats.baseAddress!, dp = dX.floats.baseAddress!
        for i in 0..<n {
            im2col(gp + i * win.c * win.h * win.w, win, col.floats.baseAddress!)
            gemm(m: cin, n: win.cols, k: win.rows, wp, col.floats.baseAddress!, dp + i * cin * win.cols)
        }
        return dX
    }

    /// dW[C_in, C_out*KH*KW] = sum over images of X[C_in, H*W] * im2col(dY)^T.
    static func convTranspose2dBackwardWeight(_ dY: Tensor, _ x: Tensor, weightShape: [Int], _ geo: ConvTransposeGeometry) -> Tensor {
        let win = transposeWindow(input: x.shape, weight: weightShape, geo)
        let n = x.shape[0], cin = x.shape[1]
        let dW = Tensor(zeros: weightShape)
        let col = Tensor(uninitialized: [win.rows, win.cols])
        let gp = dY.floats.baseAddress!, xp = x.floats.baseAddress!
        for i in 0..<n {
            im2col(gp + i * win.c * win.h * win.w, win, col.floats.baseAddress!)
            gemm(transB: true, m: cin, n: win.rows, k: win.cols, xp + i * cin * win.cols, col.floats.baseAddress!,
                 beta: 1, dW.floats.baseAddress!)
        }
        return dW
    }
}
