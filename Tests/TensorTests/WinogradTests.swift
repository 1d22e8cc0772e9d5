import Testing
@testable import Tensor

// F(2x2, 3x3) against the Double reference (ConvolutionReference.swift). Error bound: the transforms only add,
// subtract and halve, so |Winograd - exact| stays within a few float32 ulps of sum |x||w| (about 9 C here,
// with entries in [-1, 1)): 1e-4 scaled by max(1, |y|) holds with a wide margin for these channel counts.

struct WinogradCase: CustomTestStringConvertible, Sendable {
    let name: String
    let x: [Int]
    let oc: Int
    let padsBegin: [Int]
    let padsEnd: [Int]
    let bias: Bool
    var testDescription: String { name }
    var geometry: ConvolutionGeometry { .init(kernelShape: [3, 3], padsBegin: padsBegin, padsEnd: padsEnd) }
}

let winogradCases: [WinogradCase] = [
    .init(name: "odd size pad 1 bias", x: [2, 11, 7, 9], oc: 13, padsBegin: [1, 1], padsEnd: [1, 1], bias: true),
    .init(name: "odd size pad 0", x: [2, 9, 9, 7], oc: 10, padsBegin: [0, 0], padsEnd: [0, 0], bias: false),
    .init(name: "asymmetric pads", x: [1, 8, 6, 5], oc: 9, padsBegin: [0, 2], padsEnd: [1, 0], bias: true),
    .init(name: "wide pads", x: [1, 5, 3, 4], oc: 3, padsBegin: [2, 3], padsEnd: [3, 1], bias: true),
    .init(name: "one output", x: [1, 3, 3, 3], oc: 2, padsBegin: [0, 0], padsEnd: [0, 0], bias: true),
    .init(name: "even size pad 1", x: [2, 16, 12, 10], oc: 8, padsBegin: [1, 1], padsEnd: [1, 1], bias: false),
    // OW 21: 8 tiles in SIMD, 2 scalar full tiles, one half tile.
    .init(name: "wide rows", x: [1, 8, 5, 21], oc: 9, padsBegin: [1, 1], padsEnd: [1, 1], bias: true),
    .init(name: "wide rows, even", x: [2, 8, 4, 34], oc: 8, padsBegin: [1, 0], padsEnd: [0, 1], bias: true),
]

@Test(arguments: winogradCases)
func winogradMatchesReference(_ c: WinogradCase) {
    let w = [c.oc, c.x[1], 3, 3]
    #expect(winogradApplies(inputShape: c.x, weightShape: w, geometry: c.geometry))
    let x = convolutionTestTensor(c.x, seed: 11), weight = convolutionTestTensor(w, seed: 12)
    let bias = c.bias ? convolutionTestTensor([c.oc], seed: 13) : nil
    let want = conv2dForwardReference(x: x, weight: weight, bias: bias, geometry: c.geometry)
    let got = conv2dForwardWinograd(x: x, weights: WinogradWeights(weight: weight), bias: bias, geometry: c.geometry)
    expectClose(got, want, tolerance: 1e-5, "winograd \(c.name)")
}

/// Chunked and threaded: tiny chunks (one tile row each) and a zero parallel threshold, so the chunks are
/// tasks spread over the workers.
@Test func winogradChunksAndThreads() {
    let xs = [2, 9, 13, 11], ws = [12, 9, 3, 3]
    let g = ConvolutionGeometry(kernelSize: 3, padding: 1)
    let x = convolutionTestTensor(xs, seed: 21), weight = convolutionTestTensor(ws, seed: 22)
    let bias = convolutionTestTensor([12], seed: 23)
    let want = conv2dForwardReference(x: x, weight: weight, bias: bias, geometry: g)
    let y = Tensor(uninitialized: want.shape)
    let p = WinogradProblem(batch: 2, channels: 9, outputChannels: 12, height: 13, width: 11,
                            outputHeight: 13, outputWidth: 11, padTop: 1, padLeft: 1)
    let weights = WinogradWeights(weight: weight), u = weights.u
    withExtendedLifetime((x, u, bias, y)) {
        winogradForwardCore(x: x.pointer(as: Float.self), u: u.pointer(as: Float.self), packed: weights.packed,
                            bias: bias.pointer(as: Float.self), y: y.pointer(as: Float.self), problem: p,
                            chunkFloats: 1, parallelThreshold: 0, minimumChunkTiles: 1)
    }
    expectClose(y, want, tolerance: 1e-5, "winograd chunked")
}

/// conv2dForward routes qualifying shapes to Winograd and the rest to im2col; both agree with the reference.
@Test func winogradRouting() {
    let g = ConvolutionGeometry(kernelSize: 3, padding: 1)
    #expect(winogradPreferred(inputShape: [1, 16, 32, 32], weightShape: [16, 16, 3, 3], geometry: g))
    #expect(!winogradPreferred(inputShape: [1, 3, 32, 32], weightShape: [16, 3, 3, 3], geometry: g))
    #expect(!winogradPreferred(inputShape: [1, 16, 32, 32], weightShape: [16, 16, 3, 3],
                               geometry: .init(kernelSize: 3, stride: 2, padding: 1)))
    #expect(!winogradApplies(inputShape: [1, 16, 32, 32], weightShape: [16, 8, 3, 3],
                             geometry: .init(kernelSize: 3, padding: 1, group: 2)))
    #expect(!winogradApplies(inputShape: [1, 16, 32, 32], weightShape: [16, 16, 3, 3],
                             geometry: .init(kernelSize: 3, padding: 1, dilation: 2)))
    #expect(!winogradApplies(inputShape: [1, 16, 2, 2], weightShape: [16, 16, 3, 3], geometry: .init(kernelSize: 3)))
    let x = convolutionTestTensor([1, 16, 9, 10], seed: 31), w = convolutionTestTensor([8, 16, 3, 3], seed: 32)
    let bias = convolutionTestTensor([8], seed: 33)
    expectClose(conv2dForward(x: x, weight: w, bias: bias, geometry: g),
                conv2dForwardReference(x: x, weight: w, bias: bias, geometry: g), tolerance: 1e-5, "routed conv")
}

