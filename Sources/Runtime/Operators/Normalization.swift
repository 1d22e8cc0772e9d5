import Foundation
import ONNX
import Tensor

// InstanceNormalization, BatchNormalization (inference and training mode), LayerNormalization,
// GroupNormalization (18: scale/bias per group; 21: per channel), RMSNormalization, LpNormalization.
// Kernels in Tensor/Normalization.swift; other float types run through a float32 copy.

let normalizationOperators: [Registration] = [
    Registration("InstanceNormalization", since: 1) { ctx in try InstanceNormOperator(ctx) },
    Registration("BatchNormalization", since: 1) { ctx in try BatchNormOperator(ctx) },
    Registration("LayerNormalization", since: 17) { ctx in try LayerNormOperator(ctx) },
    Registration("GroupNormalization", 18...20) { ctx in try GroupNormOperator(ctx, scalePerGroup: true) },
    Registration("GroupNormalization", since: 21) { ctx in try GroupNormOperator(ctx, scalePerGroup: false) },
    Registration("RMSNormalization", since: 23) { ctx in try RMSNormOperator(ctx) },
    Registration("LpNormalization", since: 1) { ctx in try LpNormOperator(ctx) },
    Registration("MeanVarianceNormalization", since: 9) { ctx in try MeanVarianceNormOperator(ctx) },
    Registration("LRN", since: 1) { ctx in try LRNOperator(ctx) },
]

/// Checks that a per-channel parameter holds `c` elements.
private func checkChannels(_ t: Tensor, _ what: String, _ c: Int, _ x: Tensor) throws {
    guard t.count == c else {
        throw KernelError("\(what) \(shapeString(t.shape)) must hold \(c) elements, one per channel of X "
            + shapeString(x.shape))
    }
}

struct InstanceNormOperator: ShapePreserving {
    let epsilon: Float
    /// The LeakyRelu slope of the fused `ai.mangacolor.InstanceNormalizationLeakyRelu` (Fused.swift); nil: none.
    let negativeSlope: Float?
    init(_ ctx: OperatorContext, fusedActivation: Bool = false) throws {
        epsilon = try ctx.node.float("epsilon", default: 1e-5)
        negativeSlope = fusedActivation ? try ctx.node.float("alpha", default: 0.01) : nil
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "input")
        let scale = try inputs.required(1, "scale"), bias = try inputs.required(2, "B")
        try requireNumeric(input, "input")
        guard input.rank >= 2 else { throw KernelError("input \(shapeString(input.shape)) needs (N, C, ...)") }
        try checkChannels(scale, "scale", input.shape[1], input)
        try checkChannels(bias, "B", input.shape[1], input)
        let y = instanceNormForward(input.float32ForKernel(), scale: scale.float32ForKernel(),
                                    bias: bias.float32ForKernel(), epsilon: epsilon, negativeSlope: negativeSlope).output
        return [y.kernelResult(as: input.dtype)]
    }
}

