// Public API (stable; other modules call these):
//   sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)          OpenBLAS cblas_sgemm, row-major
//   sgemmReference(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:) naive triple loop, the oracle
//
// C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C, all row-major.
// op(A) = A (m x k, leading dimension lda >= k) or A^T (A stored k x m, lda >= m); likewise for B.

import CBLAS
import CKernels
import Foundation

/// C = alpha * op(A) * op(B) + beta * C in row-major layout, on OpenBLAS.
///
/// Shapes: op(A) is m x k, op(B) is k x n, C is m x n. `lda`, `ldb`, `ldc` are the row strides of the
/// matrices as stored (so for `transposeA`, A is stored k x m and `lda >= m`).
/// When `beta == 0`, C is write-only (its old contents, even NaN, are ignored).
///
/// Threads: OpenBLAS runs single-threaded (its own threads would spin against the package's WorkerPool);
/// a product of at least `parallelGemmThreshold` multiply-adds is cut into `kernelThreadCount` blocks of C's
/// columns (or rows, when C is taller than wide), one single-threaded sgemm each, on `concurrentFor`. Inside
/// another parallel loop the product runs whole on the calling thread. Each element of C is computed by the
/// same kernel over the same k either way, and the cut depends only on the shape.
public func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
        // BLAS leaves C untouched when k == 0 only if beta == 1; make the beta scaling explicit.
        scaleMatrix(c, rows: m, columns: n, ldc: ldc, beta: beta)
        return
    }
    _ = blasIsSingleThreaded   // (a precondition would vanish under -Ounchecked, and the setting with it)
    if m == 1 {
        rowVectorTimesMatrix(transposeA: transposeA, transposeB: transposeB, n: n, k: k, alpha: alpha, a: a, lda: lda,
                             b: b, ldb: ldb, beta: beta, c: c)
        return
    }
    if n == 1 {
        matrixTimesColumnVector(transposeA: transposeA, transposeB: transposeB, m: m, k: k, alpha: alpha, a: a, lda: lda,
                                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    // A matrix times a column vector stays whole: OpenBLAS picks another kernel for a narrower block, whose
    // rounding differs (the ONNX suite's ResNet-50 has logits all equal to 1e19 and wants a uniform softmax).
    let pieces = m * n * k < parallelGemmThreshold || min(m, n) < 16 ? 1 : min(kernelThreadCount, max(m, n) / 16)
    guard pieces > 1 else {
        blockSgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    nonisolated(unsafe) let (a, b, c) = (a, b, c)
    if n >= m {
        // Column blocks of C: B's columns j0 ..< j1 (B^T's rows).
        inBlocks(n, pieces: pieces) { j0, j1 in
            blockSgemm(transposeA, transposeB, m, j1 - j0, k, alpha, a, lda,
                       transposeB ? b + j0 * ldb : b + j0, ldb, beta, c + j0, ldc)
        }
    } else {
        inBlocks(m, pieces: pieces) { i0, i1 in
            blockSgemm(transposeA, transposeB, i1 - i0, n, k, alpha, transposeA ? a + i0 : a + i0 * lda, lda,
                       b, ldb, beta, c + i0 * ldc, ldc)
        }
    }
}

/// op(A) (m x k) packed once for the AVX-512 kernels (CKernels/gemm.c): a layer's weights that many products
/// share (Winograd's 16 transformed weight matrices, one per chunk of tiles) are then not packed again for each.
/// nil where those kernels do not run (products then take the plain `sgemm`).
public struct PackedGemmMatrix: @unchecked Sendable {
    public let m: Int
    public let k: Int
    let storage: Tensor

    /// A is m x k, row-major with row stride `lda`.
    public init?(m: Int, k: Int, a: UnsafePointer<Float>, lda: Int) {
        guard ownGemmKernels, m > 0, k > 0 else { return nil }
        self.m = m
        self.k = k
        storage = Tensor(uninitialized: [mc_sgemm_packed_a_floats(m, k)])
        mc_sgemm_pack_a(0, m, k, a, lda, storage.pointer(as: Float.self))
    }
}

/// C = alpha * A * op(B) + beta * C with A packed (`PackedGemmMatrix`): as `sgemm`, C's columns split over the
/// threads when the product is big.
public func sgemm(packedA a: PackedGemmMatrix, transposeB: Bool, n: Int, alpha: Float, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard n > 0 else { return }
    let (m, k) = (a.m, a.k)
    nonisolated(unsafe) let (packed, b, c) = (UnsafePointer(a.storage.pointer(as: Float.self)), b, c)
    let pieces = m * n * k < parallelGemmThreshold || n < 32 ? 1 : min(kernelThreadCount, n / 16)
    inBlocks(n, pieces: pieces) { j0, j1 in
        let done = mc_sgemm_prepacked_a(m, j1 - j0, k, alpha, packed, transposeB ? 1 : 0,
                                        transposeB ? b + j0 * ldb : b + j0, ldb, beta, c + j0, ldc)
        precondition(done != 0, "sgemm(packedA:): the AVX-512 kernels refused a product they packed for")
    }
    withExtendedLifetime(a.storage) {}
}

/// body(start, end) for `pieces` blocks of 0 ..< count (sizes multiples of 16 but the last) on `concurrentFor`;
/// one block, inline, when `pieces` is 1.
private func inBlocks(_ count: Int, pieces: Int, _ body: (Int, Int) -> Void) {
    guard pieces > 1 else { body(0, count); return }
    let size = (count / pieces + 15) / 16 * 16
    concurrentFor((count + size - 1) / size) { piece in body(piece * size, min(count, (piece + 1) * size)) }
}

/// c (1 x n) = alpha * a (1 x k) * op(B) + beta * c as a matrix-vector product (cblas_sgemv): sgemm packs all of
/// B for one row, which was most of an LSTM's time (its recurrent step is h (1 x H) times R^T (H x 4H) every
/// time step). Big products are cut into blocks of c over the threads, as `sgemm` does.
private func rowVectorTimesMatrix(transposeA: Bool, transposeB: Bool, n: Int, k: Int, alpha: Float,
                                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                  beta: Float, c: UnsafeMutablePointer<Float>) {
    // a is one row: contiguous, or (transposeA) one column of a k x 1 matrix, stride lda.
    let incx = Int32(transposeA ? lda : 1)
    // op(B) = B^T (B stored n x k): c = B a, B's rows are the outputs; op(B) = B (k x n): c = B^T a.
    func block(_ j0: Int, _ j1: Int) {
        if transposeB {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(j1 - j0), Int32(k), alpha, b + j0 * ldb, Int32(ldb),
                        a, incx, beta, c + j0, 1)
        } else {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(j1 - j0), alpha, b + j0, Int32(ldb),
                        a, incx, beta, c + j0, 1)
        }
    }
    inBlocks(n, pieces: n * k < parallelGemmThreshold ? 1 : min(kernelThreadCount, n / 64), block)
}

