import ONNX
import Tensor

// Order-based selection: TopK, Unique, and the running sum CumSum.

let sortingOperators: [Registration] = [
    Registration("TopK", 1...9) { ctx in try TopKOperator(ctx) },
    Registration("TopK", since: 10) { ctx in try TopKOperator(ctx) },
    Registration("Unique", since: 11) { ctx in try UniqueOperator(ctx) },
    Registration("CumSum", since: 11) { ctx in try CumSumOperator(ctx) },
]

/// The slices of `shape` along `axis`: (outer, n, inner) with element (o, i, j) at (o * n + i) * inner + j.
private func axisLayout(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[0..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

/// TopK: the k largest (or smallest) elements along `axis` and their int64 indices; ties go to the
/// lower index. k is an attribute before opset 10, input 1 from 10; `largest` and `sorted` from 11.
struct TopKOperator: Operator {
    let axis: Int
    let attributeK: Int?
    let largest: Bool

    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis", default: -1)
        attributeK = ctx.opset < 10 ? try ctx.node.int("k") : nil
        if ctx.opset < 10 && attributeK == nil { throw ctx.node.missing("k") }
        largest = try ctx.node.int("largest", default: 1) != 0
        // NOTE: `sorted` = 0 allows any order; we always return sorted results, which satisfies it.
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let k = try attributeK ?? inputs.required(1, "K").ints().first ?? 0
        let a = try normalizeAxis(axis, rank: x.rank)
        guard x.rank > 0, k >= 0, k <= x.shape[a], x.dtype != .string else {
            throw KernelError("k \(k) must lie in [0, \(x.rank > 0 ? x.shape[a] : 0)] for a numeric input \(shapeString(x.shape))")
        }
        let (outer, n, inner) = axisLayout(x.shape, a)
        let values = x.doubles()
        var source: [Int] = [], picked: [Int64] = []
        var shape = x.shape
        shape[a] = k
        source.reserveCapacity(outer * k * inner)
        var order = [Int](repeating: 0, count: outer * k * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                let base = o * n * inner + j
                let ranked = (0..<n).sorted { p, q in
                    let u = values[base + p * inner], v = values[base + q * inner]
                    if u == v || (u.isNaN && v.isNaN) { return p < q }
                    // NaN ranks above every number, as in numpy and onnxruntime.
                    if u.isNaN { return largest }
                    if v.isNaN { return !largest }
                    return largest ? u > v : u < v
                }
                for i in 0..<k { order[(o * k + i) * inner + j] = ranked[i] }
            }
        }
        for o in 0..<outer {
            for i in 0..<k {
                for j in 0..<inner {
                    let index = order[(o * k + i) * inner + j]
                    source.append((o * n + index) * inner + j)
                    picked.append(Int64(index))
                }
            }
        }
        return [gatheredElements(x, shape: shape, sourceIndex: source), Tensor(shape: shape, scalars: picked)]
    }
}

/// Unique: the distinct elements (or slices along `axis`), sorted ascending or in order of first
/// appearance, with the index of each one's first occurrence, the inverse map and the counts (int64).
struct UniqueOperator: Operator {
    let axis: Int?
    let sorted: Bool
    init(_ ctx: OperatorContext) throws {
        axis = try ctx.node.int("axis")
        sorted = try ctx.node.int("sorted", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        var x = try inputs.required(0, "X")
        guard x.dtype != .string else { throw KernelError("Unique of strings is not supported") }
        var a = 0
        if let axis { a = try normalizeAxis(axis, rank: x.rank) } else { x = x.reshaped([x.count]) }
        let (outer, n, inner) = axisLayout(x.shape, a)
        let values = x.doubles()
        let slices: [[Double]] = (0..<n).map { i in
            var s: [Double] = []
            s.reserveCapacity(outer * inner)
            for o in 0..<outer { s += values[((o * n + i) * inner)..<((o * n + i + 1) * inner)] }
            return s
        }
        var firstOf: [[Double]: Int] = [:]
        var firsts: [Int] = []
        for (i, s) in slices.enumerated() where firstOf[s] == nil {
            firstOf[s] = i
            firsts.append(i)
        }
        if sorted {
            firsts.sort { p, q in slices[p].lexicographicallyPrecedes(slices[q]) }
        }
        var position: [Int: Int] = [:]
        for (u, i) in firsts.enumerated() { position[i] = u }
        let inverse = slices.map { Int64(position[firstOf[$0]!]!) }
        var counts = [Int64](repeating: 0, count: firsts.count)
        for v in inverse { counts[Int(v)] += 1 }
        let y = gathered(x, axis: a, indices: firsts, indicesShape: [firsts.count])
        return [y, Tensor(shape: [firsts.count], scalars: firsts.map { Int64($0) }),
                Tensor(shape: [n], scalars: inverse), Tensor(shape: [firsts.count], scalars: counts)]
    }
}

/// CumSum: running sums along the `axis` input; `exclusive` leaves out the element itself, `reverse`
/// runs from the end. Float32 accumulates in Float (as numpy's cumsum), integers exactly.
struct CumSumOperator: Operator {
    let exclusive: Bool
    let reverse: Bool
    init(_ ctx: OperatorContext) throws {
        exclusive = try ctx.node.int("exclusive", default: 0) != 0
        reverse = try ctx.node.int("reverse", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "x")
        guard let axisValue = try inputs.required(1, "axis").ints().first else { throw KernelError("axis is empty") }
        let a = try normalizeAxis(axisValue, rank: x.rank)
        guard x.dtype.isFloatingPoint || x.dtype.isInteger else {
            throw KernelError("CumSum needs a numeric input, got \(x.dtype)")
        }
        let (outer, n, inner) = x.rank == 0 ? (1, 1, 1) : axisLayout(x.shape, a)
        func scan<T: AdditiveArithmetic>(_ values: [T]) -> [T] {
            var out = values
            for o in 0..<outer {
                for j in 0..<inner {
                    var sum = T.zero
                    for step in 0..<n {
                        let i = reverse ? n - 1 - step : step
                        let at = (o * n + i) * inner + j
                        if exclusive { out[at] = sum; sum += values[at] } else { sum += values[at]; out[at] = sum }
                    }
                }
            }
            return out
        }
        switch x.dtype {
        case .float32: return [Tensor(shape: x.shape, scalars: scan(x.scalars(as: Float.self)))]
        case .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32, .uint64:
            return [tensorFromDoubles(scan(x.ints()).map(Double.init), shape: x.shape, dtype: x.dtype, rounding: false)]
        default:
            return [tensorFromDoubles(scan(x.doubles()), shape: x.shape, dtype: x.dtype, rounding: false)]
        }
    }
}
