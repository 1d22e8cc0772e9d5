import CKernels
import Foundation
import ONNX
import Tensor

// Operators that only graph rewrites make (Rewrites.swift), in the package's own domain `ai.mangacolor`:
//
//   SoftmaxProjection (x, W, [B]) -> y    Softmax over axis 1 of x [N, n, ...], then the 1x1 convolution W
//                                         [m, n, 1, ...] (+ B [m]): y [N, m, ...]. The a*b*-class decoding of
//                                         this package's generators (probabilities onto bin centres) in one
//                                         pass, the n probabilities never written out.
//   ConvSoftmaxProjection                 a 2-D Conv (stride 1, dilation 1, group 1; its pads and kernel) then
//     (X, Wc, [Bc], W, [B]) -> y          SoftmaxProjection, a band of output rows at a time: the logits are
//                                         never whole (ConvSoftmaxProjectionOperator).
//   InstanceNormalizationLeakyRelu        InstanceNormalization (epsilon) then LeakyRelu (alpha; 0 for Relu) in
//     (input, scale, B) -> y              the same pass over each plane (InstanceNormOperator, Normalization.swift).
//   Gelu (x) -> y                         x · (1 + erf(x / √2)) / 2, float32, one pass (FastFloat.erf's formula, C kernel).
//   Silu (x) -> y                         x · sigmoid(x), one pass (float32: the C kernel, FastFloat's formula).
//   HardSwish (x) -> y                    x · max(0, min(1, x/6 + 1/2)) for opsets before ONNX's HardSwish (14).
//   MatMulAdd (A, B, bias) -> Y           A [..., K] times the matrix B [K, N] plus bias [N], float32: Y [..., N].
//   MeanVarianceNormalization (x) -> y    (x - mean) / sqrt(var + `epsilon`) over `axes` (biased variance).
//   FusedConv (X, W, [B]) -> Y            Conv (all its attributes) then the activation named by `activation`:
//                                         Relu, LeakyRelu (`alpha`), Clip (`min`, `max`), Sigmoid, Tanh,
//                                         HardSigmoid (`alpha`, `beta`), HardSwish, Silu — applied to each block of
//                                         the output as the convolution writes it (ConvOperator, Convolution.swift).

let fusedOperators: [Registration] = [
    Registration("SoftmaxProjection", 1...1, domain: GraphRewrites.domain) { ctx in try SoftmaxProjectionOperator(ctx) },
    Registration("ConvSoftmaxProjection", 1...1, domain: GraphRewrites.domain) { ctx in try ConvSoftmaxProjectionOperator(ctx) },
    Registration("InstanceNormalizationLeakyRelu", 1...1, domain: GraphRewrites.domain) { ctx in
        try InstanceNormOperator(ctx, fusedActivation: true)
    },
    Registration("Gelu", 1...1, domain: GraphRewrites.domain) { _ in
        ClosureOperator { inputs in
            let x = try inputs.required(0, "x")
            guard x.dtype == .float32 else { throw KernelError("x is \(x.dtype); the fused Gelu takes float32") }
            try requireAllocatable(x.shape, .float32)
            return [geluForward(x)]
        }
    },
    Registration("Silu", 1...1, domain: GraphRewrites.domain) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "x")
            try requireAllocatable(x.shape, x.dtype)
            guard x.dtype == .float32 else {
                // Other floating types (the unfused Sigmoid and Mul accept them): in Double, then the input's type.
                guard x.dtype.isFloatingPoint else { throw KernelError("x is \(x.dtype); Silu takes a floating-point tensor") }
                return [try withKernelErrors { try Tensor(shape: x.shape, scalars: x.doubles().map { $0 / (1 + exp(-$0)) }).converted(to: x.dtype) }]
            }
            return [siluForward(x)]
        }
    },
    Registration("HardSwish", 1...1, domain: GraphRewrites.domain) { _ in
        // The hard-swish rewrite's node: float32 through the C kernel, other floating types as the ONNX op does.
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "x")
            try requireAllocatable(x.shape, x.dtype)
            guard x.dtype == .float32 else { return [try mapFloating(x, HardSwishMap(), op: "HardSwish")] }
            return [hardSwishForward(x)]
        }
    },
    Registration("MatMulAdd", 1...1, domain: GraphRewrites.domain) { _ in MatMulAddOperator() },
    Registration("MeanVarianceNormalization", 1...1, domain: GraphRewrites.domain) { ctx in
        let axes = try ctx.node.ints("axes") ?? []
        let epsilon = try ctx.node.float("epsilon", default: 1e-5)
        return ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "x")
            guard x.dtype == .float32 else { throw KernelError("x is \(x.dtype); the fused MeanVarianceNormalization takes float32") }
            try requireAllocatable(x.shape, .float32)
            return [try meanVarianceNormalized(x, axes: axes, epsilon: epsilon)]
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
    case "Silu": return .silu
    case let other:
        throw node.invalid("activation", "must be Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, HardSwish or Silu; got \"\(other)\"")
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

