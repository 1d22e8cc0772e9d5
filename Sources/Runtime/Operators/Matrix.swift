import Foundation
import ONNX
import Tensor

// Gemm, MatMul (numpy batching and 1-D operands), Softmax, LogSoftmax, Hardmax.
// float32 products go to Tensor's sgemm (BLAS); other element types use a plain loop in Double.
// The table also registers Det and Einsum (LinearAlgebra.swift), Attention (Attention.swift),
// MatMulInteger and QLinearMatMul (QuantizedMatMul.swift), RotaryEmbedding (RotaryEmbedding.swift) and
// LinearAttention (LinearAttention.swift).

let matrixOperators: [Registration] = [
    Registration("Gemm", since: 1) { ctx in try GemmOperator(ctx) },
    Registration("MatMul", since: 1) { _ in MatMulOperator() },
    Registration("Softmax", since: 1) { ctx in try SoftmaxOperator(ctx, kind: .softmax) },
    Registration("LogSoftmax", since: 1) { ctx in try SoftmaxOperator(ctx, kind: .logSoftmax) },
    Registration("Hardmax", since: 1) { ctx in try SoftmaxOperator(ctx, kind: .hardmax) },
]

// MARK: Gemm

/// Y = alpha * A' * B' + beta * C, A' = transA ? A^T : A (M, K), B' = transB ? B^T : B (K, N),
/// C broadcast (unidirectionally) to (M, N).
struct GemmOperator: Operator {
    let alpha: Float
    let beta: Float
    let transA: Bool
    let transB: Bool

