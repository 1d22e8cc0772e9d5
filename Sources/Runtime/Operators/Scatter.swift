import ONNX
import Tensor

// Index-driven reads and writes: GatherND, ScatterND, ScatterElements (and its old name Scatter).

let scatterOperators: [Registration] = [
    Registration("GatherND", since: 11) { ctx in try GatherNDOperator(ctx) },
    Registration("ScatterND", since: 11) { ctx in try ScatterNDOperator(ctx) },
    Registration("ScatterElements", since: 11) { ctx in try ScatterElementsOperator(ctx) },
    // Deprecated from opset 11 (renamed ScatterElements), still accepted there.
    Registration("Scatter", since: 9) { ctx in try ScatterElementsOperator(ctx) },
    Registration("TensorScatter", since: 24) { ctx in try TensorScatterOperator(ctx) },
]

/// How scattered updates combine with the values already there (`reduction`, opset 16+).
enum ScatterReduction: String {
    case none, add, mul, max, min

    init(_ ctx: OperatorContext) throws {
        let name = try ctx.node.string("reduction", default: "none")
        guard let r = ScatterReduction(rawValue: name), ctx.opset >= 18 || (r != .max && r != .min) else {
            throw ctx.node.invalid("reduction", "must be none, add, mul\(ctx.opset >= 18 ? ", max or min" : ""); got \"\(name)\"")
        }
        self = r
    }

    func apply(_ old: Double, _ new: Double) -> Double {
        switch self {
        case .none: new
        case .add: old + new
        case .mul: old * new
        case .max: Swift.max(old, new)
        case .min: Swift.min(old, new)
        }
    }
}

/// Writes `updates` into a copy of `data`: run i (of `length` elements) to element offset `targets[i]`.
func scattered(_ data: Tensor, _ updates: Tensor, targets: [Int], length: Int, reduction: ScatterReduction) throws -> Tensor {
    guard updates.dtype == data.dtype else { throw KernelError("updates are \(updates.dtype), data is \(data.dtype)") }
    if reduction == .none {
        let out = data.copy()
        copyElementRuns(from: updates, targets.indices.map { $0 * length }, to: out, targets, length: length)
        return out
    }
    guard data.dtype != .string && data.dtype != .bool else {
        throw KernelError("reduction \(reduction.rawValue) needs numeric data, got \(data.dtype)")
    }
    var values = data.doubles()
    let u = updates.doubles()
    for (i, t) in targets.enumerated() {
        for k in 0..<length { values[t + k] = reduction.apply(values[t + k], u[i * length + k]) }
    }
    return tensorFromDoubles(values, shape: data.shape, dtype: data.dtype, rounding: false)
}

/// Element offsets of the index tuples in the last axis of `indices` (after `batchDims` shared leading
/// axes), each addressing a slice of `data`. Returns the offsets and the slice length.
func indexTupleOffsets(_ data: Tensor, _ indices: Tensor, batchDims b: Int) throws -> (offsets: [Int], length: Int) {
    guard b >= 0, b <= data.rank, indices.rank >= 1, let m = indices.shape.last, m <= data.rank - b else {
        throw KernelError("indices \(shapeString(indices.shape)) do not index data \(shapeString(data.shape)) with batch_dims \(b)")
    }
    guard indices.rank > b, Array(indices.shape.prefix(b)) == Array(data.shape.prefix(b)) else {
        throw KernelError("the first \(b) dimensions of indices \(shapeString(indices.shape)) and data \(shapeString(data.shape)) differ")
    }
    let strides = data.strides
    let length = data.shape[(b + m)...].reduce(1, *)
    let batchSize = b == 0 ? data.count : strides[b - 1]
    let tuplesPerBatch = indices.shape[b..<(indices.rank - 1)].reduce(1, *)
    let flat = indices.ints()
    var offsets: [Int] = []
    offsets.reserveCapacity(flat.count / max(m, 1))
    for t in 0..<indices.shape.dropLast().reduce(1, *) {
        var offset = (t / max(tuplesPerBatch, 1)) * batchSize
        for d in 0..<m {
            let n = data.shape[b + d]
            var i = flat[t * m + d]
            guard i >= -n && i < n else { throw KernelError("index \(i) is out of range for axis \(b + d) of size \(n)") }
            if i < 0 { i += n }
            offset += i * strides[b + d]
        }
        offsets.append(offset)
    }
    return (offsets, length)
}

/// GatherND: slices of `data` addressed by the index tuples in the last axis of `indices`.
/// Shapes: data [B..., d...], indices [B..., k..., m] -> [B..., k..., d(b+m)...].
struct GatherNDOperator: Operator {
    let batchDims: Int
    init(_ ctx: OperatorContext) throws { batchDims = try ctx.node.int("batch_dims", default: 0) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices")
        let (offsets, length) = try indexTupleOffsets(data, indices, batchDims: batchDims)
        let m = indices.shape.last ?? 0
        let shape = Array(indices.shape.dropLast()) + Array(data.shape[(batchDims + m)...])
        let out = Tensor(uninitialized: shape, dtype: data.dtype)
        copyElementRuns(from: data, offsets, to: out, offsets.indices.map { $0 * length }, length: length)
        return [out]
    }
}