struct ConvSoftmaxProjectionOperator: Operator {
    let conv: ConvOperator
    let projection: SoftmaxProjectionOperator
    /// Logits per band, at most (a band is at least one row).
    var bandFloats = 1 << 18

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        guard node.inputs.count == 5 else { throw KernelError("ConvSoftmaxProjection takes (X, Wc, Bc, W, B); got \(node.inputs.count) inputs") }
        let convNode = Node(name: node.name, opType: "Conv", inputs: Array(node.inputs[0..<3]), outputs: node.outputs,
                            attributes: node.attributes)
        conv = try ConvOperator(OperatorContext(node: convNode, opset: 11, constants: Array(ctx.constants.prefix(3))))
        let projectionNode = Node(name: node.name, opType: "SoftmaxProjection", domain: node.domain,
                                  inputs: [node.inputs[0], node.inputs[3], node.inputs[4]], outputs: node.outputs)
        let constants = [nil, ctx.constant(3), ctx.constant(4)]
        projection = try SoftmaxProjectionOperator(OperatorContext(node: projectionNode, opset: 1, constants: constants))
        guard let w = ctx.constant(1), w.dtype == .float32, w.rank == 4, w.shape[0] == projection.weights.shape[1],
              projection.weights.rank == 4 else {
            throw ctx.node.invalid("Wc", "must be a constant float32 [n, C, KH, KW] with one output per projection input")
        }
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil, shapes.count > 1, let w = shapes[1] else { return [] }
        var y = try conv.output(inputShape: x, weightShape: w).1
        y[1] = projection.weights.shape[0]
        return [y]
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double {
        guard let w = inputs.optional(1), let y = outputs.first else { return 0 }
        return 2 * Double(y.count / max(1, y.shape[1]) * w.shape[0]) * Double(w.shape.dropFirst().reduce(1, *))
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X"), wc = try inputs.required(1, "Wc")
        let bc = inputs.optional(2)
        guard x.dtype == .float32, x.rank == 4 else { throw KernelError("X is \(x.dtype) \(shapeString(x.shape)); expected float32 [N, C, H, W]") }
        let (g, logitShape) = try conv.output(inputShape: x.shape, weightShape: wc.shape)
        guard g.strides == [1, 1], g.dilations == [1, 1], g.group == 1 else {
            throw KernelError("ConvSoftmaxProjection needs stride 1, dilation 1 and group 1; got \(g)")
        }
        let (n, c, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (logits, oh, ow) = (logitShape[1], logitShape[2], logitShape[3])
        let m = projection.weights.shape[0], kh = g.kernelShape[0], top = g.padsBegin[0]
        try requireAllocatable([n, m, oh, ow], .float32)
        let y = Tensor(uninitialized: [n, m, oh, ow])
        guard y.count > 0 else { return [y] }
        let band = max(1, min(oh, bandFloats / max(1, logits * ow)))
        let bandGeometry = ConvolutionGeometry(kernelShape: g.kernelShape, strides: [1, 1], dilations: [1, 1],
                                               padsBegin: [0, g.padsBegin[1]], padsEnd: [0, g.padsEnd[1]], group: 1)
        let xp = x.pointer(as: Float.self), yp = y.pointer(as: Float.self)
        for image in 0..<n {
            for r0 in stride(from: 0, to: oh, by: band) {
                let rows = min(band, oh - r0), inRows = rows + kh - 1
                // The input rows this band of outputs reads, zeros where they fall in the padding.
                let slab = Tensor(zeros: [1, c, inRows, width])
                let sp = slab.pointer(as: Float.self)
                for ch in 0..<c {
                    for j in 0..<inRows {
                        let iy = r0 - top + j
                        guard iy >= 0, iy < h else { continue }
                        (sp + (ch * inRows + j) * width).update(from: xp + ((image * c + ch) * h + iy) * width, count: width)
                    }
                }
                let part = conv2dForward(x: slab, weight: wc, bias: bc, geometry: bandGeometry)
                let projected = Tensor(uninitialized: [m, rows * ow])
                softmaxProjectedAlongMiddleAxis(part.pointer(as: Float.self), projected.pointer(as: Float.self), outer: 1,
                                                n: logits, inner: rows * ow, weights: projection.weights.pointer(as: Float.self),
                                                bias: projection.bias?.pointer(as: Float.self), m: m)
                let pp = projected.pointer(as: Float.self)
                for k in 0..<m {
                    (yp + ((image * m + k) * oh + r0) * ow).update(from: pp + k * rows * ow, count: rows * ow)
                }
            }
        }
        return [y]
    }
}

/// (x - mean) / sqrt(var + epsilon) over `axes` of a float32 tensor: rows of the trailing axes through
/// `mc_normalize_rows` over the threads; other axes are moved to the end first and back after.
func meanVarianceNormalized(_ x: Tensor, axes: [Int], epsilon: Float) throws -> Tensor {
    let rank = x.rank
    let reduced = Set(try axes.map { try normalizeAxis($0, rank: rank) })
    guard !reduced.isEmpty else { throw KernelError("MeanVarianceNormalization needs at least one axis") }
    let kept = (0..<rank).filter { !reduced.contains($0) }, moved = reduced.sorted()
    let perm = kept + moved
    let trailing = perm == Array(0..<rank)
    let source = trailing ? x : transposed(x, perm: perm)
    let n = moved.map { x.shape[$0] }.reduce(1, *), rows = n == 0 ? 0 : x.count / n
    let y = Tensor(uninitialized: source.shape, dtype: .float32)
    nonisolated(unsafe) let (from, to) = (UnsafePointer(source.pointer(as: Float.self)), y.pointer(as: Float.self))
    parallelChunks(rows, minimumChunk: max(1, (1 << 14) / max(n, 1))) { range in
        mc_normalize_rows(from + range.lowerBound * n, to + range.lowerBound * n, range.count, n, epsilon)
    }
    guard !trailing else { return y }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, p) in perm.enumerated() { inverse[p] = i }
    return transposed(y, perm: inverse)
}

