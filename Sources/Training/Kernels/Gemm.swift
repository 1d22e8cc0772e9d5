import CBLAS

extension Kernels {
    /// `C[M, N] = alpha * op(A) * op(B) + beta * C`, row-major, op = transpose when the flag is set.
    /// A is `[M, K]` (or `[K, M]` transposed), B is `[K, N]` (or `[N, K]` transposed).
    static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                     alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * n) }
            else if beta != 1 { for i in 0..<(m * n) { c[i] *= beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    beta, c, Int32(n))
    }
}
