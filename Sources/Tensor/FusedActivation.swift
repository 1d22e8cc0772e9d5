import CKernels
import RealModule

/// An element-wise activation a kernel applies to its output while it is still in cache (a convolution's
/// epilogue: the runtime's `ai.mangacolor.FusedConv`, made by the conv-activation graph rewrite). Each case
/// computes what the ONNX operator of the same name computes, with the same scalar code as the unfused path.
public enum FusedActivation: Sendable, Equatable, CustomStringConvertible {
    case relu
    case leakyRelu(negativeSlope: Float)
    /// min(max(x, lower), upper); ReLU6 is `clip(0, 6)`.
    case clip(lower: Float, upper: Float)
    case sigmoid
    case tanh
    /// max(0, min(1, alpha * x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x * max(0, min(1, x / 6 + 1 / 2)).
    case hardSwish
    /// x * sigmoid(x) (SiLU, Swish with beta 1).
    case silu
    /// x * (1 + erf(x / sqrt 2)) / 2 (FastFloat.erf).
    case gelu

    /// Applies the activation to `count` floats at `y`, in place: `mc_activate` (Sources/CKernels, AVX-512 or
    /// AVX2 where the CPU has them), the same results as `applyScalar` bit for bit.
    public func apply(_ y: UnsafeMutablePointer<Float>, count: Int) {
        let (kind, alpha, beta) = cKernelArguments
        mc_activate(y, count, Int32(kind.rawValue), alpha, beta)
    }

    /// The Swift formulas `apply` computes (its reference in tests).
    public func applyScalar(_ y: UnsafeMutablePointer<Float>, count: Int) {
        let buffer = UnsafeMutableBufferPointer(start: y, count: count)
        switch self {
        case .relu: reluForward(UnsafeBufferPointer(buffer), into: buffer)
        case .leakyRelu(let slope): leakyReluForward(UnsafeBufferPointer(buffer), into: buffer, negativeSlope: slope)
        case .clip(let lower, let upper): for i in 0..<count { y[i] = min(max(y[i], lower), upper) }
        case .sigmoid: for i in 0..<count { y[i] = FastFloat.sigmoid(y[i]) }
        case .tanh: for i in 0..<count { y[i] = FastFloat.tanh(y[i]) }
        case .hardSigmoid(let alpha, let beta): for i in 0..<count { y[i] = ActivationMath.hardSigmoid(y[i], alpha: alpha, beta: beta) }
        case .hardSwish: for i in 0..<count { y[i] = ActivationMath.hardSwish(y[i]) }
        case .silu: for i in 0..<count { y[i] *= FastFloat.sigmoid(y[i]) }
        case .gelu: for i in 0..<count { y[i] = y[i] * 0.5 * (1 + FastFloat.erf(y[i] * 0.70710678118654752)) }
        }
    }

    /// The C kernels' code for this activation and its two parameters (ckernels.h, `mc_activation`).
    var cKernelArguments: (mc_activation, Float, Float) {
        switch self {
        case .relu: (MC_ACT_RELU, 0, 0)
        case .leakyRelu(let slope): (MC_ACT_LEAKY_RELU, slope, 0)
        case .clip(let lower, let upper): (MC_ACT_CLIP, lower, upper)
        case .sigmoid: (MC_ACT_SIGMOID, 0, 0)
        case .tanh: (MC_ACT_TANH, 0, 0)
        case .hardSigmoid(let alpha, let beta): (MC_ACT_HARD_SIGMOID, alpha, beta)
        case .hardSwish: (MC_ACT_HARD_SWISH, 0, 0)
        case .silu: (MC_ACT_SILU, 0, 0)
        case .gelu: (MC_ACT_GELU, 0, 0)
        }
    }

    public var description: String {
        switch self {
        case .relu: "Relu"
        case .leakyRelu(let slope): "LeakyRelu(\(slope))"
        case .clip(let lower, let upper): "Clip(\(lower), \(upper))"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .hardSigmoid(let alpha, let beta): "HardSigmoid(\(alpha), \(beta))"
        case .hardSwish: "HardSwish"
        case .silu: "Silu"
        case .gelu: "Gelu"
        }
    }
}
