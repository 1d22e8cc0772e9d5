import ONNX
import Tensor

// Indexing operators: Slice, Gather, GatherElements.

let indexingOperators: [Registration] = [
    Registration("Slice", since: 1) { ctx in try SliceOperator(ctx) },
    Registration("Gather", since: 1) { ctx in try GatherOperator(ctx) },
    Registration("GatherElements", since: 11) { ctx in try GatherElementsOperator(ctx) },
]

/// Slice: per listed axis, elements start, start + step, ... before end. Before opset 10 starts, ends
/// and axes are attributes (step 1); from 10 they are inputs, with optional axes and steps.
/// Negative starts/ends count from the end; out-of-range values (INT64_MAX, INT64_MIN) clamp.
struct SliceOperator: Operator {
    /// (starts, ends, axes) from the attributes, before opset 10.
    let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(_ ctx: OperatorContext) throws {
        if ctx.opset < 10 {
            guard let starts = try ctx.node.ints("starts") else { throw ctx.node.missing("starts") }
            guard let ends = try ctx.node.ints("ends") else { throw ctx.node.missing("ends") }
            attributes = (starts, ends, try ctx.node.ints("axes"))
        } else {
            attributes = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let starts: [Int], ends: [Int], axesList: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesList, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try inputs.required(1, "starts").ints()
            ends = try inputs.required(2, "ends").ints()
            axesList = inputs.optional(3)?.ints()
            steps = inputs.optional(4)?.ints()
        }
        let axes = axesList ?? Array(0..<starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps == nil || steps!.count == starts.count else {
            throw KernelError("starts, ends, axes and steps have different lengths (\(starts.count), \(ends.count), \(axes.count), \(steps?.count ?? starts.count))")
        }
        let r = x.rank
        let strides = x.strides
        var shape = x.shape
        var viewStrides = strides
        var offset = 0
        var seen = Set<Int>()
        for i in 0..<starts.count {
            let a = try normalizeAxis(axes[i], rank: r)
            guard seen.insert(a).inserted else { throw KernelError("axis \(axes[i]) is sliced twice") }
            let requestedStep = steps?[i] ?? 1
            guard requestedStep != 0 else { throw KernelError("step on axis \(axes[i]) is 0") }
            // A step longer than the axis takes at most one element, as the axis's length does; clamped so
            // that the length and stride arithmetic cannot overflow.
            let longest = max(x.shape[a], 1)
            let step = min(max(requestedStep, -longest), longest)
            let (start, length) = sliceRange(start: starts[i], end: ends[i], step: step, dim: x.shape[a])
            shape[a] = length
            viewStrides[a] = strides[a] * step
            if length > 0 { offset += start * strides[a] }
        }
        return [stridedCopy(x, shape: shape, strides: viewStrides, offset: offset)]
    }
}

/// Clamps a slice of one axis of size `dim`; returns its first index and length.
func sliceRange(start: Int, end: Int, step: Int, dim: Int) -> (start: Int, length: Int) {
    var s = start < 0 ? start + dim : start
    var e = end < 0 ? end + dim : end
    if step > 0 {
        s = min(max(s, 0), dim)
        e = min(max(e, 0), dim)
        return (s, e > s ? (e - s + step - 1) / step : 0)
    }
    s = min(max(s, -1), dim - 1)
    e = min(max(e, -1), dim - 1)
    return (s, s > e ? (s - e + (-step) - 1) / (-step) : 0)
}

/// Reads an integer index tensor and wraps negative indices; every index must fall in [-n, n).
func normalizedIndices(_ indices: Tensor, count n: Int, axis: Int) throws -> [Int] {
    guard indices.dtype == .int64 || indices.dtype == .int32 else {
        throw KernelError("indices must be int32 or int64, got \(indices.dtype)")
    }
    return try indices.ints().map { i in
        guard i >= -n && i < n else {
            throw KernelError("index \(i) is out of range for axis \(axis) of size \(n)")
        }
        return i < 0 ? i + n : i
    }
}

/// Gather: slices of `data` along `axis` at `indices`. Shapes: data [pre..., n, post...], indices [k...]
/// -> [pre..., k..., post...].
struct GatherOperator: Operator {
    let axis: Int
    init(_ ctx: OperatorContext) throws { axis = try ctx.node.int("axis", default: 0) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let indices = try inputs.required(1, "indices")
        let a = try normalizeAxis(axis, rank: x.rank)
        guard x.rank > 0 else { throw KernelError("cannot gather from a scalar") }
        let idx = try normalizedIndices(indices, count: x.shape[a], axis: axis)
        return [gathered(x, axis: a, indices: idx, indicesShape: indices.shape)]
    }
}

/// GatherElements: out[i][j][k] = data[index[i][j][k]][j][k] (axis 0), and so on. indices has the data's
/// rank; the output has the indices' shape.
struct GatherElementsOperator: Operator {
    let axis: Int
    init(_ ctx: OperatorContext) throws { axis = try ctx.node.int("axis", default: 0) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let indices = try inputs.required(1, "indices")
        let a = try normalizeAxis(axis, rank: x.rank)
        guard indices.rank == x.rank else {
            throw KernelError("indices \(shapeString(indices.shape)) and data \(shapeString(x.shape)) have different ranks")
        }
        for d in 0..<x.rank where d != a && indices.shape[d] > x.shape[d] {
            throw KernelError("indices \(shapeString(indices.shape)) exceed data \(shapeString(x.shape)) on axis \(d)")
        }
        let source = elementOffsets(try normalizedIndices(indices, count: x.shape[a], axis: axis),
                                    indicesShape: indices.shape, dataStrides: x.strides, axis: a)
        return [gatheredElements(x, shape: indices.shape, sourceIndex: source)]
    }
}

/// GatherElements' and ScatterElements' element offsets into the data: the element of `indices` (shape
/// `indicesShape`, row-major) at coordinate c names data[c with axis `axis` replaced by its index value].
func elementOffsets(_ indices: [Int], indicesShape: [Int], dataStrides strides: [Int], axis a: Int) -> [Int] {
    var offsets = [Int](repeating: 0, count: indices.count)
    var coordinate = [Int](repeating: 0, count: indicesShape.count)
    for (i, k) in indices.enumerated() {
        var o = k * strides[a]
        for d in 0..<indicesShape.count where d != a { o += coordinate[d] * strides[d] }
        offsets[i] = o
        advance(&coordinate, within: indicesShape)
    }
    return offsets
}
