// Public API (stable; other modules call these):
//   sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)          OpenBLAS cblas_sgemm, row-major
//   sgemmReference(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:) naive triple loop, the oracle
//
// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, all row-major.
// op(A) = A (m x k, leading dimension lda >= k) or A^T (A stored k x m, lda >= m); likewise for B.

import CBLAS
import Foundation

/// C = alpha * op(A) * op(B) + beta * C in row-major layout, on OpenBLAS.
///
/// Shapes: op(A) is m x k, op(B) is k x n, C is m x n. `lda`, `ldb`, `ldc` are the row strides of the
/// matrices as stored (so for `transposeA`, A is stored k x m and `lda >= m`).
/// When `beta == 0`, C is write-only (its old contents, even NaN, are ignored).
@inline(__always)
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        // BLAS leaves C untouched when k == 0 only if beta == 1; make the beta scaling explicit.
        scaleMatrix(c, rows: m, columns: n, ldc: ldc, beta: beta)
        return
    }
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The same contract as `sgemm`, as three plain loops in Double: the oracle for tests.
public func sgemmReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                           beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let av = transposeA ? a[p * lda + i] : a[i * lda + p]
                let bv = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(av) * Double(bv)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
            c[i * ldc + j] = Float(Double(alpha) * sum + old)
        }
    }
}

private func scaleMatrix(_ c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, ldc: Int, beta: Float) {
    for i in 0..<rows {
        let row = c + i * ldc
        if beta == 0 {
            row.update(repeating: 0, count: columns)
        } else if beta != 1 {
            for j in 0..<columns { row[j] *= beta }
        }
    }
}

// MARK: Threads


private let blasThreadLock = NSLock()
nonisolated(unsafe) private var singleThreadedRegions = 0
nonisolated(unsafe) private var savedBLASThreads = 1

/// Runs `body` with OpenBLAS limited to one thread, so `body` may call `sgemm` from several threads of its
/// own (threads must not nest). Overlapping calls from different threads are counted: the first one in
/// saves OpenBLAS's thread count, the last one out restores it.
public func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    blasThreadLock.lock()
    if singleThreadedRegions == 0 {
        savedBLASThreads = Int(openblas_get_num_threads())
        if savedBLASThreads != 1 { openblas_set_num_threads(1) }
    }
    singleThreadedRegions += 1
    blasThreadLock.unlock()
    defer {
        blasThreadLock.lock()
        singleThreadedRegions -= 1
        if singleThreadedRegions == 0 && savedBLASThreads != 1 { openblas_set_num_threads(Int32(savedBLASThreads)) }
        blasThreadLock.unlock()
    }
    return try body()
}
