import CBLAS
import Foundation
import ONNX
import Tensor

// Gemm, MatMul (numpy batching and 1-D operands), Softmax, LogSoftmax, Hardmax.
// float32 products go to cblas_sgemm; other element types use a plain loop in Double.

let matrixOperators: [Registration] = [
    Registration("Gemm", since: 1) { ctx in try GemmOperator(ctx) },
    Registration("MatMul", since: 1) { _ in MatMulOperator() },
    Registration("Softmax", 1...12) { ctx in try SoftmaxOperator(ctx, kind: .softmax) },
    Registration("Softmax", since: 13) { ctx in try SoftmaxOperator(ctx, kind: .softmax) },
    Registration("LogSoftmax", 1...12) { ctx in try SoftmaxOperator(ctx, kind: .logSoftmax) },
    Registration("LogSoftmax", since: 13) { ctx in try SoftmaxOperator(ctx, kind: .logSoftmax) },
    Registration("Hardmax", 1...12) { ctx in try SoftmaxOperator(ctx, kind: .hardmax) },
    Registration("Hardmax", since: 13) { ctx in try SoftmaxOperator(ctx, kind: .hardmax) },
    Registration("Det", since: 11) { _ in DetOperator() },
    Registration("Einsum", since: 12) { ctx in try EinsumOperator(ctx) },
    Registration("Attention", since: 23) { ctx in try AttentionOperator(ctx) },
    Registration("MatMulInteger", since: 10) { _ in MatMulIntegerOperator() },
    Registration("QLinearMatMul", since: 10) { _ in QLinearMatMulOperator() },
    Registration("RotaryEmbedding", since: 23) { ctx in try RotaryEmbeddingOperator(ctx) },
]

// MARK: Gemm

/// Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A (M, K), B' = transB ? B^T : B (K, N),
/// C broadcast (unidirectionally) to (M, N).
struct GemmOperator: Operator {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool

    init(_ ctx: OperatorContext) throws {
        alpha = try ctx.node.float("alpha", default: 1)
        beta = try ctx.node.float("beta", default: 1)
        transA = try ctx.node.int("transA", default: 0) != 0
        transB = try ctx.node.int("transB", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        let c = inputs.optional(2)
        try requireNumeric(a, "A")
        guard a.rank == 2, b.rank == 2 else {
            throw KernelError("A \(shapeString(a.shape)) and B \(shapeString(b.shape)) must both be matrices")
        }
        guard a.dtype == b.dtype else { throw KernelError("A is \(a.dtype) but B is \(b.dtype)") }
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let kb = transB ? b.shape[1] : b.shape[0], n = transB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw KernelError("A \(shapeString(a.shape)) (transA \(transA ? 1 : 0)) and B \(shapeString(b.shape)) "
                + "(transB \(transB ? 1 : 0)) disagree on the inner dimension: \(k) vs \(kb)")
        }
        if let c, !broadcastsTo(c.shape, [m, n]) {
            throw KernelError("C \(shapeString(c.shape)) does not broadcast to the output [\(m),\(n)]")
        }
        if a.dtype == .float32 {
            let y = Tensor(zeros: [m, n], dtype: .float32)
            let yp = y.pointer(as: Float.self)
            var gemmBeta: Float = 0
            if let c, beta != 0 {
                fillBroadcast(c.float32ForKernel(), rows: m, cols: n, scale: beta, into: yp)
                gemmBeta = 1
            }
            if m > 0 && n > 0 && k > 0 {
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), alpha, a.pointer(as: Float.self), Int32(a.shape[1]),
                            b.pointer(as: Float.self), Int32(b.shape[1]), gemmBeta, yp, Int32(n))
            }
            return [y]
        }
        let av = a.doubles(), bv = b.doubles()
        var y = [Double](repeating: 0, count: m * n)
        let cv = c.map { $0.doubles() }
        let cShape = c.map { Array(repeating: 1, count: 2 - $0.rank) + $0.shape } ?? [1, 1]
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for t in 0..<k {
                    let x = transA ? av[t * a.shape[1] + i] : av[i * k + t]
                    let w = transB ? bv[j * b.shape[1] + t] : bv[t * n + j]
                    s += x * w
                }
                var v = Double(alpha) * s
                if let cv {
                    v += Double(beta) * cv[(cShape[0] == 1 ? 0 : i) * cShape[1] + (cShape[1] == 1 ? 0 : j)]
                }
                y[i * n + j] = v
            }
        }
        return [Tensor.fromDoubles(y, shape: [m, n], dtype: a.dtype)]
    }
}

