import Testing
@testable import Tensor

/// Deterministic pseudo-random floats in [-1, 1) (tests only; no shared state).
private func testFloats(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
    }
}

/// sgemm and the reference on the same random A, B and C (strides `pad*` past the packed widths); returns C from
/// both and the largest difference.
private func sgemmAgainstReference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                                   padA: Int, padB: Int, padC: Int, seed: UInt64) -> (fast: [Float], c0: [Float], ldc: Int, worst: Float) {
    let lda = (transposeA ? m : k) + padA, ldb = (transposeB ? k : n) + padB, ldc = n + padC
    let a = testFloats((transposeA ? k : m) * lda, seed: seed)
    let b = testFloats((transposeB ? n : k) * ldb, seed: seed + 1)
    let c0 = testFloats(m * ldc, seed: seed + 2)
    var fast = c0, slow = c0
    sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &fast, ldc: ldc)
    sgemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &slow, ldc: ldc)
    return (fast, c0, ldc, zip(fast, slow).map { abs($0 - $1) }.max() ?? 0)
}

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func sgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for beta: Float in [0, 0.5] {
        let r = sgemmAgainstReference(transposeA: transposeA, transposeB: transposeB, m: 7, n: 5, k: 9, alpha: 1.5, beta: beta,
                                      padA: 2, padB: 2, padC: 2, seed: 1)
        #expect(r.worst < 1e-5, "sgemm tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(r.worst)")
    }
}

/// Products past `parallelGemmThreshold` are cut into column blocks (wide C) or row blocks (tall C) over the
/// threads; every layout and both cuts against the reference, with sizes that leave a ragged last block.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func splitSgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for (m, n, k) in [(37, 301, 61), (290, 23, 53)] {
        #expect(m * n * k >= parallelGemmThreshold)
        let r = sgemmAgainstReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75, beta: 0.5,
                                      padA: 3, padB: 1, padC: 2, seed: 4)
        #expect(r.worst < 1e-4, "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB): max abs diff \(r.worst)")
        // The padding columns of C (past n in each row) are never written.
        #expect((0..<m).allSatisfy { i in (n..<r.ldc).allSatisfy { r.fast[i * r.ldc + $0] == r.c0[i * r.ldc + $0] } })
    }
}

/// The AVX-512 kernels' edges (CKernels/gemm.c; on a CPU without AVX-512 this checks OpenBLAS the same way):
/// more rows than one row block (128), more columns than one column block (480), k deeper than one slice
/// (256), ragged 8 x 48 tiles, the in-place B of few rows and a short k, every layout; with beta 0 a C full of
/// NaN must not leak into the result.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func gemmKernelEdgesMatchReference(transposeA: Bool, transposeB: Bool) {
    for (m, n, k) in [(133, 517, 300), (16, 100, 27), (9, 50, 5), (3, 1000, 31), (130, 30, 257)] {
        for beta: Float in [0, 0.5] {
            let r = sgemmAgainstReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.25,
                                          beta: beta, padA: 1, padB: 3, padC: 2, seed: 21)
            #expect(r.worst < 1e-4, "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(r.worst)")
            #expect((0..<m).allSatisfy { i in (n..<r.ldc).allSatisfy { r.fast[i * r.ldc + $0] == r.c0[i * r.ldc + $0] } })
        }
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        let a = testFloats(m * k, seed: 3), b = testFloats(k * n, seed: 5)
        var c = [Float](repeating: .nan, count: m * n)
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
              beta: 0, c: &c, ldc: n)
        #expect(c.allSatisfy { $0.isFinite }, "\(m)x\(n)x\(k): beta 0 read C")
    }
}

/// A single row of C goes to sgemv (and big ones over the threads): every layout, small and split.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func rowVectorSgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for (n, k) in [(5, 9), (1000, 300)] {
        for beta: Float in [0, 1] {
            // (transposeA: A is k x 1 stored with row stride 3.)
            let r = sgemmAgainstReference(transposeA: transposeA, transposeB: transposeB, m: 1, n: n, k: k, alpha: 1.25,
                                          beta: beta, padA: transposeA ? 2 : 1, padB: 2, padC: 0, seed: 7)
            #expect(r.worst < 1e-4, "1x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(r.worst)")
        }
    }
}

/// A single column of C goes to sgemv too (a 1x1 convolution on a 1x1 map): every layout, small and split.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func columnVectorSgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for (m, k) in [(6, 9), (1280, 300)] {
        for beta: Float in [0, 1] {
            let r = sgemmAgainstReference(transposeA: transposeA, transposeB: transposeB, m: m, n: 1, k: k, alpha: 0.5,
                                          beta: beta, padA: 1, padB: transposeB ? 0 : 2, padC: 1, seed: 10)
            #expect(r.worst < 1e-4, "\(m)x1x\(k) tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(r.worst)")
            #expect((0..<m).allSatisfy { r.fast[$0 * r.ldc + 1] == r.c0[$0 * r.ldc + 1] }, "C's padding untouched")
        }
    }
}

@Test func sgemmWithEmptyInnerDimensionScalesC() {
    var c: [Float] = [1, 2, 3, 4]
    let a: [Float] = [0], b: [Float] = [0]
    sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
          beta: 0, c: &c, ldc: 2)
    #expect(c == [0, 0, 0, 0])
}

@Test func parallelChunksCoverEveryIndexOnce() {
    for count in [0, 1, 100, 1 << 16, (1 << 16) + 1, 300_001] {
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: max(count, 1))
        parallelChunks(count) { range in for i in range { hits[i] += 1 } }
        #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
    }
}
