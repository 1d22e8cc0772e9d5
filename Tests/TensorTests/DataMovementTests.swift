import Testing
@testable import Tensor

private func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, floats: (0..<n).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    })
}

@Test(arguments: [
    ([2, 3, 4], [12, 1, 4], 0),        // transpose of the last two axes
    ([3, 4], [-4, -1], 11),            // both axes reversed
    ([2, 3, 4], [0, 4, 1], 0),         // broadcast on a new leading axis
    ([2, 2, 2], [12, 2, 5], 1),        // every other element
    ([1, 5, 1], [0, 1, 0], 3),
    ([2, 9, 10], [1, 1, 2], 0),        // tiled transpose path: 9 x 10 tiles, source stride 2
    ([9, 10], [1, -2], 20),            // tiled with a negative column step
])
func stridedCopyMatchesNaive(shape: [Int], strides: [Int], offset: Int) {
    let x = random([32], seed: 7)
    let fast = stridedCopy(x, shape: shape, strides: strides, offset: offset)
    let naive = stridedCopyNaive(x, shape: shape, strides: strides, offset: offset)
    #expect(fast.scalars(as: Float.self) == naive.scalars(as: Float.self))
}

@Test(arguments: ResizeInterpolation.allCases)
func separableResizeMatchesNaive(interpolation: ResizeInterpolation) {
    let x = random([2, 3, 5, 4], seed: 3)
    let cases: [([Int], [Double], CoordinateTransform, Bool)] = [
        ([2, 3, 10, 8], [1, 1, 2, 2], .halfPixel, false),
        ([2, 3, 3, 7], [1, 1, 0.6, 1.75], .pytorchHalfPixel, false),
        ([2, 3, 2, 2], [1, 1, 0.4, 0.5], .halfPixel, true),
        ([2, 6, 9, 3], [1, 2, 1.8, 0.75], .alignCorners, false),
        ([1, 3, 7, 5], [0.5, 1, 1.4, 1.25], .asymmetric, false),
        ([2, 3, 4, 4], [1, 1, 0.8, 1], .halfPixelSymmetric, false),
    ]
    for (outShape, scales, transform, antialias) in cases {
        let options = ResizeOptions(interpolation: interpolation, coordinates: transform, antialias: antialias)
        let fast = resized(x, outShape: outShape, scales: scales, options: options).scalars(as: Float.self)
        let naive = resizedNaive(x, outShape: outShape, scales: scales, options: options).scalars(as: Float.self)
        let worst = zip(fast, naive).map { abs($0 - $1) }.max() ?? 0
        #expect(fast.count == naive.count && worst < 1e-5, "\(interpolation) \(transform) to \(outShape): max diff \(worst)")
    }
}

@Test func cropAndResizeMatchesNaive() {
    let x = random([1, 2, 6, 6], seed: 5)
    let roi: [(Double, Double)] = [(0, 1), (0, 1), (0.2, 1.3), (-0.1, 0.7)]
    for interpolation in ResizeInterpolation.allCases {
        let options = ResizeOptions(interpolation: interpolation, coordinates: .tfCropAndResize, extrapolationValue: 9)
        let fast = resized(x, outShape: [1, 2, 5, 4], scales: [1, 1, 5.0 / 6, 4.0 / 6], roi: roi, options: options)
        let naive = resizedNaive(x, outShape: [1, 2, 5, 4], scales: [1, 1, 5.0 / 6, 4.0 / 6], roi: roi, options: options)
        let worst = zip(fast.scalars(as: Float.self), naive.scalars(as: Float.self)).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-5, "\(interpolation): max diff \(worst)")
    }
}

@Test func padSourceIndicesPerMode() {
    #expect(padSourceIndices(length: 3, before: 2, after: 2, mode: .reflect) == [2, 1, 0, 1, 2, 1, 0])
    #expect(padSourceIndices(length: 3, before: 1, after: 1, mode: .constant) == [-1, 0, 1, 2, -1])
    #expect(padSourceIndices(length: 3, before: 4, after: 0, mode: .wrap) == [2, 0, 1, 2, 0, 1, 2])
    #expect(padSourceIndices(length: 3, before: -1, after: 1, mode: .edge) == [1, 2, 2])
    #expect(padSourceIndices(length: 1, before: 2, after: 0, mode: .reflect) == [0, 0, 0])
}

/// <resize(x), g> == <x, resizeBackward(g)>: the backward pass is the forward's transpose.
@Test(arguments: ResizeInterpolation.allCases)
func resizeBackwardIsTheTranspose(interpolation: ResizeInterpolation) {
    let x = random([1, 2, 5, 4], seed: 11)
    for (outShape, scales, transform) in [([1, 2, 10, 8], [1.0, 1, 2, 2], CoordinateTransform.halfPixel),
                                          ([1, 2, 3, 7], [1.0, 1, 0.6, 1.75], .alignCorners)] {
        let options = ResizeOptions(interpolation: interpolation, coordinates: transform)
        let y = resized(x, outShape: outShape, scales: scales, options: options)
        let g = random(outShape, seed: 13)
        let dX = resizeBackward(g, inputShape: x.shape, scales: scales, options: options)
        let lhs = zip(y.scalars(as: Float.self), g.scalars(as: Float.self)).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        let rhs = zip(x.scalars(as: Float.self), dX.scalars(as: Float.self)).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        #expect(abs(lhs - rhs) < 1e-4, "\(interpolation) \(transform): \(lhs) vs \(rhs)")
    }
}

/// The same identity for pad: <pad(x), g> == <x, padBackward(g)>.
@Test(arguments: PadMode.allCases)
func padBackwardIsTheTranspose(mode: PadMode) {
    let x = random([1, 2, 4, 5], seed: 17)
    let pads = [0, 0, 2, 3, 0, 0, 3, 1]
    let y = padForward(x, pads: pads, mode: mode)
    let g = random(y.shape, seed: 19)
    let dX = padBackward(g, inputShape: x.shape, pads: pads, mode: mode)
    let lhs = zip(y.scalars(as: Float.self), g.scalars(as: Float.self)).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    let rhs = zip(x.scalars(as: Float.self), dX.scalars(as: Float.self)).reduce(0.0) { $0 + Double($1.0 * $1.1) }
    #expect(abs(lhs - rhs) < 1e-4, "\(mode): \(lhs) vs \(rhs)")
}

/// Large enough that the passes run on several threads.
@Test func parallelResizeMatchesNaive() {
    let x = random([1, 4, 64, 64], seed: 23)
    let options = ResizeOptions(interpolation: .linear)
    let fast = resized(x, outShape: [1, 4, 128, 128], scales: [1, 1, 2, 2], options: options).scalars(as: Float.self)
    let naive = resizedNaive(x, outShape: [1, 4, 128, 128], scales: [1, 1, 2, 2], options: options).scalars(as: Float.self)
    #expect(zip(fast, naive).allSatisfy { abs($0 - $1) < 1e-5 })
}