    /// Output rows, columns and the inner dimension for A, B (and C) of these shapes.
    func dimensions(_ a: [Int], _ b: [Int], _ c: [Int]?) throws -> (m: Int, n: Int, k: Int) {
        guard a.count == 2, b.count == 2 else {
            throw KernelError("A \(shapeString(a)) and B \(shapeString(b)) must both be matrices")
        }
        let m = transA ? a[1] : a[0], k = transA ? a[0] : a[1]
        let kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1]
        guard k == kb else {
            throw KernelError("A \(shapeString(a)) (transA \(transA ? 1 : 0)) and B \(shapeString(b)) "
                + "(transB \(transB ? 1 : 0)) disagree on the inner dimension: \(k) vs \(kb)")
        }
        if let c, !broadcastsTo(c, [m, n]) {
            throw KernelError("C \(shapeString(c)) does not broadcast to the output [\(m),\(n)]")
        }
        return (m, n, k)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard shapes.count >= 2, let a = shapes[0], let b = shapes[1] else { return [] }
        let (m, n, _) = try dimensions(a, b, shapes.count > 2 ? shapes[2] : nil)
        return [[m, n]]
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double {
        guard let a = inputs.optional(0), let y = outputs.first, a.rank == 2 else { return 0 }
        return 2 * Double(y.count) * Double(transA ? a.shape[0] : a.shape[1])
    }

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
        guard a.dtype == b.dtype else { throw KernelError("A is \(a.dtype) but B is \(b.dtype)") }
        let (m, n, k) = try dimensions(a.shape, b.shape, c?.shape)
        if a.dtype == .float32 {
            let y = Tensor(zeros: [m, n], dtype: .float32)
            let yp = y.pointer(as: Float.self)
            var gemmBeta: Float = 0
            if let c, beta != 0 {
                fillBroadcast(c.float32ForKernel(), rows: m, cols: n, scale: beta, into: yp)
                gemmBeta = 1
            }
            if m > 0 && n > 0 && k > 0 {
                sgemm(transposeA: transA, transposeB: transB, m: m, n: n, k: k, alpha: alpha, a: a.pointer(as: Float.self),
                      lda: a.shape[1], b: b.pointer(as: Float.self), ldb: b.shape[1], beta: gemmBeta, c: yp, ldc: n)
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
    /// Rows, columns, inner dimension, A's and B's batch dimensions padded to the output's, the output's
    /// batch dimensions and the output shape, for operands of these shapes.
    static func dimensions(_ a: [Int], _ b: [Int]) throws
        -> (m: Int, n: Int, k: Int, aBatch: [Int], bBatch: [Int], batch: [Int], output: [Int]) {
        guard a.count >= 1, b.count >= 1 else {
            throw KernelError("MatMul needs operands of rank >= 1; got \(shapeString(a)) and \(shapeString(b))")
        }
        let aShape = a.count == 1 ? [1, a[0]] : a
        let bShape = b.count == 1 ? [b[0], 1] : b
        let m = aShape[aShape.count - 2], k = aShape[aShape.count - 1]
        let kb = bShape[bShape.count - 2], n = bShape[bShape.count - 1]
        guard k == kb else {
            throw KernelError("A \(shapeString(a)) and B \(shapeString(b)) disagree on the inner dimension: \(k) vs \(kb)")
        }
        let aBatch = Array(aShape.dropLast(2)), bBatch = Array(bShape.dropLast(2))
        let rank = max(aBatch.count, bBatch.count)
        let ab = Array(repeating: 1, count: rank - aBatch.count) + aBatch
        let bb = Array(repeating: 1, count: rank - bBatch.count) + bBatch
        var batch = [Int]()
        for (x, y) in zip(ab, bb) {
            guard x == y || x == 1 || y == 1 else {
                throw KernelError("batch dimensions of A \(shapeString(a)) and B \(shapeString(b)) do not broadcast")
            }
            batch.append(x == 1 ? y : x)
        }
        var output = batch + [m, n]
        if b.count == 1 { output.remove(at: output.count - 1) }
        if a.count == 1 { output.remove(at: output.count - (b.count == 1 ? 1 : 2)) }
        return (m, n, k, ab, bb, batch, output)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard shapes.count >= 2, let a = shapes[0], let b = shapes[1] else { return [] }
        return [try Self.dimensions(a, b).output]
    }

    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double {
        guard let a = inputs.optional(0), let y = outputs.first, a.rank >= 1 else { return 0 }
        return 2 * Double(y.count) * Double(a.shape[a.rank - 1])
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        try requireNumeric(a, "A")
        guard a.dtype == b.dtype else { throw KernelError("A is \(a.dtype) but B is \(b.dtype)") }
        let (m, n, k, ab, bb, batch, outShape) = try Self.dimensions(a.shape, b.shape)
        let rank = batch.count
        try requireAllocatable(outShape, a.dtype)
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
                sgemm(transposeA: false, transposeB: false, m: batches * m, n: n, k: k, alpha: 1,
                      a: ap, lda: k, b: bp, ldb: n, beta: 0, c: yp, ldc: n)
                return [y]
            }
            for i in 0..<batches {
                let (ao, bo) = offsets(i)
                sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1,
                      a: ap + ao * m * k, lda: k, b: bp + bo * k * n, ldb: n, beta: 0, c: yp + i * m * n, ldc: n)
            }
            return [y]
        }
        let av = a.doubles(), bv = b.doubles()
        var y = [Double](repeating: 0, count: batches * m * n)
        if a.dtype == .float64 || a.dtype.isInteger {
            // In float64 on BLAS: float64 itself, and integers (exact while every sum stays below 2^53, as in
            // the loop below, which the other types keep).
            av.withUnsafeBufferPointer { ap in
                bv.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        for bi in 0..<batches where m * n > 0 {
                            let (ao, bo) = offsets(bi)
                            dgemm(m: m, n: n, k: k, a: ap.baseAddress! + ao * m * k, b: bp.baseAddress! + bo * k * n,
                                  c: yp.baseAddress! + bi * m * n)
                        }
                    }
                }
            }
            return [Tensor.fromDoubles(y, shape: outShape, dtype: a.dtype)]
        }
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
struct SoftmaxOperator: ShapePreserving {
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
        if (input.dtype == .bfloat16 || input.dtype == .float16) && kind == .softmax {
            lowPrecisionSoftmax(x.pointer(as: Float.self), y.pointer(as: Float.self), outer: outer, n: n, inner: inner,
                                bfloat16: input.dtype == .bfloat16)
        } else {
            softmaxKernel(x.pointer(as: Float.self), y.pointer(as: Float.self), outer: outer, n: n, inner: inner, kind: kind)
        }
        return [y.kernelResult(as: input.dtype)]
    }

    /// Softmax rounding every intermediate to the input's 16-bit type (x - max, exp, the quotient), as the
    /// numpy reference computes in that type; its sum accumulates in bfloat16 (ml_dtypes) or float32
    /// (numpy's float16 pairwise sum) and is rounded.
    private func lowPrecisionSoftmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int,
                                     inner: Int, bfloat16: Bool) {
        func r(_ v: Float) -> Float { bfloat16 ? BFloat16(v).floatValue : Float(Float16(v)) }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var m = x[base]
                for t in 1..<max(n, 1) { m = max(m, x[base + t * inner]) }
                var s: Float = 0
                for t in 0..<n {
                    let e = r(expf(r(x[base + t * inner] - m)))
                    y[base + t * inner] = e
                    s = bfloat16 ? r(s + e) : s + e
                }
                s = r(s)
                for t in 0..<n { y[base + t * inner] = r(y[base + t * inner] / s) }
            }
        }
    }
}

/// Along the middle dimension of an (outer, n, inner) array: softmax exp(x - max) / sum (stable),
/// log-softmax x - max - log(sum exp(x - max)), or hardmax (1 at the first maximum).
func softmaxKernel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int,
                   kind: SoftmaxOperator.Kind) {
    if kind == .softmax && inner >= 64 && n > 1 {
        softmaxAlongMiddleAxis(x, y, outer: outer, n: n, inner: inner)
        return
    }
    if kind == .softmax && inner == 1 && n > 1 {
        // Rows: a recogniser's 40 x 6906 class scores went through libm's expf one by one.
        softmaxAlongLastAxis(x, y, rows: outer, n: n)
        return
    }
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

