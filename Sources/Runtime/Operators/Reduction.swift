import Foundation
import ONNX
import Tensor

// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare,
// ReduceLogSum, ReduceLogSumExp, ArgMax, ArgMin, CumSum, CumProd, TopK; the table also registers
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (Loss.swift).
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
    Registration("CumSum", since: 11) { ctx in try CumSumOperator(ctx, product: false) },
    Registration("TopK", 1...9) { ctx in try TopKOperator(ctx, kFromAttribute: true) },
    Registration("TopK", since: 10) { ctx in try TopKOperator(ctx, kFromAttribute: false) },
    Registration("CumProd", since: 26) { ctx in try CumSumOperator(ctx, product: true) },
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
        if input.dtype == .float32, let fast = reduceContiguousFloats(input, reduced) { return fast }
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

extension ReduceOperator {
    /// float32 reductions whose reduced axes are adjacent: the input is (outer, n, inner) and each output
    /// element reduces n values spaced `inner` apart, read straight from the buffer.
    func reduceContiguousFloats(_ input: Tensor, _ reduced: [Bool]) -> Tensor? {
        guard let first = reduced.firstIndex(of: true), let last = reduced.lastIndex(of: true),
              reduced[first...last].allSatisfy({ $0 }), input.count > 0 else { return nil }
        switch kind {
        case .sum, .mean, .max, .min, .l1, .l2, .sumSquare: break
        default: return nil
        }
        let shape = input.shape
        let outer = shape[..<first].reduce(1, *), n = shape[first...last].reduce(1, *)
        let inner = shape[(last + 1)...].reduce(1, *)
        let outShape = keepDims ? shape.enumerated().map { reduced[$0.offset] ? 1 : $0.element }
            : shape.enumerated().filter { !reduced[$0.offset] }.map(\.element)
        let y = Tensor(uninitialized: outShape, dtype: .float32)
        let x = input.pointer(as: Float.self), yp = y.pointer(as: Float.self)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var v: Float
                switch kind {
                case .max:
                    v = x[base]
                    for t in 1..<max(n, 1) { let e = x[base + t * inner]; if e > v || e.isNaN { v = e; if v.isNaN { break } } }
                case .min:
                    v = x[base]
                    for t in 1..<max(n, 1) { let e = x[base + t * inner]; if e < v || e.isNaN { v = e; if v.isNaN { break } } }
                case .l1: v = Float(relaxedChunkedSum(n) { abs(x[base + $0 * inner]) })
                case .l2: v = Float(relaxedChunkedSum(n) { let e = x[base + $0 * inner]; return e * e }.squareRoot())
                case .sumSquare: v = Float(relaxedChunkedSum(n) { let e = x[base + $0 * inner]; return e * e })
                case .mean: v = Float(relaxedChunkedSum(n) { x[base + $0 * inner] } / Double(n))
                default: v = Float(relaxedChunkedSum(n) { x[base + $0 * inner] })
                }
                yp[o * inner + i] = v
            }
        }
        return y
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

/// CumSum (or CumProd) along the axis given by the second input; `exclusive` shifts by one (the first
/// value is 0, or 1 for a product), `reverse` runs from the end.
struct CumSumOperator: Operator {
    let product: Bool
    let exclusive: Bool
    let reverse: Bool

    init(_ ctx: OperatorContext, product: Bool) throws {
        self.product = product
        exclusive = try ctx.node.int("exclusive", default: 0) != 0
        reverse = try ctx.node.int("reverse", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "x"), axisTensor = try inputs.required(1, "axis")
        try requireNumeric(input, "x")
        guard axisTensor.count == 1 else { throw KernelError("axis must hold one value; got \(shapeString(axisTensor.shape))") }
        let a = try normalizeAxis(axisTensor.ints()[0], rank: input.rank)
        let shape = input.rank == 0 ? [1] : input.shape
        let n = shape[a], outer = shape.prefix(a).reduce(1, *), inner = shape.dropFirst(a + 1).reduce(1, *)
        let x = input.doubles()
        var y = [Double](repeating: 0, count: x.count)
        for o in 0..<outer {
            for i in 0..<inner {
                var s = product ? 1.0 : 0.0
                for step in 0..<n {
                    let t = reverse ? n - 1 - step : step
                    let idx = (o * n + t) * inner + i
                    if exclusive { y[idx] = s }
                    s = product ? s * x[idx] : s + x[idx]
                    if !exclusive { y[idx] = s }
                }
            }
        }
        return [Tensor.fromDoubles(y, shape: input.shape, dtype: input.dtype)]
    }
}

/// TopK along `axis`: the k largest (or smallest) values and their int64 indices, sorted; equal values keep
/// the lower index first. k is an attribute before opset 10, the second input after.
struct TopKOperator: Operator {
    let kAttribute: Int?
    let axis: Int
    let largest: Bool

    init(_ ctx: OperatorContext, kFromAttribute: Bool) throws {
        if kFromAttribute {
            guard let k = try ctx.node.int("k") else { throw ctx.node.missing("k") }
            kAttribute = k
        } else {
            kAttribute = nil
        }
        axis = try ctx.node.int("axis", default: -1)
        largest = try ctx.node.int("largest", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        let k = try kAttribute ?? {
            let t = try inputs.required(1, "K")
            guard t.count == 1 else { throw KernelError("K must hold one value; got \(shapeString(t.shape))") }
            return t.ints()[0]
        }()
        guard input.rank >= 1 else { throw KernelError("X must have at least one dimension") }
        let a = try normalizeAxis(axis, rank: input.rank)
        let n = input.shape[a]
        guard k >= 0 && k <= n else { throw KernelError("k = \(k) is outside 0...\(n) (axis \(axis) of \(shapeString(input.shape)))") }
        let outer = input.shape.prefix(a).reduce(1, *), inner = input.shape.dropFirst(a + 1).reduce(1, *)
        var outShape = input.shape
        outShape[a] = k
        let x = input.doubles()
        var values = [Double](repeating: 0, count: outer * k * inner)
        var indices = [Int64](repeating: 0, count: values.count)
        var order = [Int](repeating: 0, count: n)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                for t in 0..<n { order[t] = t }
                order.sort { p, q in
                    let u = x[base + p * inner], v = x[base + q * inner]
                    if u == v || (u.isNaN && v.isNaN) { return p < q }
                    // NaN counts as the largest value, as numpy sorts it.
                    if u.isNaN { return largest }
                    if v.isNaN { return !largest }
                    return largest ? u > v : u < v
                }
                for t in 0..<k {
                    values[(o * k + t) * inner + i] = x[base + order[t] * inner]
                    indices[(o * k + t) * inner + i] = Int64(order[t])
                }
            }
        }
        return [Tensor.fromDoubles(values, shape: outShape, dtype: input.dtype), Tensor(shape: outShape, scalars: indices)]
    }
}
