import Testing
@testable import Tensor

/// Deterministic pseudo-random floats in [-1, 1) without a shared generator.
func poolingTestValues(_ n: Int, seed: UInt64 = 1) -> [Float] {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<n).map { _ in
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return Float(Double(s % 1_000_003) / 500_001.5 - 1)
    }
}

/// Largest |a - b|; NaN when any difference is NaN and infinity on a shape mismatch or empty tensors, so a
/// `< tolerance` check fails in each of those cases instead of passing.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    guard a.shape == b.shape, a.count > 0 else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a.scalars(as: Float.self), b.scalars(as: Float.self)) where x != y {
        let d = abs(x - y)
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}

@Test func maxAbsDifferenceFailsOnNaNMismatchAndEmpty() {
    let a = Tensor(shape: [2], floats: [1, 2])
    #expect(maxAbsDifference(a, Tensor(shape: [2], floats: [1, .nan])).isNaN)
    #expect(maxAbsDifference(Tensor(shape: [2], floats: [.nan, 2]), a).isNaN)
    #expect(maxAbsDifference(a, Tensor(shape: [1, 2], floats: [1, 2])) == .infinity)
    #expect(maxAbsDifference(Tensor(shape: [0], floats: []), Tensor(shape: [0], floats: [])) == .infinity)
    #expect(maxAbsDifference(a, Tensor(shape: [2], floats: [1, 2.5])) == 0.5)
}

@Test func maxPool2dHandComputed() {
    // 1x1x4x4, 2x2 stride 2.
    let x = Tensor(shape: [1, 1, 4, 4], floats: [1, 2, 3, 4,  5, 6, 7, 8,  9, 10, 11, 12,  13, 14, 16, 15])
    let (y, idx) = maxPool2d(x, kernelSize: 2, stride: 2)
    #expect(y.shape == [1, 1, 2, 2])
    #expect(y.scalars(as: Float.self) == [6, 8, 14, 16])
    #expect(idx.ints() == [5, 7, 13, 14])
    let dX = maxPool2dBackward(Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4]), indices: idx, inputShape: x.shape)
    #expect(dX.scalars(as: Float.self) == [0, 0, 0, 0,  0, 1, 0, 2,  0, 0, 0, 0,  0, 3, 4, 0])
}

@Test func maxPoolTiesGoToFirstMaximum() {
    let x = Tensor(shape: [1, 1, 2, 2], floats: [3, 3, 3, 3])
    let (y, idx) = maxPool2d(x, kernelSize: 2, stride: 2)
    #expect(y.scalars(as: Float.self) == [3])
    #expect(idx.ints() == [0])
}

@Test(arguments: [
    PoolingGeometry(kernel: [3], strides: [2], padsBegin: [1], padsEnd: [1]),
    PoolingGeometry(kernel: [2, 3], strides: [2, 1], padsBegin: [1, 0], padsEnd: [0, 1], ceilMode: true),
    PoolingGeometry(kernel: [2, 2], strides: [1, 1], dilations: [2, 2]),
    PoolingGeometry(kernel: [2, 2], strides: [2, 2]),
    PoolingGeometry(kernel: [3, 3], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], ceilMode: true),
    PoolingGeometry(kernel: [2, 2, 2], strides: [1, 2, 2], dilations: [1, 2, 1], padsBegin: [0, 1, 1], padsEnd: [1, 0, 1]),
])
func poolingMatchesNaive(_ g: PoolingGeometry) {
    let spatial = [5, 7, 6].suffix(g.spatialRank)
    let shape = [2, 3] + Array(spatial)
    let x = Tensor(shape: shape, floats: poolingTestValues(shape.reduce(1, *), seed: 7))
    let (y, idx) = maxPoolForward(x, g)
    let (yRef, idxRef) = maxPoolNaive(x, g)
    #expect(y.shape == yRef.shape)
    #expect(maxAbsDifference(y, yRef) == 0)
    #expect(idx.ints() == idxRef.ints())
    for include in [false, true] {
        let a = avgPoolForward(x, g, countIncludePad: include)
        #expect(maxAbsDifference(a, avgPoolNaive(x, g, countIncludePad: include)) < 1e-6)
    }
}

@Test func poolingOutputShapes() {
    // ceil mode drops a window that would start in the end padding.
    let g = PoolingGeometry(kernel: [3, 3], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], ceilMode: true)
    #expect(g.outputSpatialShape(for: [5, 5]) == [3, 3])
    #expect(PoolingGeometry(kernel: [3, 3], strides: [2, 2], ceilMode: true).outputSpatialShape(for: [4, 4]) == [2, 2])
    #expect(PoolingGeometry(kernel: [3, 3], strides: [2, 2]).outputSpatialShape(for: [4, 4]) == [1, 1])
    let empty = Tensor(zeros: [0, 3, 4, 4])
    #expect(maxPool2d(empty, kernelSize: 2, stride: 2).output.shape == [0, 3, 2, 2])
}

@Test func avgPoolCountIncludePad() {
    let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    let g = PoolingGeometry(kernel: [2, 2], strides: [1, 1], padsBegin: [1, 1], padsEnd: [0, 0])
    #expect(avgPoolForward(x, g, countIncludePad: true).scalars(as: Float.self) == [0.25, 0.75, 1, 2.5])
    #expect(avgPoolForward(x, g, countIncludePad: false).scalars(as: Float.self) == [1, 1.5, 2, 2.5])
}

