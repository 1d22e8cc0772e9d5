import ONNX
import Tensor

// Unique: distinct elements or slices. (TopK and CumSum live with the reductions.)

let uniqueOperators: [Registration] = [
    Registration("Unique", since: 11) { ctx in try UniqueOperator(ctx) },
]

/// The slices of `shape` along `axis`: (outer, n, inner) with element (o, i, j) at (o * n + i) * inner + j.
private func axisLayout(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[0..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
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
        if let axis {
            guard x.rank >= 1 else { throw KernelError("axis \(axis) needs X of rank 1 or more, got a scalar") }
            a = try normalizeAxis(axis, rank: x.rank)
        } else { x = x.reshaped([x.count]) }
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
