import Tensor

// The trainer's layer geometries. All numerics go to the shared kernels of the Tensor module (the same
// ones the runtime runs), so trainer-vs-runtime parity tests the exporter, not two implementations.

/// Convolution stride and padding per axis (dilation 1, group 1); the kernel size comes from the weight.
public struct ConvGeometry: Sendable, Hashable, Codable {
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public init(stride: Int = 1, padding: Int = 0) {
        self.strideH = stride; self.strideW = stride; self.padH = padding; self.padW = padding
    }
    /// Output size of a convolution over `size` with kernel `k` along one axis.
    static func convOut(_ size: Int, _ k: Int, _ s: Int, _ p: Int) -> Int { (size + 2 * p - k) / s + 1 }

    /// The shared kernels' geometry for a weight of shape `[_, _, KH, KW]`.
    func shared(weightShape w: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(kernelShape: [w[2], w[3]], strides: [strideH, strideW], padsBegin: [padH, padW], padsEnd: [padH, padW])
    }
}

/// Transposed-convolution stride, padding and output padding (dilation 1, group 1).
public struct ConvTransposeGeometry: Sendable, Hashable, Codable {
    public var stride: Int, padding: Int, outputPadding: Int
    public init(stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) {
        self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
    }
    /// OH = (H - 1)*S - 2P + K + OP.
    func outputSize(_ size: Int, _ k: Int) -> Int { (size - 1) * stride - 2 * padding + k + outputPadding }

    func shared(weightShape w: [Int]) -> ConvolutionGeometry {
        ConvolutionGeometry(kernelShape: [w[2], w[3]], strides: [stride, stride], padsBegin: [padding, padding],
                            padsEnd: [padding, padding])
    }
}

/// Small helpers the autodiff ops share (everything heavy is a Tensor-module kernel).
enum Kernels {
    /// `C[M, N] = op(A) * op(B) (+ beta C)`, row-major, packed operands.
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        sgemm(transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
              b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
    }

    /// Y = f(X) element-wise.
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor { x.mapFloats(f) }

    /// dX[i] = f(dY[i], a[i]) element-wise.
    static func zipMap(_ dY: Tensor, _ a: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let d = Tensor(uninitialized: a.shape)
        let gp = dY.floats, ap = a.floats, dp = d.floats
        for i in 0..<ap.count { dp[i] = f(gp[i], ap[i]) }
        return d
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { ActivationMath.sigmoid(x) }
}

extension Kernels {
    // Forwarders to the Tensor module's pooling (Tape has members of the same base names).
    static func maxPool(_ x: Tensor, kernelSize: Int, stride: Int) -> (output: Tensor, indices: Tensor) {
        maxPool2d(x, kernelSize: kernelSize, stride: stride)
    }
    static func maxPoolBackward(_ dY: Tensor, indices: Tensor, inputShape: [Int]) -> Tensor {
        maxPool2dBackward(dY, indices: indices, inputShape: inputShape)
    }
    static func avgPool(_ x: Tensor, kernelSize: Int, stride: Int) -> Tensor {
        avgPool2d(x, kernelSize: kernelSize, stride: stride)
    }
    static func avgPoolBackward(_ dY: Tensor, inputShape: [Int], kernelSize: Int, stride: Int) -> Tensor {
        avgPool2dBackward(dY, inputShape: inputShape, kernelSize: kernelSize, stride: stride)
    }
}