/// BatchNormalization. Inference uses the given mean and variance. Training mode (opset 14+:
/// training_mode = 1; before 14: the node asks for the extra outputs and, before 7, is_test = 0) uses the
/// batch statistics and outputs the updated running statistics (before 14 also the batch mean and variance).
struct BatchNormOperator: ShapePreserving {
    let epsilon: Float
    let momentum: Float
    let training: Bool
    /// Opset < 14 training outputs: Y, running mean, running var, saved mean, saved var.
    let legacyOutputs: Bool

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        epsilon = try node.float("epsilon", default: 1e-5)
        momentum = try node.float("momentum", default: 0.9)
        let extraOutputs = node.outputs.dropFirst().contains { !$0.isEmpty }
        if ctx.opset >= 14 {
            training = try node.int("training_mode", default: 0) != 0
        } else if ctx.opset < 7 {
            training = try node.int("is_test", default: 0) == 0 && extraOutputs
        } else {
            training = extraOutputs
        }
        legacyOutputs = ctx.opset < 14
        if ctx.opset < 9, try node.int("spatial", default: 1) == 0 {
            throw node.invalid("spatial", "0 (per-element statistics) is not supported; re-export with spatial = 1")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 2 else { throw KernelError("X \(shapeString(input.shape)) needs (N, C, ...)") }
        let c = input.shape[1]
        let names = ["scale", "B", "input_mean", "input_var"]
        var params = [Tensor]()
        for (i, name) in names.enumerated() {
            let t = try inputs.required(i + 1, name)
            try checkChannels(t, name, c, input)
            params.append(t.float32ForKernel())
        }
        let x = input.float32ForKernel()
        if !training {
            let y = batchNormInference(x, scale: params[0], bias: params[1], mean: params[2], variance: params[3],
                                       epsilon: epsilon)
            return [y.kernelResult(as: input.dtype)]
        }
        let r = batchNormTrainingForward(x, scale: params[0], bias: params[1], runningMean: params[2],
                                         runningVariance: params[3], momentum: momentum, epsilon: epsilon)
        let statsType = inputs[3]?.dtype ?? input.dtype
        var outputs = [r.output.kernelResult(as: input.dtype), r.runningMean.kernelResult(as: statsType),
                       r.runningVariance.kernelResult(as: statsType)]
        if legacyOutputs {
            outputs += [r.mean.kernelResult(as: statsType), r.variance.kernelResult(as: statsType)]
        }
        return outputs
    }
}

/// `t` (float32) broadcast (numpy rules, t's rank <= shape's rank) to `shape`.
private func broadcastFloats(_ t: Tensor, to shape: [Int]) throws -> Tensor {
    if t.shape == shape { return t }
    let count = shape.reduce(1, *)
    if t.count == count { return t.reshaped(shape) }
    guard t.rank <= shape.count else {
        throw KernelError("cannot broadcast \(shapeString(t.shape)) to \(shapeString(shape))")
    }
    let padded = Array(repeating: 1, count: shape.count - t.rank) + t.shape
    for (a, b) in zip(padded, shape) where a != b && a != 1 {
        throw KernelError("cannot broadcast \(shapeString(t.shape)) to \(shapeString(shape))")
    }
    let srcStrides = Tensor.strides(of: padded).enumerated().map { padded[$0.offset] == 1 ? 0 : $0.element }
    let dstStrides = Tensor.strides(of: shape)
    let out = Tensor(uninitialized: shape, dtype: .float32)
    let src = t.pointer(as: Float.self), dst = out.pointer(as: Float.self)
    for i in 0..<count {
        var rest = i, offset = 0
        for d in 0..<shape.count {
            offset += (rest / dstStrides[d]) * srcStrides[d]
            rest %= dstStrides[d]
        }
        dst[i] = src[offset]
    }
    return out
}

struct LayerNormOperator: ShapePreserving {
    let axis: Int
    let epsilon: Float

    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: -1)
        epsilon = try ctx.node.float("epsilon", default: 1e-5)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        let a = try normalizeAxis(axis, rank: input.rank)
        let normalized = Array(input.shape[a...])
        let scale = try broadcastFloats(try inputs.required(1, "Scale").float32ForKernel(), to: normalized)
        let bias = try inputs.optional(2).map { try broadcastFloats($0.float32ForKernel(), to: normalized) }
        let r = layerNormForward(input.float32ForKernel(), scale: scale, bias: bias, axis: a, epsilon: epsilon)
        return [r.output.kernelResult(as: input.dtype), r.mean, r.invStd]
    }
}

struct GroupNormOperator: ShapePreserving {
    let groups: Int
    let epsilon: Float
    let scalePerGroup: Bool

