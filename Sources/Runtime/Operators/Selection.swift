import ONNX
import Tensor

// Selection by condition or position: Compress, NonZero, Trilu, OneHot, ReverseSequence.

let selectionOperators: [Registration] = [
    Registration("Compress", since: 9) { ctx in try CompressOperator(ctx) },
    Registration("NonZero", since: 9) { _ in NonZeroOperator() },
    Registration("Trilu", since: 14) { ctx in try TriluOperator(ctx) },
    Registration("OneHot", since: 9) { ctx in try OneHotOperator(ctx) },
    Registration("ReverseSequence", since: 10) { ctx in try ReverseSequenceOperator(ctx) },
]

/// Compress: the slices along `axis` whose `condition` entry is true (the flattened input without an
/// axis). The condition may be shorter than the axis; missing entries count as false.
struct CompressOperator: Operator {
    let axis: Int?
    init(_ ctx: OperatorContext) throws { axis = try ctx.node.int("axis") }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var x = try inputs.required(0, "input")
        let condition = try inputs.required(1, "condition").doubles()
        var a = 0
        if let axis {
            guard x.rank >= 1 else { throw KernelError("axis \(axis) needs an input of rank 1 or more, got a scalar") }
            a = try normalizeAxis(axis, rank: x.rank)
        } else { x = x.reshaped([x.count]) }
        guard condition.count <= x.shape[a] else {
            throw KernelError("condition has \(condition.count) entries for an axis of size \(x.shape[a])")
        }
        let keep = condition.indices.filter { condition[$0] != 0 }
        return [gathered(x, axis: a, indices: keep, indicesShape: [keep.count])]
    }
}

/// NonZero: the coordinates of the non-zero elements, int64 [rank, count], in row-major order.
struct NonZeroOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let values = x.doubles()
        let hits = values.indices.filter { values[$0] != 0 }
        let strides = x.strides
        let r = x.rank
        var out = [Int64](repeating: 0, count: r * hits.count)
        for (j, flat) in hits.enumerated() {
            for d in 0..<r { out[d * hits.count + j] = Int64((flat / strides[d]) % x.shape[d]) }
        }
        return [Tensor(shape: [r, hits.count], scalars: out)]
    }
}

/// Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two axes, zeroing
/// the rest. Shapes: [..., N, M] -> same.
struct TriluOperator: Operator {
    let upper: Bool
    init(_ ctx: OperatorContext) throws { upper = try ctx.node.int("upper", default: 1) != 0 }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let requestedK = inputs.optional(1)?.ints().first ?? 0
        guard x.rank >= 2, x.dtype != .string else {
            throw KernelError("input \(shapeString(x.shape)) must be a numeric tensor of rank 2 or more")
        }
        let out = x.copy()
        let (n, m) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        // Any |k| past n + m selects all or nothing; clamping keeps i + k from overflowing.
        let k = min(max(requestedK, -(n + m)), n + m)
        let size = x.dtype.size
        let matrices = n * m == 0 ? 0 : x.count / (n * m)
        for b in 0..<matrices {
            for i in 0..<n {
                // Zero the columns [from, to) of row i.
                let (from, to) = upper ? (0, min(max(i + k, 0), m)) : (min(max(i + k + 1, 0), m), m)
                if to > from {
                    (out.storage.pointer + ((b * n + i) * m + from) * size)
                        .initializeMemory(as: UInt8.self, repeating: 0, count: (to - from) * size)
                }
            }
        }
        return [out]
    }
}

/// OneHot: values[1] where the index equals the position along the new `axis`, values[0] elsewhere.
/// Negative indices count from `depth`; out-of-range ones give an all-off row.
/// Shapes: indices [d...], depth scalar, values [2] -> [d... with depth inserted at axis].
struct OneHotOperator: Operator {
    let axis: Int
    init(_ ctx: OperatorContext) throws { axis = try ctx.node.int("axis", default: -1) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let indices = try inputs.required(0, "indices").doubles()
        let indicesShape = try inputs.required(0).shape
        let depthValue = try inputs.required(1, "depth").doubles()
        let values = try inputs.required(2, "values")
        guard depthValue.count == 1, values.count == 2 else {
            throw KernelError("depth must hold one value and values two (off, on)")
        }
        guard depthValue[0].isFinite, abs(depthValue[0]) < 9e18 else { throw KernelError("depth \(depthValue[0]) is not a size") }
        let depth = Int(depthValue[0])
        guard depth >= 0 else { throw KernelError("depth \(depth) is negative") }
        let r = indicesShape.count + 1
        let a = try normalizeAxis(axis, rank: r)
        try requireAllocatable(Array(indicesShape[0..<a]) + [depth] + Array(indicesShape[a...]), .int64)
        let outer = indicesShape[0..<a].reduce(1, *), inner = indicesShape[a...].reduce(1, *)
        var shape = indicesShape
        shape.insert(depth, at: a)
        // Position of each output element in `values`: 1 for on, 0 for off.
        var source = [Int](repeating: 0, count: outer * depth * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let value = indices[o * inner + i]
                guard value.magnitude < 0x1p62 else { continue }   // NaN or far outside: all off
                var index = Int(value)
                if index < 0 { index += depth }
                if index >= 0 && index < depth { source[(o * depth + index) * inner + i] = 1 }
            }
        }
        return [gatheredElements(values, shape: shape, sourceIndex: source)]
    }
}

/// ReverseSequence: for each batch entry b, reverses the first sequence_lens[b] steps along the time axis.
/// Shapes: input [seq, batch, ...] (time_axis 0, batch_axis 1) or [batch, seq, ...], sequence_lens [batch].
struct ReverseSequenceOperator: Operator {
    let batchAxis: Int
    let timeAxis: Int
    init(_ ctx: OperatorContext) throws {
        batchAxis = try ctx.node.int("batch_axis", default: 1)
        timeAxis = try ctx.node.int("time_axis", default: 0)
        guard Set([batchAxis, timeAxis]) == [0, 1] else {
            throw ctx.node.invalid("batch_axis", "and time_axis must be 0 and 1 in some order; got \(batchAxis) and \(timeAxis)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let lengths = try inputs.required(1, "sequence_lens").ints()
        guard x.rank >= 2, lengths.count == x.shape[batchAxis] else {
            throw KernelError("sequence_lens has \(lengths.count) entries for input \(shapeString(x.shape)) with batch axis \(batchAxis)")
        }
        let steps = x.shape[timeAxis]
        guard lengths.allSatisfy({ $0 >= 0 && $0 <= steps }) else {
            throw KernelError("sequence_lens \(shapeString(lengths)) must lie in [0, \(steps)]")
        }
        let inner = x.shape[2...].reduce(1, *)
        let strides = x.strides
        var from: [Int] = [], to: [Int] = []
        for b in 0..<lengths.count {
            for t in 0..<steps {
                let source = t < lengths[b] ? lengths[b] - 1 - t : t
                from.append(source * strides[timeAxis] + b * strides[batchAxis])
                to.append(t * strides[timeAxis] + b * strides[batchAxis])
            }
        }
        let out = Tensor(uninitialized: x.shape, dtype: x.dtype)
        copyElementRuns(from: x, from, to: out, to, length: inner)
        return [out]
    }
}
