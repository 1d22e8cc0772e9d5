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

@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func sgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    let m = 7, n = 5, k = 9, pad = 2
    let lda = (transposeA ? m : k) + pad, ldb = (transposeB ? k : n) + pad, ldc = n + pad
    let a = testFloats((transposeA ? k : m) * lda, seed: 1)
    let b = testFloats((transposeB ? n : k) * ldb, seed: 2)
    let c0 = testFloats(m * ldc, seed: 3)
    var fast = c0, slow = c0
    for beta: Float in [0, 0.5] {
        fast = c0; slow = c0
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5,
              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &fast, ldc: ldc)
        sgemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5,
                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &slow, ldc: ldc)
        let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "sgemm tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(worst)")
    }
}

/// Products past `parallelGemmThreshold` are cut into column blocks (wide C) or row blocks (tall C) over the
/// threads; every layout and both cuts against the reference, with sizes that leave a ragged last block.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func splitSgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for (m, n, k) in [(37, 301, 61), (290, 23, 53)] {
        #expect(m * n * k >= parallelGemmThreshold)
        let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 1, ldc = n + 2
        let a = testFloats((transposeA ? k : m) * lda, seed: 4)
        let b = testFloats((transposeB ? n : k) * ldb, seed: 5)
        let c0 = testFloats(m * ldc, seed: 6)
        var fast = c0, slow = c0
        sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75,
              a: a, lda: lda, b: b, ldb: ldb, beta: 0.5, c: &fast, ldc: ldc)
        sgemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.75,
                       a: a, lda: lda, b: b, ldb: ldb, beta: 0.5, c: &slow, ldc: ldc)
        let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "\(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB): max abs diff \(worst)")
        // The padding columns of C (past n in each row) are never written.
        #expect((0..<m).allSatisfy { i in fast[i * ldc + n] == c0[i * ldc + n] && fast[i * ldc + n + 1] == c0[i * ldc + n + 1] })
    }
}

/// A single row of C goes to sgemv (and big ones over the threads): every layout, small and split.
@Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
func rowVectorSgemmMatchesReference(transposeA: Bool, transposeB: Bool) {
    for (n, k) in [(5, 9), (1000, 300)] {
        let m = 1, lda = transposeA ? 3 : k + 1, ldb = (transposeB ? k : n) + 2, ldc = n
        let a = testFloats((transposeA ? k : m) * lda, seed: 7)
        let b = testFloats((transposeB ? n : k) * ldb, seed: 8)
        let c0 = testFloats(n, seed: 9)
        for beta: Float in [0, 1] {
            var fast = c0, slow = c0
            sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.25,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &fast, ldc: ldc)
            sgemmReference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1.25,
                           a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: &slow, ldc: ldc)
            let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-4, "1x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) beta=\(beta): max abs diff \(worst)")
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