/// ScatterND: a copy of `data` with the slices addressed by `indices` replaced by (or reduced with)
/// `updates`. Shapes: data [d...], indices [k..., m], updates [k..., d(m)...] -> [d...].
struct ScatterNDOperator: Operator {
    let reduction: ScatterReduction
    init(_ ctx: OperatorContext) throws { reduction = try ScatterReduction(ctx) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices")
        let updates = try inputs.required(2, "updates")
        let (targets, length) = try indexTupleOffsets(data, indices, batchDims: 0)
        guard updates.count == targets.count * length else {
            throw KernelError("updates \(shapeString(updates.shape)) do not match indices \(shapeString(indices.shape)) into data \(shapeString(data.shape))")
        }
        return [try scattered(data, updates, targets: targets, length: length, reduction: reduction)]
    }
}

/// ScatterElements: out = data, then out[..., indices[i, j, ...], ...] = updates[i, j, ...] along `axis`.
struct ScatterElementsOperator: Operator {
    let axis: Int
    let reduction: ScatterReduction
    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: 0)
        reduction = try ScatterReduction(ctx)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices")
        let updates = try inputs.required(2, "updates")
        let a = try normalizeAxis(axis, rank: data.rank)
        guard indices.shape == updates.shape, indices.rank == data.rank else {
            throw KernelError("indices \(shapeString(indices.shape)) and updates \(shapeString(updates.shape)) must have one shape, of data's rank \(data.rank)")
        }
        for d in 0..<data.rank where d != a && indices.shape[d] > data.shape[d] {
            throw KernelError("indices \(shapeString(indices.shape)) exceed data \(shapeString(data.shape)) on axis \(d)")
        }
        let targets = elementOffsets(try normalizedIndices(indices, count: data.shape[a], axis: axis),
                                     indicesShape: indices.shape, dataStrides: data.strides, axis: a)
        return [try scattered(data, updates, targets: targets, length: 1, reduction: reduction)]
    }
}

/// TensorScatter (opset 24): writes `update` into a copy of the cache along `axis` (default -2, the
/// sequence axis), starting for batch entry b at write_indices[b] (0 when omitted); `circular` wraps.
/// Shapes: past_cache [B, ..., S_max, ...], update [B, ..., S, ...] -> [B, ..., S_max, ...].
struct TensorScatterOperator: Operator {
    let axis: Int
    let circular: Bool
    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: -2)
        let mode = try ctx.node.string("mode", default: "linear")
        guard mode == "linear" || mode == "circular" else {
            throw ctx.node.invalid("mode", "must be linear or circular; got \"\(mode)\"")
        }
        circular = mode == "circular"
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let cache = try inputs.required(0, "past_cache"), update = try inputs.required(1, "update")
        let a = try normalizeAxis(axis, rank: cache.rank)
        guard a > 0, update.rank == cache.rank, update.dtype == cache.dtype,
              (0..<cache.rank).allSatisfy({ $0 == a ? update.shape[$0] <= cache.shape[$0] : update.shape[$0] == cache.shape[$0] }) else {
            throw KernelError("update \(shapeString(update.shape)) does not fit cache \(shapeString(cache.shape)) along axis \(axis)")
        }
        let batch = cache.shape[0]
        let starts = inputs.optional(2)?.ints() ?? Array(repeating: 0, count: batch)
        guard starts.count == batch else { throw KernelError("write_indices has \(starts.count) entries for batch \(batch)") }
        let outer = cache.shape[0..<a].reduce(1, *), inner = cache.shape[(a + 1)...].reduce(1, *)
        let capacity = cache.shape[a], length = update.shape[a]
        let perBatch = outer / max(batch, 1)
        var from: [Int] = [], to: [Int] = []
        for o in 0..<outer {
            // Reduced first, so that start + s cannot overflow (a crafted write index may be 2^62).
            let start = circular && capacity > 0 ? starts[o / max(perBatch, 1)] % capacity : starts[o / max(perBatch, 1)]
            guard circular || (start >= 0 && start <= capacity) else {
                throw KernelError("write index \(start) is outside the cache's \(capacity) slots")
            }
            for s in 0..<length {
                var position = start + s
                if circular { position = ((position % capacity) + capacity) % capacity }
                guard position >= 0 && position < capacity else {
                    throw KernelError("write position \(position) is outside the cache's \(capacity) slots")
                }
                from.append((o * length + s) * inner)
                to.append((o * capacity + position) * inner)
            }
        }
        let out = cache.copy()
        copyElementRuns(from: update, from, to: out, to, length: inner)
        return [out]
    }
}