    init(_ ctx: OperatorContext, scalePerGroup: Bool) throws {
        guard let g = try ctx.node.int("num_groups") else { throw ctx.node.missing("num_groups") }
        guard g > 0 else { throw ctx.node.invalid("num_groups", "must be positive; got \(g)") }
        groups = g
        epsilon = try ctx.node.float("epsilon", default: 1e-5)
        self.scalePerGroup = scalePerGroup
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 2 else { throw KernelError("X \(shapeString(input.shape)) needs (N, C, ...)") }
        let c = input.shape[1]
        guard c % groups == 0 else {
            throw KernelError("X has \(c) channels, which do not split into num_groups = \(groups) groups")
        }
        var params = [Tensor]()
        for (i, name) in ["scale", "bias"].enumerated() {
            let t = try inputs.required(i + 1, name).float32ForKernel()
            if scalePerGroup {
                guard t.count == groups else {
                    throw KernelError("\(name) \(shapeString(t.shape)) must hold num_groups = \(groups) elements (opset 18)")
                }
                // One value per group, repeated over the group's channels.
                let values = t.scalars(as: Float.self)
                params.append(Tensor(shape: [c], floats: (0..<c).map { values[$0 / (c / groups)] }))
            } else {
                try checkChannels(t, name, c, input)
                params.append(t)
            }
        }
        let y = groupNormForward(input.float32ForKernel(), groups: groups, scale: params[0], bias: params[1],
                                 epsilon: epsilon).output
        return [y.kernelResult(as: input.dtype)]
    }
}

/// RMSNormalization (23): y = x / sqrt(mean(x^2 over axis...) + epsilon) * scale.
struct RMSNormOperator: ShapePreserving {
    let axis: Int
    let epsilon: Float

    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: -1)
        epsilon = try ctx.node.float("epsilon", default: 1e-5)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        let a = try normalizeAxis(axis, rank: input.rank)
        let normalized = Array(input.shape[a...])
        let scale = try broadcastFloats(try inputs.required(1, "scale").float32ForKernel(), to: normalized)
        let x = input.float32ForKernel()
        let m = normalized.reduce(1, *), rows = m == 0 ? 0 : x.count / m
        let y = Tensor(uninitialized: x.shape, dtype: .float32)
        let xp = x.pointer(as: Float.self), yp = y.pointer(as: Float.self), sp = scale.pointer(as: Float.self)
        for r in 0..<rows {
            var s = 0.0
            for i in 0..<m { let v = Double(xp[r * m + i]); s += v * v }
            let k = Float(1 / (s / Double(m) + Double(epsilon)).squareRoot())
            for i in 0..<m { yp[r * m + i] = xp[r * m + i] * k * sp[i] }
        }
        return [y.kernelResult(as: input.dtype)]
    }
}

/// LpNormalization: x / ||x||_p along `axis` (p = 1 or 2); a zero norm leaves zeros.
struct LpNormOperator: ShapePreserving {
    let axis: Int
    let p: Int

    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: -1)
        p = try ctx.node.int("p", default: 2)
        guard p == 1 || p == 2 else { throw ctx.node.invalid("p", "must be 1 or 2; got \(p)") }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "input")
        try requireNumeric(input, "input")
        let a = try normalizeAxis(axis, rank: input.rank)
        let x = input.float32ForKernel()
        let n = input.rank == 0 ? 1 : x.shape[a]
        let inner = x.shape.dropFirst(a + 1).reduce(1, *), outer = x.shape.prefix(a).reduce(1, *)
        let y = Tensor(uninitialized: x.shape, dtype: .float32)
        let xp = x.pointer(as: Float.self), yp = y.pointer(as: Float.self)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var s = 0.0
                for k in 0..<n {
                    let v = Double(xp[base + k * inner])
                    s += p == 1 ? abs(v) : v * v
                }
                let norm = p == 1 ? s : s.squareRoot()
                for k in 0..<n { yp[base + k * inner] = norm == 0 ? 0 : Float(Double(xp[base + k * inner]) / norm) }
            }
        }
        return [y.kernelResult(as: input.dtype)]
    }
}

