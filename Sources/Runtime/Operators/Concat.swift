import ONNX
import Tensor

// Concat and Split: joining and cutting along one axis.

let concatOperators: [Registration] = [
    Registration("Concat", since: 1) { ctx in try ConcatOperator(ctx) },
    // split as an input at 1 and from 13, as an attribute between; num_outputs from 18: SplitOperator reads ctx.opset.
    Registration("Split", since: 1) { ctx in try SplitOperator(ctx) },
]

/// Concat: joins the inputs along `axis` (default 1 before opset 4, required after).
struct ConcatOperator: Operator {
    let axis: Int

    /// The axis (made non-negative) and the output shape for inputs of these shapes.
    func joined(_ shapes: [[Int]]) throws -> (axis: Int, shape: [Int]) {
        guard let first = shapes.first else { throw KernelError("Concat has no inputs") }
        let a = try normalizeAxis(axis, rank: first.count)
        var out = first
        for p in shapes.dropFirst() {
            guard p.count == first.count, (0..<p.count).allSatisfy({ $0 == a || p[$0] == first[$0] }),
                  let total = checkedSum(out[a], p[a]) else {
                throw KernelError("cannot concatenate \(shapeString(first)) and \(shapeString(p)) along axis \(axis)")
            }
            out[a] = total
        }
        return (a, out)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard shapes.allSatisfy({ $0 != nil }) else { return [] }
        return [try joined(shapes.map { $0! }).shape]
    }
    init(_ ctx: OperatorContext) throws {
        if let a = try ctx.node.int("axis") {
            axis = a
        } else if ctx.opset < 4 {
            axis = 1
        } else {
            throw ctx.node.missing("axis")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw KernelError("Concat has no inputs") }
        for p in parts.dropFirst() where p.dtype != first.dtype {
            throw KernelError("inputs have different types, \(first.dtype) and \(p.dtype)")
        }
        let a = try joined(parts.map(\.shape)).axis
        if parts.count == 1 { return [first] }
        return [concatenated(parts, axis: a)]
    }
}

/// Split: cuts the input along `axis` into the node's outputs. Sizes come from the `split` input
/// (opset 1 and 13+) or attribute (2-12); without them the parts are equal, and from opset 18
/// `num_outputs` parts of ceil(n / num_outputs) with a smaller last one.
struct SplitOperator: Operator {
    let axis: Int
    let attributeSplit: [Int]?
    let splitFromInput: Bool
    let outputCount: Int
    let unevenLast: Bool

    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: 0)
        splitFromInput = ctx.opset == 1 || ctx.opset >= 13
        attributeSplit = ctx.opset >= 13 ? nil : try ctx.node.ints("split")
        outputCount = ctx.node.outputs.count
        if ctx.opset >= 18, let n = try ctx.node.int("num_outputs") {
            guard n == outputCount else {
                throw ctx.node.invalid("num_outputs", "is \(n) but the node has \(outputCount) outputs")
            }
            unevenLast = true
        } else {
            unevenLast = false
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let a = try normalizeAxis(axis, rank: x.rank)
        let n = x.shape[a]
        var sizes: [Int]
        if let given = attributeSplit ?? (splitFromInput ? inputs.optional(1)?.ints() : nil), !given.isEmpty {
            sizes = given
        } else if unevenLast {
            let chunk = (n + outputCount - 1) / outputCount
            sizes = (0..<outputCount).map { max(0, min(chunk, n - $0 * chunk)) }
        } else {
            guard n % outputCount == 0 else {
                throw KernelError("axis \(axis) of \(shapeString(x.shape)) does not split into \(outputCount) equal parts")
            }
            sizes = Array(repeating: n / outputCount, count: outputCount)
        }
        guard sizes.count == outputCount, sizes.allSatisfy({ $0 >= 0 && $0 <= n }), sizes.reduce(0, +) == n else {
            throw KernelError("split \(shapeString(sizes)) does not cut axis \(axis) of \(shapeString(x.shape)) into \(outputCount) parts")
        }
        let outer = x.shape[0..<a].reduce(1, *)
        let inner = x.shape[(a + 1)...].reduce(1, *)
        var start = 0
        return sizes.map { size in
            var shape = x.shape
            shape[a] = size
            let part = stridedCopy(x, shape: [outer, size * inner], strides: [n * inner, 1], offset: start * inner)
            start += size
            return part.reshaped(shape)
        }
    }
}
