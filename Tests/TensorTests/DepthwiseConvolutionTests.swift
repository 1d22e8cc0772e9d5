import Testing
@testable import Tensor

/// Depthwise problems (one input channel per group) at geometries that exercise the kernel's column ranges:
/// strides that skip, dilations past the border, asymmetric and over-wide pads, multipliers, 1-D, a batch.
let depthwiseCases: [ConvolutionCase] = [
    .init(name: "3x3 pad 1", x: [1, 4, 7, 9], w: [4, 1, 3, 3], geometry: .init(kernelSize: 3, padding: 1, group: 4)),
    .init(name: "3x3 stride 2, batch 2", x: [2, 3, 9, 8], w: [3, 1, 3, 3],
          geometry: .init(kernelSize: 3, stride: 2, padding: 1, group: 3)),
    .init(name: "5x5 asymmetric pads, stride (1, 2)", x: [1, 2, 6, 11], w: [2, 1, 5, 5],
          geometry: .init(kernelShape: [5, 5], strides: [1, 2], padsBegin: [2, 1], padsEnd: [1, 3], group: 2)),
    .init(name: "dilated 2, multiplier 3", x: [1, 2, 8, 7], w: [6, 1, 3, 3],
          geometry: .init(kernelShape: [3, 3], dilations: [2, 3], padsBegin: [2, 3], padsEnd: [2, 3], group: 2)),
    .init(name: "pads wider than the kernel", x: [1, 2, 3, 2], w: [2, 1, 3, 3],
          geometry: .init(kernelShape: [3, 3], padsBegin: [3, 4], padsEnd: [2, 3], group: 2)),
    .init(name: "no padding, 7x7 on 7x9", x: [1, 3, 7, 9], w: [3, 1, 7, 7], geometry: .init(kernelSize: 7, group: 3)),
    .init(name: "5x5 pad 2 (interior taps fused)", x: [1, 3, 9, 13], w: [3, 1, 5, 5],
          geometry: .init(kernelSize: 5, padding: 2, group: 3)),
    .init(name: "3x3 stride 3, pad 1", x: [1, 2, 10, 17], w: [2, 1, 3, 3],
          geometry: .init(kernelSize: 3, stride: 3, padding: 1, group: 2)),
    .init(name: "5x5 stride 2 on an odd width", x: [1, 2, 11, 21], w: [4, 1, 5, 5],
          geometry: .init(kernelSize: 5, stride: 2, padding: 2, group: 2)),
    .init(name: "3x3 stride 2, dilation 2, multiplier 2", x: [1, 2, 13, 12], w: [4, 1, 3, 3],
          geometry: .init(kernelShape: [3, 3], strides: [2, 2], dilations: [2, 2], padsBegin: [2, 1], padsEnd: [2, 2], group: 2)),
    .init(name: "7x7 plane, 5x5 pad 2 (a mobile net's last stage)", x: [1, 3, 7, 7], w: [3, 1, 5, 5],
          geometry: .init(kernelSize: 5, padding: 2, group: 3)),
    .init(name: "1-D stride 3", x: [2, 3, 13], w: [6, 1, 4],
          geometry: .init(kernelShape: [4], strides: [3], padsBegin: [2], padsEnd: [1], group: 3)),
]

@Test(arguments: depthwiseCases)
func depthwiseConvolutionMatchesReference(_ c: ConvolutionCase) {
    let x = convolutionTestTensor(c.x, seed: 11), w = convolutionTestTensor(c.w, seed: 12)
    let bias = convolutionTestTensor([c.w[0]], seed: 13)
    let plan = ConvolutionPlan(batch: c.x[0], inputChannels: c.x[1], outputChannels: c.w[0],
                               inputSpatial: Array(c.x[2...]),
                               outputSpatial: c.geometry.outputSpatialShape(inputSpatialShape: Array(c.x[2...])),
                               geometry: c.geometry)
    #expect(plan.isDepthwise, "\(c.name) takes the depthwise path")
    let want = conv2dForwardReference(x: x, weight: w, bias: bias, geometry: c.geometry)
    expectClose(conv2dForward(x: x, weight: w, bias: bias, geometry: c.geometry), want, "depthwise \(c.name)")
    expectClose(conv2dForward(x: x, weight: w, bias: nil, geometry: c.geometry),
                conv2dForwardReference(x: x, weight: w, bias: nil, geometry: c.geometry), "depthwise \(c.name), no bias")
}

@Test func depthwiseConvolutionThreadedMatchesReference() {
    // Big enough to pass the parallel threshold: planes spread over workers.
    let geometry = ConvolutionGeometry(kernelSize: 3, padding: 1, group: 32)
    let x = convolutionTestTensor([1, 32, 96, 96], seed: 14), w = convolutionTestTensor([32, 1, 3, 3], seed: 15)
    let plan = ConvolutionPlan(batch: 1, inputChannels: 32, outputChannels: 32, inputSpatial: [96, 96],
                               outputSpatial: [96, 96], geometry: geometry, parallelThreshold: 1)
    let y = Tensor(uninitialized: [1, 32, 96, 96])
    depthwiseConvolutionForward(x: x.pointer(as: Float.self), w: w.pointer(as: Float.self), bias: nil,
                                y: y.pointer(as: Float.self), plan: plan)
    expectClose(y, conv2dForwardReference(x: x, weight: w, bias: nil, geometry: geometry), "threaded depthwise")
}

@Test func groupedConvolutionWithSeveralChannelsPerGroupOrManyFiltersIsNotDepthwise() {
    let plan = ConvolutionPlan(batch: 1, inputChannels: 4, outputChannels: 4, inputSpatial: [5, 5],
                               outputSpatial: [5, 5], geometry: .init(kernelSize: 3, padding: 1, group: 2))
    #expect(!plan.isDepthwise)
    // One input channel with 257 filters (an STFT as Conv1d) is a GEMM's job.
    let stft = ConvolutionPlan(batch: 1, inputChannels: 1, outputChannels: 257, inputSpatial: [16000], outputSpatial: [97],
                               geometry: .init(kernelShape: [512], strides: [160]))
    #expect(!stft.isDepthwise)
}

@Test func depthwiseConvolutionAppliesItsFusedActivation() {
    // The activation runs on each output plane inside the C kernel; the reference applies it afterwards.
    let geometry = ConvolutionGeometry(kernelSize: 3, stride: 2, padding: 1, group: 5)
    let x = convolutionTestTensor([2, 5, 11, 10], seed: 16), w = convolutionTestTensor([10, 1, 3, 3], seed: 17)
    let bias = convolutionTestTensor([10], seed: 18)
    for activation: FusedActivation in [.hardSwish, .relu, .silu] {
        let want = conv2dForwardReference(x: x, weight: w, bias: bias, geometry: geometry)
        activation.applyScalar(want.pointer(as: Float.self), count: want.count)
        expectClose(conv2dForward(x: x, weight: w, bias: bias, geometry: geometry, activation: activation), want,
                    "depthwise + \(activation)")
    }
}