/// MeanVarianceNormalization: (X - E[X]) / (sqrt(E[(X - E[X])^2]) + 1e-9), the expectations over `axes`
/// (default [0, 2, 3]), as the ONNX function body defines it.
struct MeanVarianceNormOperator: ShapePreserving {
    let axes: [Int]

    init(_ ctx: OperatorContext) throws { axes = try ctx.node.ints("axes") ?? [0, 2, 3] }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 1 else { throw KernelError("X must have at least one dimension") }
        var reduced = [Bool](repeating: false, count: input.rank)
        for axis in axes { reduced[try normalizeAxis(axis, rank: input.rank)] = true }
        // Slot of each element: its index with the reduced dimensions dropped.
        let shape = input.shape
        let keptShape = zip(shape, reduced).map { $1 ? 1 : $0 }
        let keptStrides = Tensor.strides(of: keptShape), strides = Tensor.strides(of: shape)
        let x = input.float32ForKernel()
        let xp = x.pointer(as: Float.self)
        let slots = keptShape.reduce(1, *), n = x.count
        var slot = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var rest = i, o = 0
            for d in 0..<shape.count {
                let k = rest / strides[d]
                rest %= strides[d]
                if !reduced[d] { o += k * keptStrides[d] }
            }
            slot[i] = o
        }
        var sum = [Double](repeating: 0, count: slots), count = sum, sq = sum
        for i in 0..<n { sum[slot[i]] += Double(xp[i]); count[slot[i]] += 1 }
        for s in 0..<slots { sum[s] /= max(count[s], 1) }
        for i in 0..<n { let d = Double(xp[i]) - sum[slot[i]]; sq[slot[i]] += d * d }
        let y = Tensor(uninitialized: x.shape, dtype: .float32)
        let yp = y.pointer(as: Float.self)
        for i in 0..<n {
            let s = slot[i]
            yp[i] = Float((Double(xp[i]) - sum[s]) / ((sq[s] / max(count[s], 1)).squareRoot() + 1e-9))
        }
        return [y.kernelResult(as: input.dtype)]
    }
}

/// LRN over channels of (N, C, H, W): y = x / (bias + alpha / size * sum of x^2 over the channels
/// [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)])^beta.
struct LRNOperator: ShapePreserving {
    let alpha: Float
    let beta: Float
    let bias: Float
    let size: Int

    init(_ ctx: OperatorContext) throws {
        alpha = try ctx.node.float("alpha", default: 1e-4)
        beta = try ctx.node.float("beta", default: 0.75)
        bias = try ctx.node.float("bias", default: 1)
        guard let size = try ctx.node.int("size") else { throw ctx.node.missing("size") }
        guard size > 0 else { throw ctx.node.invalid("size", "must be positive; got \(size)") }
        self.size = size
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 2 else { throw KernelError("X \(shapeString(input.shape)) needs (N, C, ...)") }
        let x = input.float32ForKernel()
        let n = x.shape[0], c = x.shape[1], m = x.shape.dropFirst(2).reduce(1, *)
        let before = (size - 1) / 2, after = (size - 1 + 1) / 2
        let y = Tensor(uninitialized: x.shape, dtype: .float32)
        let xp = x.pointer(as: Float.self), yp = y.pointer(as: Float.self)
        for b in 0..<n {
            for ch in 0..<c {
                let lo = max(0, ch - before), hi = min(c - 1, ch + after)
                for i in 0..<m {
                    var s: Float = 0
                    for k in lo...hi { let v = xp[(b * c + k) * m + i]; s += v * v }
                    let idx = (b * c + ch) * m + i
                    yp[idx] = xp[idx] / Float(pow(Double(bias + alpha / Float(size) * s), Double(beta)))
                }
            }
        }
        return [y.kernelResult(as: input.dtype)]
    }
}
