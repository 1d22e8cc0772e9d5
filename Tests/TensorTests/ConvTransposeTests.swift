import Testing
@testable import Tensor

/// One transposed convolution problem: input shape, weight shape (C, OC/group, k...), geometry, output padding.
struct ConvTransposeCase: CustomTestStringConvertible, Sendable {
    let name: String
    let x: [Int]
    let w: [Int]
    let geometry: ConvolutionGeometry
    var outputPadding: [Int]? = nil
    var testDescription: String { name }
}

let convTransposeCases: [ConvTransposeCase] = [
    .init(name: "3x3 stride 2 pad 1 output_padding 1 (seed decoder)", x: [1, 2, 3, 3], w: [2, 3, 3, 3],
          geometry: .init(kernelSize: 3, stride: 2, padding: 1), outputPadding: [1, 1]),
    .init(name: "2 groups, dilated, asymmetric", x: [2, 4, 3, 2], w: [4, 1, 3, 2],
          geometry: .init(kernelShape: [3, 2], strides: [1, 2], dilations: [2, 1], padsBegin: [0, 1],
                          padsEnd: [1, 0], group: 2)),
    .init(name: "1x1", x: [1, 3, 4, 4], w: [3, 2, 1, 1], geometry: .init(kernelSize: 1)),
    .init(name: "output_shape beyond the full output", x: [1, 1, 3, 3], w: [1, 2, 3, 3],
          geometry: .init(kernelShape: [3, 3], strides: [3, 2]), outputPadding: [1, 1]),
    .init(name: "negative padding (extended output)", x: [1, 2, 2, 3], w: [2, 2, 2, 2],
          geometry: .init(kernelShape: [2, 2], strides: [2, 2], padsBegin: [0, -1], padsEnd: [-1, 1])),
    .init(name: "1-D", x: [2, 3, 5], w: [3, 2, 3],
          geometry: .init(kernelShape: [3], strides: [2], padsBegin: [1], padsEnd: [0]), outputPadding: [1]),
    .init(name: "3-D", x: [1, 2, 2, 3, 2], w: [2, 2, 2, 2, 3],
          geometry: .init(kernelShape: [2, 2, 3], strides: [2, 1, 2], padsBegin: [0, 1, 1], padsEnd: [1, 0, 0])),
]

@Test(arguments: convTransposeCases)
func convTransposeMatchesReference(_ c: ConvTransposeCase) {
    let x = convolutionTestTensor(c.x, seed: 21), w = convolutionTestTensor(c.w, seed: 22)
    let bias = convolutionTestTensor([c.w[1] * c.geometry.group], seed: 23)
    let y = convTranspose2dForward(x: x, weight: w, bias: bias, geometry: c.geometry, outputPadding: c.outputPadding)
    expectClose(y, convTranspose2dForwardReference(x: x, weight: w, bias: bias, geometry: c.geometry,
                                                   outputPadding: c.outputPadding),
                "convTranspose forward \(c.name)")
    let dY = convolutionTestTensor(y.shape, seed: 24)
    expectClose(convTranspose2dBackwardData(dY: dY, weight: w, geometry: c.geometry, inputShape: c.x),
                convTranspose2dBackwardDataReference(dY: dY, weight: w, geometry: c.geometry, inputShape: c.x),
                "convTranspose backward data \(c.name)")
    expectClose(convTranspose2dBackwardWeight(dY: dY, x: x, geometry: c.geometry, weightShape: c.w),
                convTranspose2dBackwardWeightReference(dY: dY, x: x, geometry: c.geometry, weightShape: c.w),
                "convTranspose backward weight \(c.name)")
}

