import Testing
@testable import Tensor

/// One convolution problem: input shape, weight shape (OC, C/group, k...), geometry.
struct ConvolutionCase: CustomTestStringConvertible, Sendable {
    let name: String
    let x: [Int]
    let w: [Int]
    let geometry: ConvolutionGeometry
    var testDescription: String { name }
}

let convolutionCases: [ConvolutionCase] = [
    .init(name: "3x3 pad 1", x: [2, 3, 5, 6], w: [4, 3, 3, 3], geometry: .init(kernelSize: 3, padding: 1)),
    .init(name: "strided, asymmetric pads", x: [1, 2, 7, 6], w: [3, 2, 3, 2],
          geometry: .init(kernelShape: [3, 2], strides: [2, 3], padsBegin: [1, 0], padsEnd: [2, 1])),
    .init(name: "dilated, 2 groups", x: [1, 4, 7, 7], w: [6, 2, 3, 3],
          geometry: .init(kernelShape: [3, 3], dilations: [2, 1], padsBegin: [1, 1], padsEnd: [1, 1], group: 2)),
    .init(name: "1x1", x: [2, 5, 4, 3], w: [3, 5, 1, 1], geometry: .init(kernelSize: 1)),
    .init(name: "1x1 stride 2", x: [1, 3, 5, 5], w: [2, 3, 1, 1], geometry: .init(kernelSize: 1, stride: 2)),
    .init(name: "1x1 padded", x: [1, 2, 3, 3], w: [2, 2, 1, 1], geometry: .init(kernelSize: 1, padding: 1)),
    .init(name: "depthwise x2", x: [1, 3, 6, 5], w: [6, 1, 3, 3], geometry: .init(kernelSize: 3, padding: 1, group: 3)),
    .init(name: "kernel wider than input", x: [1, 1, 2, 2], w: [2, 1, 3, 3], geometry: .init(kernelSize: 3, padding: 1)),
    .init(name: "stride 2 pad 1 (downsample)", x: [1, 2, 8, 8], w: [3, 2, 3, 3],
          geometry: .init(kernelSize: 3, stride: 2, padding: 1)),
    .init(name: "1-D", x: [2, 3, 9], w: [4, 3, 3],
          geometry: .init(kernelShape: [3], strides: [2], dilations: [2], padsBegin: [1], padsEnd: [0])),
    .init(name: "3-D", x: [1, 2, 4, 5, 3], w: [3, 2, 2, 3, 2],
          geometry: .init(kernelShape: [2, 3, 2], strides: [1, 2, 1], padsBegin: [1, 0, 1], padsEnd: [0, 1, 0])),
]

@Test(arguments: convolutionCases)
func convolutionMatchesReference(_ c: ConvolutionCase) {
    let x = convolutionTestTensor(c.x, seed: 1), w = convolutionTestTensor(c.w, seed: 2)
    let bias = convolutionTestTensor([c.w[0]], seed: 3)
    let y = conv2dForward(x: x, weight: w, bias: bias, geometry: c.geometry)
    expectClose(y, conv2dForwardReference(x: x, weight: w, bias: bias, geometry: c.geometry), "conv forward \(c.name)")
    let dY = convolutionTestTensor(y.shape, seed: 4)
    expectClose(conv2dBackwardData(dY: dY, weight: w, geometry: c.geometry, inputShape: c.x),
                conv2dBackwardDataReference(dY: dY, weight: w, geometry: c.geometry, inputShape: c.x),
                "conv backward data \(c.name)")
    expectClose(conv2dBackwardWeight(dY: dY, x: x, geometry: c.geometry, weightShape: c.w),
                conv2dBackwardWeightReference(dY: dY, x: x, geometry: c.geometry, weightShape: c.w),
                "conv backward weight \(c.name)")
}

@Test(arguments: convolutionCases)
func convolutionGradientsMatchFiniteDifferences(_ c: ConvolutionCase) {
    let x = convolutionTestTensor(c.x, seed: 5), w = convolutionTestTensor(c.w, seed: 6)
    let bias = convolutionTestTensor([c.w[0]], seed: 7)
    let y = conv2dForward(x: x, weight: w, bias: bias, geometry: c.geometry)
    let r = convolutionTestTensor(y.shape, seed: 8)
    expectFiniteDifferences(of: { conv2dForward(x: $0, weight: w, bias: bias, geometry: c.geometry) }, at: x,
                            projection: r,
                            gradient: conv2dBackwardData(dY: r, weight: w, geometry: c.geometry, inputShape: c.x),
                            "conv dX \(c.name)")
    expectFiniteDifferences(of: { conv2dForward(x: x, weight: $0, bias: bias, geometry: c.geometry) }, at: w,
                            projection: r,
                            gradient: conv2dBackwardWeight(dY: r, x: x, geometry: c.geometry, weightShape: c.w),
                            "conv dW \(c.name)")
    expectFiniteDifferences(of: { conv2dForward(x: x, weight: w, bias: $0, geometry: c.geometry) }, at: bias,
                            projection: r, gradient: conv2dBackwardBias(dY: r), "conv dB \(c.name)")
}

@Test func convolutionByHand() {
    // ONNX's test_basic_conv_with_padding: 0...24 as 5x5, a 3x3 kernel of ones, pad 1.
    let x = Tensor(shape: [1, 1, 5, 5], floats: (0..<25).map(Float.init))
    let w = Tensor(shape: [1, 1, 3, 3], floats: Array(repeating: 1, count: 9))
    let y = conv2dForward(x: x, weight: w, bias: nil, geometry: .init(kernelSize: 3, padding: 1))
    #expect(y.scalars(as: Float.self) == [12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
                                          93, 144, 153, 162, 111, 72, 111, 117, 123, 84])
    let strided = conv2dForward(x: x, weight: w, bias: Tensor(shape: [1], floats: [0.5]),
                                geometry: .init(kernelSize: 3, stride: 2))
    #expect(strided.shape == [1, 1, 2, 2])
    #expect(strided.scalars(as: Float.self) == [54.5, 72.5, 144.5, 162.5])
}

