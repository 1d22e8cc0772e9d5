import Foundation
import ONNX
import Tensor

let linearAlgebraOperators: [Registration] = [
    Registration("Det", since: 11) { _ in DetOperator() },
    Registration("Einsum", since: 12) { ctx in try EinsumOperator(ctx) },
]

// Det and Einsum: small dense linear algebra in Double, for the shape-sized problems ONNX graphs use them for.

// MARK: Det

/// Determinant of each trailing (M, M) matrix: LU decomposition with partial pivoting, in Double.
struct DetOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 2, input.shape[input.rank - 1] == input.shape[input.rank - 2] else {
            throw KernelError("X \(shapeString(input.shape)) must end in a square matrix")
        }
        let m = input.shape[input.rank - 1], batches = input.shape.dropLast(2).reduce(1, *)
        let values = input.doubles()
        var dets = [Double](repeating: 1, count: batches)
        for b in 0..<batches {
            var a = Array(values[(b * m * m)..<((b + 1) * m * m)])
            var det = 1.0
            for col in 0..<m {
                var pivot = col
                for r in (col + 1)..<max(m, col + 1) where abs(a[r * m + col]) > abs(a[pivot * m + col]) { pivot = r }
                if a[pivot * m + col] == 0 { det = 0; break }
                if pivot != col {
                    for k in 0..<m { a.swapAt(pivot * m + k, col * m + k) }
                    det = -det
                }
                let p = a[col * m + col]
                det *= p
                for r in (col + 1)..<max(m, col + 1) {
                    let f = a[r * m + col] / p
                    if f == 0 { continue }
                    for k in col..<m { a[r * m + k] -= f * a[col * m + k] }
                }
            }
            dets[b] = det
        }
        return [Tensor.fromDoubles(dets, shape: Array(input.shape.dropLast(2)), dtype: input.dtype)]
    }
}

// MARK: Einsum

/// Einsum by its definition: every combination of label values, the product of the operands' elements
/// summed into the output (labels absent from the output are summed over). "..." stands for the
/// broadcast leading dimensions; without "->" the output is "..." then the labels used once, sorted.
/// A plain loop in Double: meant for the small contractions ONNX graphs use it for.
struct EinsumOperator: Operator {
    let inputTerms: [String]
    let outputTerm: String?

    init(_ ctx: OperatorContext) throws {
        guard let equation = try ctx.node.string("equation") else { throw ctx.node.missing("equation") }
        let compact = equation.filter { !$0.isWhitespace }
        let sides = compact.components(separatedBy: "->")
        guard sides.count <= 2 else { throw ctx.node.invalid("equation", "has more than one \"->\": \(equation)") }
        inputTerms = sides[0].components(separatedBy: ",")
        outputTerm = sides.count == 2 ? sides[1] : nil
        for term in inputTerms + [outputTerm ?? ""] {
            let letters = term.replacingOccurrences(of: "...", with: "")
            guard letters.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                throw ctx.node.invalid("equation", "term \"\(term)\" may hold only letters and one \"...\"")
            }
        }
    }

    /// A term's labels with "..." expanded to `ellipsisRank` labels -1, -2, ... (outermost first).
    private func labels(_ term: String, ellipsisRank: Int) -> [Int] {
        var out = [Int]()
        var rest = Substring(term)
        while let c = rest.first {
            if rest.hasPrefix("...") {
                out += (0..<ellipsisRank).map { -(ellipsisRank - $0) }
                rest = rest.dropFirst(3)
            } else {
                out.append(Int(c.asciiValue!))
                rest = rest.dropFirst()
            }
        }
        return out
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        guard inputs.count == inputTerms.count else {
            throw KernelError("equation has \(inputTerms.count) operands, node has \(inputs.count) inputs")
        }
        let tensors = try (0..<inputs.count).map { try inputs.required($0, "Inputs") }
        for t in tensors { try requireNumeric(t, "input") }
        var sizes = [Int: Int]()
        var operandLabels = [[Int]]()
        var ellipsisRank = 0
        for (term, t) in zip(inputTerms, tensors) {
            let letters = term.replacingOccurrences(of: "...", with: "").count
            let e = term.contains("...") ? t.rank - letters : 0
            guard e >= 0, term.contains("...") || letters == t.rank else {
                throw KernelError("term \"\(term)\" does not fit input \(shapeString(t.shape))")
            }
            ellipsisRank = max(ellipsisRank, e)
            let l = labels(term, ellipsisRank: e)
            for (label, size) in zip(l, t.shape) {
                if let known = sizes[label], known != size {
                    if known == 1 && label < 0 { sizes[label] = size; continue }
                    if size == 1 && label < 0 { continue }
                    throw KernelError("label size mismatch in \"\(term)\": \(size) vs \(known)")
                }
                sizes[label] = size
            }
            operandLabels.append(l)
        }
        let outLabels: [Int]
        if let outputTerm {
            outLabels = labels(outputTerm, ellipsisRank: ellipsisRank)
        } else {
            let counts = operandLabels.flatMap { $0 }.filter { $0 >= 0 }.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            outLabels = (0..<ellipsisRank).map { -(ellipsisRank - $0) } + counts.filter { $0.value == 1 }.keys.sorted()
        }
        let summed = Array(Set(sizes.keys).subtracting(outLabels)).sorted()
        let all = outLabels + summed
        let extents = all.map { sizes[$0] ?? 1 }
        let position = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($0.element, $0.offset) })
        // For each operand: its strides per loop label (0 for broadcast ellipsis dims of size 1).
        let operandStrides: [[Int]] = zip(operandLabels, tensors).map { labels, t in
            var strides = [Int](repeating: 0, count: all.count)
            let ts = t.strides
            for (d, label) in labels.enumerated() where t.shape[d] != 1 || (sizes[label] ?? 1) == 1 {
                strides[position[label]!] += ts[d]
            }
            return strides
        }
        let values = tensors.map { $0.doubles() }
        let outCount = outLabels.map { sizes[$0] ?? 1 }.reduce(1, *)
        let sumCount = summed.map { sizes[$0]! }.reduce(1, *)
        var y = [Double](repeating: 0, count: outCount)
        var index = [Int](repeating: 0, count: all.count)
        for o in 0..<outCount {
            var s = 0.0
            for _ in 0..<sumCount {
                var product = 1.0
                for (k, strides) in operandStrides.enumerated() {
                    var offset = 0
                    for d in 0..<all.count { offset += index[d] * strides[d] }
                    product *= values[k][offset]
                }
                s += product
                // Advance the summed labels (the innermost part of `index`).
                advance(&index, within: extents, axes: outLabels.count..<all.count)
            }
            y[o] = s
            advance(&index, within: extents, axes: 0..<outLabels.count)
        }
        return [Tensor.fromDoubles(y, shape: outLabels.map { sizes[$0] ?? 1 }, dtype: tensors[0].dtype)]
    }
}