/// The matmul-add rewrite's node: y = A B + bias, A [..., K] (or [K]), B [K, N], bias [N]; float32.
struct MatMulAddOperator: Operator {
    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard shapes.count >= 2, let a = shapes[0], let b = shapes[1] else { return [] }
        return [try Self.output(a, b)]
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double {
        guard let b = inputs.optional(1), b.rank == 2, let y = outputs.first else { return 0 }
        return 2 * Double(y.count) * Double(b.shape[0])
    }

    static func output(_ a: [Int], _ b: [Int]) throws -> [Int] {
        guard b.count == 2, let k = a.last, k == b[0] else {
            throw KernelError("A \(shapeString(a)) and B \(shapeString(b)) do not multiply: B must be [\(a.last ?? 0), N]")
        }
        return Array(a.dropLast()) + [b[1]]
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B"), bias = try inputs.required(2, "bias")
        guard a.dtype == .float32, b.dtype == .float32, bias.dtype == .float32 else {
            throw KernelError("MatMulAdd takes float32 tensors; got \(a.dtype), \(b.dtype), \(bias.dtype)")
        }
        let shape = try Self.output(a.shape, b.shape)
        let (k, n) = (b.shape[0], b.shape[1])
        guard bias.count == n else { throw KernelError("bias \(shapeString(bias.shape)) must have \(n) entries") }
        try requireAllocatable(shape, .float32)
        let y = Tensor(uninitialized: shape, dtype: .float32)
        let rows = n == 0 ? 0 : y.count / n
        let yp = y.pointer(as: Float.self), bp = bias.pointer(as: Float.self)
        for r in 0..<rows { (yp + r * n).update(from: bp, count: n) }
        if rows > 0 && n > 0 {
            sgemm(transposeA: false, transposeB: false, m: rows, n: n, k: k, alpha: 1, a: a.pointer(as: Float.self), lda: k,
                  b: b.pointer(as: Float.self), ldb: n, beta: 1, c: yp, ldc: n)
        }
        return [y]
    }
}

