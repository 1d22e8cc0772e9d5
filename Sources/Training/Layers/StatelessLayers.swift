import ONNX
import Tensor

public final class LeakyReLU: Layer {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.2) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.leakyReLU(x, negativeSlope: negativeSlope) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { b.node("LeakyRelu", [input], ["alpha": .float(negativeSlope)]) }
}

public final class ReLU: Layer {
    public init() {}
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.relu(x) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { b.node("Relu", [input]) }
}

public final class Tanh: Layer {
    public init() {}
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.tanh(x) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { b.node("Tanh", [input]) }
}

public final class Sigmoid: Layer {
    public init() {}
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.sigmoid(x) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { b.node("Sigmoid", [input]) }
}

/// [N, ...] -> [N, rest]. ONNX Flatten with axis 1.
public final class Flatten: Layer {
    public init() {}
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.flatten(x) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { b.node("Flatten", [input], ["axis": .int(1)]) }
}

public final class MaxPool2d: Layer {
    public let kernelSize: Int, stride: Int
    public init(kernelSize: Int = 2, stride: Int? = nil) { self.kernelSize = kernelSize; self.stride = stride ?? kernelSize }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.maxPool2d(x, kernel: kernelSize, stride: stride) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        b.node("MaxPool", [input], ["kernel_shape": .ints([kernelSize, kernelSize]), "strides": .ints([stride, stride])])
    }
}

public final class AvgPool2d: Layer {
    public let kernelSize: Int, stride: Int
    public init(kernelSize: Int = 2, stride: Int? = nil) { self.kernelSize = kernelSize; self.stride = stride ?? kernelSize }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { ctx.tape.avgPool2d(x, kernel: kernelSize, stride: stride) }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String {
        b.node("AveragePool", [input], ["kernel_shape": .ints([kernelSize, kernelSize]), "strides": .ints([stride, stride])])
    }
}

/// Inverted dropout: when training, zeroes each element with probability p and scales the rest by
/// 1/(1-p); identity at inference (and in the exported graph).
public final class Dropout: Layer {
    public let probability: Float
    public init(probability: Float = 0.5) { self.probability = probability }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        guard ctx.training, probability > 0 else { return x }
        let keep = 1 / (1 - probability), p = probability
        let mask = ctx.draw(x.shape) { shape in
            let mask = Tensor(uninitialized: shape)
            let mp = mask.floats
            for i in 0..<mp.count { mp[i] = ctx.rng.uniform() < p ? 0 : keep }
            return mask
        }
        return ctx.tape.multiplyConstant(x, mask)
    }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { input }
}

/// Additive Gaussian noise N(0, std^2) when training and std > 0 (instance noise, Salimans et al. 2016);
/// identity at inference. `standardDeviation` is set by the trainer as it decays.
public final class GaussianNoise: Layer {
    public var standardDeviation: Float
    public init(standardDeviation: Float = 0) { self.standardDeviation = standardDeviation }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        guard ctx.training, standardDeviation > 0 else { return x }
        let std = standardDeviation
        return ctx.tape.addConstant(x, ctx.draw(x.shape) { ctx.rng.normal($0, std: std) })
    }
    public func export(_ b: inout GraphBuilder, _ input: String) -> String { input }
}
