import Foundation
import ONNX
import Tensor

// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
// ReduceLogSum, ReduceLogSumExp, ArgMax, ArgMin.
// Axes: an attribute up to opset 12 (ReduceSum) or 17 (the others), the optional second input after.
// An absent or empty axes list reduces every axis, unless noop_with_empty_axes = 1 (then the op is the
// identity). Reductions accumulate in Double and convert back to the input's type.

let reductionOperators: [Registration] = [
    Registration("ReduceSum", 1...12) { ctx in try ReduceOperator(ctx, .sum, axesInput: false) },
    Registration("ReduceSum", since: 13) { ctx in try ReduceOperator(ctx, .sum, axesInput: true) },
] + ReduceOperator.Kind.allCases.filter { $0 != .sum }.flatMap { kind in [
    Registration(kind.opType, 1...17) { ctx in try ReduceOperator(ctx, kind, axesInput: false) },
    Registration(kind.opType, since: 18) { ctx in try ReduceOperator(ctx, kind, axesInput: true) },
] } + [
    Registration("ArgMax", since: 1) { ctx in try ArgExtremumOperator(ctx, max: true) },
    Registration("ArgMin", since: 1) { ctx in try ArgExtremumOperator(ctx, max: false) },
]

struct ReduceOperator: Operator {
    enum Kind: CaseIterable, Sendable {
        case sum, mean, max, min, prod, l1, l2, sumSquare, logSum, logSumExp
        var opType: String {
            switch self {
            case .sum: "ReduceSum"
            case .mean: "ReduceMean"
            case .max: "ReduceMax"
            case .min: "ReduceMin"
            case .prod: "ReduceProd"
            case .l1: "ReduceL1"
            case .l2: "ReduceL2"
            case .sumSquare: "ReduceSumSquare"
            case .logSum: "ReduceLogSum"
            case .logSumExp: "ReduceLogSumExp"
            }
        }
    }
    let kind: Kind
    let keepDims: Bool
    let noopWithEmptyAxes: Bool
    let axesInput: Bool
    let axesAttribute: [Int]?

    init(_ ctx: OperatorContext, _ kind: Kind, axesInput: Bool) throws {
        self.kind = kind
        self.axesInput = axesInput
        keepDims = try ctx.node.int("keepdims", default: 1) != 0
        noopWithEmptyAxes = try ctx.node.int("noop_with_empty_axes", default: 0) != 0
        axesAttribute = axesInput ? nil : try ctx.node.ints("axes")
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "data")
        try requireNumeric(input, "data")
        let axes = axesInput ? inputs.optional(1)?.ints() : axesAttribute
        var reduced = [Bool](repeating: false, count: input.rank)
        if let axes, !axes.isEmpty {
            for axis in axes {
                let a = try normalizeAxis(axis, rank: input.rank)
                if input.rank > 0 { reduced[a] = true }
            }
        } else if noopWithEmptyAxes {
            return [input]
        } else {
            reduced = reduced.map { _ in true }
        }
        return [reduce(input, reduced)]
    }

    func reduce(_ input: Tensor, _ reduced: [Bool]) -> Tensor {
        let shape = input.shape, rank = shape.count
        let outShapeKept = zip(shape, reduced).map { $1 ? 1 : $0 }
        let outShape = keepDims ? outShapeKept : zip(shape, reduced).filter { !$0.1 }.map(\.0)
        let outCount = outShapeKept.reduce(1, *)
        let reducedCount = zip(shape, reduced).filter(\.1).map(\.0).reduce(1, *)
        // Output stride of each input dimension (0 along reduced ones).
        let keptStrides = Tensor.strides(of: outShapeKept)
        let outStride = (0..<rank).map { reduced[$0] ? 0 : keptStrides[$0] }
        let values = input.doubles()
        let isBool = input.dtype == .bool

        var initial: Double
        switch kind {
        case .prod: initial = 1
        case .max: initial = isBool ? 0 : -.infinity
        case .min: initial = isBool ? 1 : .infinity
        default: initial = 0
        }
        var acc = [Double](repeating: initial, count: outCount)
        var shift = [Double](repeating: 0, count: outCount)

        /// Visits every input element with its output slot, in row-major order.
        func visit(_ body: (Int, Double) -> Void) {
            if values.isEmpty { return }
            var index = [Int](repeating: 0, count: rank)
            var o = 0
            for i in 0..<values.count {
                body(o, values[i])
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    o += outStride[d]
                    if index[d] < shape[d] { break }
                    o -= outStride[d] * shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }

        switch kind {
        case .sum, .mean: visit { acc[$0] += $1 }
        case .prod: visit { acc[$0] *= $1 }
        case .max: visit { o, v in if v > acc[o] || v.isNaN { acc[o] = v } }
        case .min: visit { o, v in if v < acc[o] || v.isNaN { acc[o] = v } }
        case .l1: visit { acc[$0] += abs($1) }
        case .l2, .sumSquare: visit { acc[$0] += $1 * $1 }
        case .logSum: visit { acc[$0] += $1 }
        case .logSumExp:
            // log(sum(exp(x))) = m + log(sum(exp(x - m))), m the slot's maximum, for stability.
            shift = [Double](repeating: -.infinity, count: outCount)
            visit { o, v in if v > shift[o] { shift[o] = v } }
            for o in 0..<outCount where !shift[o].isFinite { shift[o] = 0 }
            visit { acc[$0] += Foundation.exp($1 - shift[$0]) }
        }
        for o in 0..<outCount {
            switch kind {
            case .mean: acc[o] = acc[o] / Double(reducedCount)
            case .l2: acc[o] = acc[o].squareRoot()
            case .logSum: acc[o] = Foundation.log(acc[o])
            case .logSumExp: acc[o] = Foundation.log(acc[o]) + shift[o]
            default: break
            }
        }
        return Tensor.fromDoubles(acc, shape: outShape, dtype: input.dtype)
    }
}

/// ArgMax / ArgMin along one axis (int64 indices); ties go to the first occurrence, or the last with
/// select_last_index = 1.
struct ArgExtremumOperator: Operator {
    let max: Bool
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool

    init(_ ctx: OperatorContext, max: Bool) throws {
        self.max = max
        axis = try ctx.node.int("axis", default: 0)
        keepDims = try ctx.node.int("keepdims", default: 1) != 0
        selectLast = try ctx.node.int("select_last_index", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "data")
        try requireNumeric(input, "data")
        let a = try normalizeAxis(axis, rank: input.rank)
        let shape = input.rank == 0 ? [1] : input.shape
        let n = shape[a], outer = shape.prefix(a).reduce(1, *), inner = shape.dropFirst(a + 1).reduce(1, *)
        guard n > 0 || outer * inner == 0 else {
            throw KernelError("cannot take \(max ? "ArgMax" : "ArgMin") along axis \(axis) of size 0 "
                + "(input \(shapeString(input.shape)))")
        }
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        if input.rank == 0 { outShape = [] }
        let values = input.doubles()
        var result = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var best = values[base], bestIndex = 0
                for t in 1..<Swift.max(n, 1) {
                    let v = values[base + t * inner]
                    let better = max ? (v > best || (selectLast && v == best)) : (v < best || (selectLast && v == best))
                    if better {
                        best = v
                        bestIndex = t
                    }
                }
                result[o * inner + i] = Int64(bestIndex)
            }
        }
        return [Tensor(shape: outShape, scalars: result)]
    }
}