/// Whether `shape` broadcasts unidirectionally to `target` (numpy rules).
func broadcastsTo(_ shape: [Int], _ target: [Int]) -> Bool {
    guard shape.count <= target.count else { return false }
    let padded = Array(repeating: 1, count: target.count - shape.count) + shape
    return zip(padded, target).allSatisfy { $0 == $1 || $0 == 1 }
}

/// Writes scale * C broadcast to (rows, cols) into `out`.
private func fillBroadcast(_ c: Tensor, rows: Int, cols: Int, scale: Float, into out: UnsafeMutablePointer<Float>) {
    let shape = Array(repeating: 1, count: max(2 - c.rank, 0)) + c.shape
    let cp = c.pointer(as: Float.self)
    let rowStep = shape[0] == 1 ? 0 : shape[1], colStep = shape[1] == 1 ? 0 : 1
    for i in 0..<rows {
        for j in 0..<cols { out[i * cols + j] = scale * cp[i * rowStep + j * colStep] }
    }
}

// MARK: MatMul

/// numpy matmul: 1-D A is a row vector, 1-D B a column vector (their unit dimension is dropped from the
/// result); the leading (batch) dimensions broadcast.
struct MatMulOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        try requireNumeric(a, "A")
        guard a.dtype == b.dtype else { throw KernelError("A is \(a.dtype) but B is \(b.dtype)") }
        guard a.rank >= 1, b.rank >= 1 else {
            throw KernelError("MatMul needs operands of rank >= 1; got \(shapeString(a.shape)) and \(shapeString(b.shape))")
        }
        let aShape = a.rank == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.rank == 1 ? [b.shape[0], 1] : b.shape
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
        guard k == kb else {
            throw KernelError("A \(shapeString(a.shape)) and B \(shapeString(b.shape)) disagree on the inner "
                + "dimension: \(k) vs \(kb)")
        }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let rank = max(aBatch.count, bBatch.count)
        let ab = Array(repeating: 1, count: rank - aBatch.count) + aBatch
        let bb = Array(repeating: 1, count: rank - bBatch.count) + bBatch
        var batch = [Int]()
        for (x, y) in zip(ab, bb) {
            guard x == y || x == 1 || y == 1 else {
                throw KernelError("batch dimensions of A \(shapeString(a.shape)) and B \(shapeString(b.shape)) "
                    + "do not broadcast")
            }
            batch.append(x == 1 ? y : x)
        }
        var outShape = batch + [m, n]
        if b.rank == 1 { outShape.remove(at: outShape.count - 1) }
        if a.rank == 1 { outShape.remove(at: outShape.count - (b.rank == 1 ? 1 : 2)) }
        let batches = batch.reduce(1, *)
        // Offsets (in matrices) of A's and B's matrix for each output batch index.
        let aStrides = Tensor.strides(of: ab), bStrides = Tensor.strides(of: bb), outStrides = Tensor.strides(of: batch)
        func offsets(_ index: Int) -> (Int, Int) {
            var rest = index, ao = 0, bo = 0
            for d in 0..<rank {
                let i = rest / outStrides[d]
                rest %= outStrides[d]
                if ab[d] != 1 { ao += i * aStrides[d] }
                if bb[d] != 1 { bo += i * bStrides[d] }
            }
            return (ao, bo)
        }
        if a.dtype == .float32 {
            let y = Tensor(zeros: outShape, dtype: .float32)
            guard m > 0, n > 0, k > 0, batches > 0 else { return [y] }
            let ap = a.pointer(as: Float.self), bp = b.pointer(as: Float.self), yp = y.pointer(as: Float.self)
            if bb.allSatisfy({ $0 == 1 }) {
                // B is one matrix shared by every batch and A is contiguous: one (batches * M, K) x (K, N) product.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(batches * m), Int32(n), Int32(k), 1,
                            ap, Int32(k), bp, Int32(n), 0, yp, Int32(n))
                return [y]
            }
            for i in 0..<batches {
                let (ao, bo) = offsets(i)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                            ap + ao * m * k, Int32(k), bp + bo * k * n, Int32(n), 0, yp + i * m * n, Int32(n))
            }
            return [y]
        }
        let av = a.doubles(), bv = b.doubles()
        var y = [Double](repeating: 0, count: batches * m * n)
        for bi in 0..<batches {
            let (ao, bo) = offsets(bi)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for t in 0..<k { s += av[ao * m * k + i * k + t] * bv[bo * k * n + t * n + j] }
                    y[bi * m * n + i * n + j] = s
                }
            }
        }
        return [Tensor.fromDoubles(y, shape: outShape, dtype: a.dtype)]
    }
}

