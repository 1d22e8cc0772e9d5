import ONNX
import Tensor

/// 2-D convolution, weight [OC, C, K, K], bias [OC]; Kaiming-normal weights (fan-in C*K*K), zero bias.
public final class Conv2d: Layer {
    public let weight: Variable
    public let bias: Variable?
    public let geometry: ConvGeometry

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int = 3, stride: Int = 1, padding: Int = 1,
                bias: Bool = true, negativeSlope: Float = 0.2, rng: inout RandomGenerator) {
        let shape = [outChannels, inChannels, kernelSize, kernelSize]
        weight = Variable(Initialization.kaimingNormal(shape, fan: inChannels * kernelSize * kernelSize,
                                                       negativeSlope: negativeSlope, rng: &rng),
                          requiresGrad: true, name: "\(name).weight")
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true, name: "\(name).bias") : nil
        geometry = ConvGeometry(stride: stride, padding: padding)
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        ctx.tape.conv2d(x, weight: weight, bias: bias, geometry: geometry)
    }
    public var parameters: [Variable] { [weight] + (bias.map { [$0] } ?? []) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        let k = weight.shape[2]
        return b.node("Conv", [input, b.initializer(weight)] + (bias.map { [b.initializer($0)] } ?? []), [
            "kernel_shape": .ints([k, k]), "strides": .ints([geometry.strideH, geometry.strideW]),
            "pads": .ints([geometry.padH, geometry.padW, geometry.padH, geometry.padW]),
        ], name: weight.name.dropSuffix(".weight"))
    }
}

/// 2-D transposed convolution, weight [C_in, C_out, K, K], bias [C_out].
/// NOTE: He init with fan = C_in*K*K / S^2, the number of terms summed into one output on average.
public final class ConvTranspose2d: Layer {
    public let weight: Variable
    public let bias: Variable?
    public let geometry: ConvTransposeGeometry

    public init(name: String, inChannels: Int, outChannels: Int, kernelSize: Int = 3, stride: Int = 2, padding: Int = 1,
                outputPadding: Int = 1, bias: Bool = true, negativeSlope: Float = 0.2, rng: inout RandomGenerator) {
        let shape = [inChannels, outChannels, kernelSize, kernelSize]
        weight = Variable(Initialization.kaimingNormal(shape, fan: inChannels * kernelSize * kernelSize / (stride * stride),
                                                       negativeSlope: negativeSlope, rng: &rng),
                          requiresGrad: true, name: "\(name).weight")
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true, name: "\(name).bias") : nil
        geometry = ConvTransposeGeometry(stride: stride, padding: padding, outputPadding: outputPadding)
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        ctx.tape.convTranspose2d(x, weight: weight, bias: bias, geometry: geometry)
    }
    public var parameters: [Variable] { [weight] + (bias.map { [$0] } ?? []) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        let k = weight.shape[2], g = geometry
        return b.node("ConvTranspose", [input, b.initializer(weight)] + (bias.map { [b.initializer($0)] } ?? []), [
            "kernel_shape": .ints([k, k]), "strides": .ints([g.stride, g.stride]),
            "pads": .ints([g.padding, g.padding, g.padding, g.padding]),
            "output_padding": .ints([g.outputPadding, g.outputPadding]),
        ], name: weight.name.dropSuffix(".weight"))
    }
}

/// Fully connected: Y = X W^T + B, weight [OUT, IN].
public final class Linear: Layer {
    public let weight: Variable
    public let bias: Variable?

    public init(name: String, inFeatures: Int, outFeatures: Int, bias: Bool = true, negativeSlope: Float = 0.2,
                rng: inout RandomGenerator) {
        weight = Variable(Initialization.kaimingNormal([outFeatures, inFeatures], fan: inFeatures,
                                                       negativeSlope: negativeSlope, rng: &rng),
                          requiresGrad: true, name: "\(name).weight")
        self.bias = bias ? Variable(Tensor(zeros: [outFeatures]), requiresGrad: true, name: "\(name).bias") : nil
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        ctx.tape.linear(x, weight: weight, bias: bias)
    }
    public var parameters: [Variable] { [weight] + (bias.map { [$0] } ?? []) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        b.node("Gemm", [input, b.initializer(weight)] + (bias.map { [b.initializer($0)] } ?? []), ["transB": .int(1)],
               name: weight.name.dropSuffix(".weight"))
    }
}

