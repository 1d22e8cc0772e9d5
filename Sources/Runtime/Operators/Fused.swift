import ONNX
import Tensor

// Operators that only graph rewrites make (Rewrites.swift), in the package's own domain `ai.mangacolor`:
//
//   SoftmaxProjection (x, W, [B]) -> y    Softmax over axis 1 of x [N, n, ...], then the 1x1 convolution W
//                                         [m, n, 1, ...] (+ B [m]): y [N, m, ...]. The a*b*-class decoding of
//                                         this package's generators (probabilities onto bin centres) in one
//                                         pass, the n probabilities never written out.
//   InstanceNormalizationLeakyRelu        InstanceNormalization (epsilon) then LeakyRelu (alpha; 0 for Relu) in
//     (input, scale, B) -> y              the same pass over each plane (InstanceNormOperator, Normalization.swift).
//   Gelu (x) -> y                         x · (1 + erf(x / √2)) / 2, float32, one pass (FastFloat.erf).
//   FusedConv (X, W, [B]) -> Y            Conv (all its attributes) then the activation named by `activation`:
//                                         Relu, LeakyRelu (`alpha`), Clip (`min`, `max`), Sigmoid, Tanh,
//                                         HardSigmoid (`alpha`, `beta`), HardSwish — applied to each block of
//                                         the output as the convolution writes it (ConvOperator, Convolution.swift).

let fusedOperators: [Registration] = [
    Registration("SoftmaxProjection", 1...1, domain: GraphRewrites.domain) { ctx in try SoftmaxProjectionOperator(ctx) },
    Registration("InstanceNormalizationLeakyRelu", 1...1, domain: GraphRewrites.domain) { ctx in
        try InstanceNormOperator(ctx, fusedActivation: true)
    },
    Registration("Gelu", 1...1, domain: GraphRewrites.domain) { _ in
        ClosureOperator { inputs in
            let x = try inputs.required(0, "x")
            guard x.dtype == .float32 else { throw KernelError("x is \(x.dtype); the fused Gelu takes float32") }
            try requireAllocatable(x.shape, .float32)
            let y = Tensor(uninitialized: x.shape, dtype: .float32)
            let src = UnsafePointer(x.pointer(as: Float.self)), dst = y.pointer(as: Float.self)
            parallelChunks(x.count) { range in
                for i in range { dst[i] = src[i] * 0.5 * (1 + FastFloat.erf(src[i] * 0.70710678118654752)) }
            }
            return [y]
        }
    },
    Registration("FusedConv", 1...1, domain: GraphRewrites.domain) { ctx in
        try ConvOperator(ctx, activation: try fusedActivation(of: ctx.node))
    },
]

/// The activation a FusedConv node names, with its parameters.
func fusedActivation(of node: Node) throws -> FusedActivation {
    switch try node.string("activation", default: "") {
    case "Relu": return .relu
    case "LeakyRelu": return .leakyRelu(negativeSlope: try node.float("alpha", default: 0.01))
    case "Clip":
        let lower = try node.float("min", default: -.greatestFiniteMagnitude)
        let upper = try node.float("max", default: .greatestFiniteMagnitude)
        return .clip(lower: lower, upper: upper)
    case "Sigmoid": return .sigmoid
    case "Tanh": return .tanh
    case "HardSigmoid": return .hardSigmoid(alpha: try node.float("alpha", default: 0.2), beta: try node.float("beta", default: 0.5))
    case "HardSwish": return .hardSwish
    case let other:
        throw node.invalid("activation", "must be Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid or HardSwish; got \"\(other)\"")
    }
}

struct SoftmaxProjectionOperator: Operator {
    let weights: Tensor
    let bias: Tensor?

    init(_ ctx: OperatorContext) throws {
        guard let w = ctx.constant(1), w.dtype == .float32, w.rank >= 2, w.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else {
            throw ctx.node.invalid("W", "must be a constant float32 [m, n, 1, ...] projection")
        }
        weights = w
        if let b = ctx.constant(2) {
            guard b.dtype == .float32, b.shape == [w.shape[0]] else { throw ctx.node.invalid("B", "must be float32 [\(w.shape[0])]") }
            bias = b
        } else {
            bias = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "x")
        let m = weights.shape[0], n = weights.shape[1]
        guard x.dtype == .float32, x.rank == weights.rank, x.shape[1] == n else {
            throw KernelError("x is \(x.dtype) \(shapeString(x.shape)); the projection wants float32 with \(n) channels on axis 1 and rank \(weights.rank)")
        }
        var shape = x.shape
        shape[1] = m
        try requireAllocatable(shape, .float32)
        let y = Tensor(uninitialized: shape, dtype: .float32)
        let inner = x.shape.dropFirst(2).reduce(1, *)
        if x.count > 0 {
            softmaxProjectedAlongMiddleAxis(x.pointer(as: Float.self), y.pointer(as: Float.self), outer: x.shape[0], n: n,
                                            inner: inner, weights: weights.pointer(as: Float.self),
                                            bias: bias?.pointer(as: Float.self), m: m)
        }
        return [y]
    }
}