@Test func globalPools() {
    let x = Tensor(shape: [1, 2, 2, 2], floats: [1, 2, 3, 4, -1, -5, 0, -2])
    #expect(globalAveragePool(x).scalars(as: Float.self) == [2.5, -2])
    #expect(globalAveragePool(x).shape == [1, 2, 1, 1])
    #expect(globalMaxPool(x).scalars(as: Float.self) == [4, 0])
    let dX = globalAveragePoolBackward(Tensor(shape: [1, 2, 1, 1], floats: [4, 8]), inputShape: x.shape)
    #expect(dX.scalars(as: Float.self) == [1, 1, 1, 1, 2, 2, 2, 2])
}

/// Central finite differences of L = sum(forward(x) * w) against backward(w).
func finiteDifferenceCheck(_ x: Tensor, weights w: [Float], step: Float = 1e-2,
                           forward: (Tensor) -> Tensor, backward: Tensor) -> Float {
    var worst: Float = 0
    let xs = x.scalars(as: Float.self)
    let analytic = backward.scalars(as: Float.self)
    func loss(_ v: [Float]) -> Double {
        zip(forward(Tensor(shape: x.shape, floats: v)).scalars(as: Float.self), w)
            .reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    for i in 0..<xs.count {
        var plus = xs, minus = xs
        plus[i] += step
        minus[i] -= step
        let numeric = Float((loss(plus) - loss(minus)) / Double(2 * step))
        worst = max(worst, abs(numeric - analytic[i]))
    }
    return worst
}

@Test func maxPoolGradientMatchesFiniteDifferences() {
    // Distinct values spaced well beyond the step, so no tie flips inside the difference.
    let shape = [1, 2, 5, 5]
    let count = shape.reduce(1, *)
    var values = (0..<count).map { Float($0) * 0.1 }
    for i in stride(from: count - 1, to: 0, by: -1) { values.swapAt(i, (i * 7 + 3) % (i + 1)) }
    let x = Tensor(shape: shape, floats: values)
    let g = PoolingGeometry(kernel: [3, 3], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1])
    let (y, idx) = maxPoolForward(x, g)
    let w = poolingTestValues(y.count, seed: 3)
    let dX = maxPoolBackward(Tensor(shape: y.shape, floats: w), indices: idx, inputShape: shape)
    let err = finiteDifferenceCheck(x, weights: w, step: 1e-2, forward: { maxPoolForward($0, g).output }, backward: dX)
    #expect(err < 1e-3)
}

@Test(arguments: [false, true])
func avgPoolGradientMatchesFiniteDifferences(includePad: Bool) {
    let shape = [1, 2, 5, 4]
    let x = Tensor(shape: shape, floats: poolingTestValues(shape.reduce(1, *), seed: 11))
    let g = PoolingGeometry(kernel: [3, 2], strides: [2, 1], padsBegin: [1, 0], padsEnd: [1, 1], ceilMode: true)
    let y = avgPoolForward(x, g, countIncludePad: includePad)
    let w = poolingTestValues(y.count, seed: 5)
    let dX = avgPoolBackward(Tensor(shape: y.shape, floats: w), g, inputShape: shape, countIncludePad: includePad)
    let err = finiteDifferenceCheck(x, weights: w, forward: { avgPoolForward($0, g, countIncludePad: includePad) },
                                    backward: dX)
    #expect(err < 1e-3)
}

@Test(arguments: [
    PoolingGeometry(kernel: [3], strides: [2], padsBegin: [1], padsEnd: [1]),
    PoolingGeometry(kernel: [2, 3], strides: [2, 1], padsBegin: [1, 0], padsEnd: [0, 1], ceilMode: true),
    PoolingGeometry(kernel: [2, 2], strides: [1, 1], padsBegin: [0, 0], padsEnd: [1, 1]),   // SAME_UPPER 2x2
    PoolingGeometry(kernel: [3, 3], strides: [2, 2], padsBegin: [1, 1], padsEnd: [1, 1], ceilMode: true),
    PoolingGeometry(kernel: [5, 5], strides: [1, 1], padsBegin: [2, 2], padsEnd: [2, 2]),   // YOLO's SPP
    PoolingGeometry(kernel: [3, 2], strides: [3, 2]),
])
func maxPoolValuesMatchTheWindowWalk(_ g: PoolingGeometry) throws {
    let spatial = [9, 7].suffix(g.spatialRank)
    let shape = [2, 3] + Array(spatial)
    var values = poolingTestValues(shape.reduce(1, *), seed: 9)
    let x = Tensor(shape: shape, floats: values)
    #expect(maxAbsDifference(try #require(maxPoolValues(x, g)), maxPoolNaive(x, g).output) == 0)
    // A NaN wins every window it is in, as in maxPoolForward (the naive oracle does not model NaN).
    values[5] = .nan
    let withNaN = Tensor(shape: shape, floats: values)
    let got = try #require(maxPoolValues(withNaN, g)).scalars(as: Float.self)
    let want = maxPoolForward(withNaN, g).output.scalars(as: Float.self)
    #expect(got.count == want.count && zip(got, want).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
}

@Test func maxPoolValuesLeavesDilationsAndWidePadsToTheWindowWalk() {
    let x = Tensor(shape: [1, 1, 6, 6], floats: poolingTestValues(36))
    #expect(maxPoolValues(x, PoolingGeometry(kernel: [2, 2], dilations: [2, 2])) == nil)
    #expect(maxPoolValues(x, PoolingGeometry(kernel: [2, 2], padsBegin: [2, 2], padsEnd: [0, 0])) == nil)
}