/// Instance normalisation, affine (gamma 1, beta 0 at init) or not. Exported as InstanceNormalization
/// (which always takes scale and bias: constant ones and zeros when not affine).
public final class InstanceNorm2d: Layer {
    public let gamma: Variable?, beta: Variable?
    public let channels: Int
    public let epsilon: Float
    let name: String

    public init(name: String, channels: Int, affine: Bool = true, epsilon: Float = 1e-5) {
        self.name = name
        self.channels = channels
        self.epsilon = epsilon
        gamma = affine ? Variable(Tensor(shape: [channels], floats: Array(repeating: 1, count: channels)), requiresGrad: true, name: "\(name).weight") : nil
        beta = affine ? Variable(Tensor(zeros: [channels]), requiresGrad: true, name: "\(name).bias") : nil
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        ctx.tape.instanceNorm(x, gamma: gamma, beta: beta, epsilon: epsilon)
    }
    public var parameters: [Variable] { [gamma, beta].compactMap { $0 } }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        let scale = gamma.map { b.initializer($0) } ?? b.constant("\(name).weight", Tensor(shape: [channels], floats: Array(repeating: 1, count: channels)))
        let shift = beta.map { b.initializer($0) } ?? b.constant("\(name).bias", Tensor(zeros: [channels]))
        return b.node("InstanceNormalization", [input, scale, shift], ["epsilon": .float(epsilon)], name: name)
    }
}

/// Batch normalisation: batch statistics when training (updating running statistics with `momentum`,
/// unbiased variance, as PyTorch), running statistics otherwise.
public final class BatchNorm2d: Layer {
    public let gamma: Variable, beta: Variable
    public let runningMean: Variable, runningVariance: Variable
    public let momentum: Float, epsilon: Float
    let name: String

    public init(name: String, channels: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
        self.name = name
        self.momentum = momentum
        self.epsilon = epsilon
        gamma = Variable(Tensor(shape: [channels], floats: Array(repeating: 1, count: channels)), requiresGrad: true, name: "\(name).weight")
        beta = Variable(Tensor(zeros: [channels]), requiresGrad: true, name: "\(name).bias")
        runningMean = Variable(Tensor(zeros: [channels]), name: "\(name).running_mean")
        runningVariance = Variable(Tensor(shape: [channels], floats: Array(repeating: 1, count: channels)), name: "\(name).running_var")
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        guard ctx.training else {
            // Inference: a fixed per-channel affine map; gradients flow to X only (statistics are constants).
            let c = x.shape[1]
            let g = Tensor(uninitialized: [c])
            for i in 0..<c { g.floats[i] = gamma.value.floats[i] / (runningVariance.value.floats[i] + epsilon).squareRoot() }
            let y = batchNormInference(x.value, scale: gamma.value, bias: beta.value, mean: runningMean.value,
                                       variance: runningVariance.value, epsilon: epsilon)
            return ctx.tape.record(y, inputs: [x]) { dY in
                let plane = dY.count / max(dY.shape[0] * c, 1)
                let d = Tensor(uninitialized: dY.shape)
                let gp = dY.floats, dp = d.floats, sp = g.floats
                for i in 0..<dY.count { dp[i] = gp[i] * sp[(i / plane) % c] }
                x.accumulate(d, owned: true)
            }
        }
        let (y, mean, variance) = ctx.tape.batchNorm(x, gamma: gamma, beta: beta, epsilon: epsilon)
        let m = Float(x.value.count / x.shape[1])
        let rm = runningMean.value.floats, rv = runningVariance.value.floats
        for c in 0..<mean.count {
            rm[c] = (1 - momentum) * rm[c] + momentum * mean[c]
            rv[c] = (1 - momentum) * rv[c] + momentum * variance[c] * m / max(m - 1, 1)
        }
        return y
    }
    public var parameters: [Variable] { [gamma, beta] }
    public var buffers: [Variable] { [runningMean, runningVariance] }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        b.node("BatchNormalization", [input, b.initializer(gamma), b.initializer(beta), b.initializer(runningMean),
                                      b.initializer(runningVariance)], ["epsilon": .float(epsilon)], name: name)
    }
}

extension String {
    func dropSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