@Test func convolutionOfEmptyBatch() {
    let g = ConvolutionGeometry(kernelSize: 3, padding: 1)
    let x = Tensor(zeros: [0, 2, 4, 4]), w = convolutionTestTensor([3, 2, 3, 3], seed: 9)
    let y = conv2dForward(x: x, weight: w, bias: nil, geometry: g)
    #expect(y.shape == [0, 3, 4, 4])
    #expect(conv2dBackwardData(dY: y, weight: w, geometry: g, inputShape: x.shape).shape == x.shape)
    let dW = conv2dBackwardWeight(dY: y, x: x, geometry: g, weightShape: w.shape)
    #expect(dW.shape == w.shape && dW.scalars(as: Float.self).allSatisfy { $0 == 0 })
    #expect(conv2dBackwardBias(dY: y).scalars(as: Float.self) == [0, 0, 0])
}

/// The cores with tiny column chunks (several chunks per image), split over parallel workers, agree with the
/// one-chunk serial results.
@Test func convolutionChunkingAndThreadsAreInvisible() {
    let geometry = ConvolutionGeometry(kernelShape: [3, 2], strides: [2, 1], padsBegin: [1, 0], padsEnd: [1, 1])
    let x = convolutionTestTensor([2, 2, 9, 5], seed: 10), w = convolutionTestTensor([3, 2, 3, 2], seed: 11)
    let bias = convolutionTestTensor([3], seed: 12)
    let y = conv2dForward(x: x, weight: w, bias: bias, geometry: geometry)
    let dY = convolutionTestTensor(y.shape, seed: 13)
    let plan = ConvolutionPlan(batch: 2, inputChannels: 2, outputChannels: 3, inputSpatial: [9, 5],
                               outputSpatial: Array(y.shape[2...]), geometry: geometry, columnChunkFloats: 30,
                               parallelThreshold: 0)
    #expect(plan.rowsPerChunk < plan.outputRows)
    #expect(plan.workers(tasks: 4) == min(4, kernelThreadCount))
    let chunkedY = Tensor(uninitialized: y.shape)
    convolutionForwardCore(x: x.pointer(as: Float.self), w: w.pointer(as: Float.self),
                           bias: bias.pointer(as: Float.self), y: chunkedY.pointer(as: Float.self), plan: plan)
    expectClose(chunkedY, y, "chunked conv forward")
    let chunkedDX = Tensor(zeros: x.shape)
    convolutionAdjointCore(dy: dY.pointer(as: Float.self), w: w.pointer(as: Float.self),
                           x: chunkedDX.pointer(as: Float.self), plan: plan)
    expectClose(chunkedDX, conv2dBackwardData(dY: dY, weight: w, geometry: geometry, inputShape: x.shape),
                "chunked conv backward data")
    let chunkedDW = Tensor(zeros: w.shape)
    convolutionWeightGradientCore(dy: dY.pointer(as: Float.self), x: x.pointer(as: Float.self),
                                  dw: chunkedDW.pointer(as: Float.self), plan: plan)
    expectClose(chunkedDW, conv2dBackwardWeight(dY: dY, x: x, geometry: geometry, weightShape: w.shape),
                "chunked conv backward weight")
}

@Test func convolutionShapeProblemsAreWorded() {
    let g = ConvolutionGeometry(kernelSize: 3)
    #expect(g.convolutionShapeProblem(inputShape: [1, 128, 8, 8], weightShape: [4, 64, 3, 3])
            == "input has 128 channels, weight expects 64 (group 1)")
    #expect(g.convolutionShapeProblem(inputShape: [1, 64, 8], weightShape: [4, 64, 3, 3])
            == "input has 3 dimensions, expected 4 (N, C and 2 spatial)")
    #expect(g.convolutionShapeProblem(inputShape: [1, 64, 8, 8], weightShape: [4, 64, 3, 3]) == nil)
    #expect(g.outputSpatialShape(inputSpatialShape: [2, 8]) == [0, 6])
}

/// The bias gradient (chunked relaxed sums, one task per channel) against a Double sum, on planes with ragged tails
/// and big enough to be split over the threads; one image's sum is the same bits alone or in a batch.
@Test func biasGradientSumsEachChannel() {
    for (n, c, h, w) in [(1, 3, 1, 1), (2, 5, 7, 9), (3, 4, 67, 131)] {
        let dY = convolutionTestTensor([n, c, h, w], seed: 17)
        let v = dY.scalars(as: Float.self), size = h * w
        let sums = conv2dBackwardBias(dY: dY).scalars(as: Float.self)
        for j in 0..<c {
            var exact = 0.0, magnitude = 0.0
            for i in 0..<n { for p in 0..<size { exact += Double(v[(i * c + j) * size + p]); magnitude += abs(Double(v[(i * c + j) * size + p])) } }
            #expect(abs(Double(sums[j]) - exact) <= 1e-6 * magnitude + 1e-6, "n \(n) c \(c) \(h)x\(w) channel \(j)")
        }
        let first = Tensor(shape: [1, c, h, w], floats: Array(v[0..<c * size]))
        let alone = conv2dBackwardBias(dY: first).scalars(as: Float.self)
        let batched = conv2dBackwardBias(dY: Tensor(shape: [2, c, h, w], floats: Array(v[0..<c * size]) + Array(repeating: 0, count: c * size)))
        #expect(alone == batched.scalars(as: Float.self))
    }
}