/// c (m x 1, stride ldc) = alpha * op(A) (m x k) * b (k x 1) + beta * c as a matrix-vector product: a 1x1
/// convolution on a 1x1 map (MobileNetV3's and PP-LCNet's classifier heads) is one, and sgemm packed all of A for
/// it. Big ones are cut into blocks of rows over the threads.
private func matrixTimesColumnVector(transposeA: Bool, transposeB: Bool, m: Int, k: Int, alpha: Float,
                                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                     beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    // b is one column: of a k x 1 matrix (stride ldb), or (transposeB) the one row of a 1 x k matrix.
    let incx = Int32(transposeB ? 1 : ldb)
    func block(_ i0: Int, _ i1: Int) {
        if transposeA {
            // A stored k x m: its columns i0 ..< i1.
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(i1 - i0), alpha, a + i0, Int32(lda),
                        b, incx, beta, c + i0 * ldc, Int32(ldc))
        } else {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(i1 - i0), Int32(k), alpha, a + i0 * lda, Int32(lda),
                        b, incx, beta, c + i0 * ldc, Int32(ldc))
        }
    }
    inBlocks(m, pieces: m * k < parallelGemmThreshold ? 1 : min(kernelThreadCount, m / 64), block)
}

/// Below this many multiply-adds a product runs on one thread (2^18: a 64 x 64 x 64 GEMM).
public let parallelGemmThreshold = 1 << 18

@inline(__always)
private func blockSgemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    if ownGemmKernels,
       mc_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) != 0 {
        return
    }
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Products run on the package's AVX-512 kernels (CKernels/gemm.c) where the CPU has AVX-512 — OpenBLAS may
/// have been told to use its AVX2 ones there (OPENBLAS_CORETYPE) — and on OpenBLAS elsewhere, or when
/// MANGACOLOR_GEMM=blas asks for it. Matrix-vector products (one row or column) stay on OpenBLAS.
public let ownGemmKernels: Bool = {
    if ProcessInfo.processInfo.environment["MANGACOLOR_GEMM"] == "blas" { return false }
    return mc_sgemm_available() != 0
}()

/// OpenBLAS set to one thread, once, before the first product.
let blasIsSingleThreaded: Bool = {
    openblas_set_num_threads(1)
    return true
}()

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

/// C (m x n) = A (m x k) B (k x n) in float64, row-major, untransposed (OpenBLAS cblas_dgemm, one call: the
/// float64 MatMul and the integer products, which are exact in float64 while every sum stays below 2^53).
public func dgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>, c: UnsafeMutablePointer<Double>) {
    guard m > 0, n > 0 else { return }
    guard k > 0 else { c.update(repeating: 0, count: m * n); return }
    precondition(m < Int(Int32.max) && n < Int(Int32.max) && k < Int(Int32.max), "dgemm: dimensions beyond 32 bits")
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                a, Int32(k), b, Int32(n), 0, c, Int32(n))
}