// MARK: Softmax family

/// Softmax, LogSoftmax, Hardmax. Opset < 13 flattens the input to 2-D at `axis` (default 1) and works on
/// whole rows; opset 13+ works along the one dimension `axis` (default -1).
struct SoftmaxOperator: Operator {
    enum Kind: Sendable { case softmax, logSoftmax, hardmax }
    let kind: Kind
    let axis: Int
    let flattens: Bool

    init(_ ctx: OperatorContext, kind: Kind) throws {
        self.kind = kind
        flattens = ctx.opset < 13
        axis = try ctx.node.int("axis", default: flattens ? 1 : -1)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "input")
        try requireNumeric(input, "input")
        if input.rank == 0 || input.count == 0 {
            let one = input.rank == 0 ? [Float(kind == .logSoftmax ? 0 : 1)] : []
            return [Tensor(shape: input.shape, floats: one).kernelResult(as: input.dtype)]
        }
        let a = try normalizeAxis(axis, rank: input.rank)
        let outer = input.shape.prefix(a).reduce(1, *)
        let n = flattens ? input.shape.dropFirst(a).reduce(1, *) : input.shape[a]
        let inner = flattens ? 1 : input.shape.dropFirst(a + 1).reduce(1, *)
        let x = input.float32ForKernel()
        let y = Tensor(uninitialized: x.shape, dtype: .float32)
        softmaxKernel(x.pointer(as: Float.self), y.pointer(as: Float.self), outer: outer, n: n, inner: inner, kind: kind)
        return [y.kernelResult(as: input.dtype)]
    }
}

/// Along the middle dimension of an (outer, n, inner) array: softmax exp(x - max) / sum (stable),
/// log-softmax x - max - log(sum exp(x - max)), or hardmax (1 at the first maximum).
func softmaxKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int,
                   kind: SoftmaxOperator.Kind) {
    for o in 0..<outer {
        for i in 0..<inner {
            let base = o * n * inner + i
            var best = x[base], bestIndex = 0
            for t in 1..<max(n, 1) where x[base + t * inner] > best {
                best = x[base + t * inner]
                bestIndex = t
            }
            switch kind {
            case .hardmax:
                for t in 0..<n { y[base + t * inner] = t == bestIndex ? 1 : 0 }
            case .softmax:
                var s: Float = 0
                for t in 0..<n {
                    let e = expf(x[base + t * inner] - best)
                    y[base + t * inner] = e
                    s += e
                }
                let r = 1 / s
                for t in 0..<n { y[base + t * inner] *= r }
            case .logSoftmax:
                var s: Float = 0
                for t in 0..<n { s += expf(x[base + t * inner] - best) }
                let shift = best + logf(s)
                for t in 0..<n { y[base + t * inner] = x[base + t * inner] - shift }
            }
        }
    }
}

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
                var d = all.count - 1
                while d >= outLabels.count {
                    index[d] += 1
                    if index[d] < extents[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
            y[o] = s
            var d = outLabels.count - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < extents[d] { break }
                index[d] = 0
                d -= 1
            }
        }
        return [Tensor.fromDoubles(y, shape: outLabels.map { sizes[$0] ?? 1 }, dtype: tensors[0].dtype)]
    }
}
