import ONNX
import Tensor

/// What a forward pass needs besides its input: the tape to record on, train/eval mode, and the random
/// generator for dropout and noise (a class so layers share and advance one generator).
public final class ForwardContext {
    public let tape: Tape
    public let training: Bool
    public var rng: RandomGenerator
    /// The samples of a global batch this pass holds (data-parallel training); per-sample random draws are
    /// made for the global batch and sliced (`BatchShard.draw`).
    public var shard: BatchShard
    /// Set when this pass is one image of a batch computed image by image (`GANTrainer.step`).
    public var draws: DrawCursor?

    public init(tape: Tape = Tape(recording: false), training: Bool = false, rng: RandomGenerator = RandomGenerator(seed: 0),
                shard: BatchShard = .whole, draws: DrawCursor? = nil) {
        self.tape = tape
        self.training = training
        self.rng = rng
        self.shard = shard
        self.draws = draws
    }

    /// A random tensor of `shape` for this pass's rows: drawn by `generate` for the whole global batch (or
    /// replayed from `draws`) and sliced; just `generate(shape)` when the pass holds the whole batch.
    public func draw(_ shape: [Int], _ generate: ([Int]) -> Tensor) -> Tensor {
        guard shard.total > 0, let n = shape.first else { return generate(shape) }
        let global = shard.globalShape(shape)
        return shard.rows(of: draws?.global(global, generate) ?? generate(global), count: n)
    }
}

/// A layer: a differentiable function with (maybe) parameters, and its ONNX form.
public protocol Layer: AnyObject {
    func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable
    /// Trainable parameters, in a fixed order, each with a unique dotted name.
    var parameters: [Variable] { get }
    /// Non-trained state saved with the weights (batch-norm running statistics).
    var buffers: [Variable] { get }
    /// Appends the inference-mode nodes computing this layer from `input`; returns the output value name.
    func export(_ builder: inout GraphBuilder, _ input: String) -> String
}

extension Layer {
    public var parameters: [Variable] { [] }
    public var buffers: [Variable] { [] }
}

/// Layers applied in order.
public final class Sequential: Layer {
    public var layers: [any Layer]
    public init(_ layers: [any Layer]) { self.layers = layers }
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        layers.reduce(x) { $1($0, ctx) }
    }
    public var parameters: [Variable] { layers.flatMap(\.parameters) }
    public var buffers: [Variable] { layers.flatMap(\.buffers) }
    public func export(_ builder: inout GraphBuilder, _ input: String) -> String {
        layers.reduce(input) { $1.export(&builder, $0) }
    }
}

/// Kaiming He initialisation (He et al. 2015): N(0, gain^2 / fan), gain^2 = 2 / (1 + a^2) for a leaky ReLU
/// of negative slope a (a = 0: ReLU). Deterministic from the generator.
public enum Initialization {
    public static func kaimingNormal(_ shape: [Int], fan: Int, negativeSlope: Float, rng: inout RandomGenerator) -> Tensor {
        let std = (2 / (1 + negativeSlope * negativeSlope) / Float(max(fan, 1))).squareRoot()
        return rng.normal(shape, std: std)
    }
}