@Test(arguments: convTransposeCases)
func convTransposeGradientsMatchFiniteDifferences(_ c: ConvTransposeCase) {
    let x = convolutionTestTensor(c.x, seed: 25), w = convolutionTestTensor(c.w, seed: 26)
    let bias = convolutionTestTensor([c.w[1] * c.geometry.group], seed: 27)
    func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        convTranspose2dForward(x: x, weight: w, bias: b, geometry: c.geometry, outputPadding: c.outputPadding)
    }
    let r = convolutionTestTensor(forward(x, w, bias).shape, seed: 28)
    expectFiniteDifferences(of: { forward($0, w, bias) }, at: x, projection: r,
                            gradient: convTranspose2dBackwardData(dY: r, weight: w, geometry: c.geometry,
                                                                  inputShape: c.x),
                            "convTranspose dX \(c.name)")
    expectFiniteDifferences(of: { forward(x, $0, bias) }, at: w, projection: r,
                            gradient: convTranspose2dBackwardWeight(dY: r, x: x, geometry: c.geometry,
                                                                    weightShape: c.w),
                            "convTranspose dW \(c.name)")
    expectFiniteDifferences(of: { forward(x, w, $0) }, at: bias, projection: r,
                            gradient: conv2dBackwardBias(dY: r), "convTranspose dB \(c.name)")
}

@Test func convTransposeByHand() {
    // ONNX's test_convtranspose: 0...8 as 3x3, a 3x3 kernel of ones into 2 channels.
    let x = Tensor(shape: [1, 1, 3, 3], floats: (0..<9).map(Float.init))
    let w = Tensor(shape: [1, 2, 3, 3], floats: Array(repeating: 1, count: 18))
    let y = convTranspose2dForward(x: x, weight: w, bias: nil, geometry: .init(kernelSize: 3))
    let plane: [Float] = [0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15, 9, 20, 33, 24, 13, 6, 13, 21, 15, 8]
    #expect(y.shape == [1, 2, 5, 5])
    #expect(y.scalars(as: Float.self) == plane + plane)
    // Stride 2, pad 1, output_padding 1 doubles the size: 3x3 -> 6x6.
    let up = convTranspose2dForward(x: x, weight: Tensor(shape: [1, 1, 3, 3], floats: Array(repeating: 1, count: 9)),
                                    bias: nil, geometry: .init(kernelSize: 3, stride: 2, padding: 1),
                                    outputPadding: [1, 1])
    #expect(up.shape == [1, 1, 6, 6])
    // Output (0, 0) gathers input (0, 0) through tap (1, 1); output (1, 1) gathers inputs (0..1, 0..1).
    #expect(up.floats[0] == 0 && up.floats[7] == 0 + 1 + 3 + 4)
}

@Test func convTransposeOfEmptyBatch() {
    let g = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
    let x = Tensor(zeros: [0, 2, 4, 4]), w = convolutionTestTensor([2, 3, 3, 3], seed: 29)
    let y = convTranspose2dForward(x: x, weight: w, bias: Tensor(zeros: [3]), geometry: g, outputPadding: [1, 1])
    #expect(y.shape == [0, 3, 8, 8])
    #expect(convTranspose2dBackwardData(dY: y, weight: w, geometry: g, inputShape: x.shape).shape == x.shape)
    #expect(convTranspose2dBackwardWeight(dY: y, x: x, geometry: g, weightShape: w.shape).shape == w.shape)
}

/// The adjoint core split into channel blocks on parallel workers agrees with the reference.
@Test func convTransposeChannelBlocksAreInvisible() {
    let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1)
    let x = convolutionTestTensor([1, 3, 4, 3], seed: 30), w = convolutionTestTensor([3, 5, 3, 3], seed: 31)
    let want = convTranspose2dForwardReference(x: x, weight: w, bias: nil, geometry: geometry, outputPadding: [1, 0])
    let plan = ConvolutionPlan(batch: 1, inputChannels: 5, outputChannels: 3, inputSpatial: Array(want.shape[2...]),
                               outputSpatial: [4, 3], geometry: geometry, columnChunkFloats: 50, parallelThreshold: 0)
    let y = Tensor(zeros: want.shape)
    convolutionAdjointCore(dy: x.pointer(as: Float.self), w: w.pointer(as: Float.self), x: y.pointer(as: Float.self),
                           plan: plan)
    expectClose(y, want, "convTranspose forward in channel blocks")
}
