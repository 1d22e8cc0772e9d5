import Testing
import ONNX
import Tensor
@testable import Runtime

private func makeOperator(_ opType: String, _ attributes: [String: Attribute], opset: Int = 17,
                          constants: [Tensor?] = []) throws -> any Operator {
    let node = Node(name: "c", opType: opType, inputs: ["x", "w", "b"], outputs: ["y"], attributes: attributes)
    let registration = try #require(OperatorRegistry.lookup(domain: "", opType: opType, opset: opset))
    return try registration.make(OperatorContext(node: node, opset: opset, constants: constants))
}

private func ramp(_ shape: [Int]) -> Tensor { Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map(Float.init)) }
private func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, floats: Array(repeating: 1, count: shape.reduce(1, *))) }

@Test func convWithAutoPadSameLower() throws {
    // ONNX's test_conv_with_autopad_same.
    let conv = try makeOperator("Conv", ["auto_pad": .string("SAME_LOWER"), "kernel_shape": .ints([3, 3]),
                                         "strides": .ints([2, 2])])
    let y = try conv.run([ramp([1, 1, 5, 5]), ones([1, 1, 3, 3])])[0]
    #expect(y.shape == [1, 1, 3, 3])
    #expect(y.scalars(as: Float.self) == [12, 27, 24, 63, 108, 81, 72, 117, 84])
}

@Test func convWithStridesAndAsymmetricPads() throws {
    // ONNX's test_conv_with_strides_and_asymmetric_padding.
    let conv = try makeOperator("Conv", ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 0, 1, 0]),
                                         "strides": .ints([2, 2])])
    let y = try conv.run([ramp([1, 1, 7, 5]), ones([1, 1, 3, 3])])[0]
    #expect(y.shape == [1, 1, 4, 2])
    #expect(y.scalars(as: Float.self) == [21, 33, 99, 117, 189, 207, 171, 183])
}

@Test func convWithBiasAndGroups() throws {
    let conv = try makeOperator("Conv", ["group": .int(2), "pads": .ints([1, 1, 1, 1])])
    let x = ramp([1, 4, 3, 3]), w = Tensor(shape: [2, 2, 3, 3], floats: (0..<36).map { Float($0 % 5) - 2 })
    let b = Tensor(shape: [2], floats: [0.5, -1])
    let y = try conv.run([x, w, b])[0]
    let want = conv2dForwardReference(x: x, weight: w, bias: b, geometry: .init(kernelSize: 3, padding: 1, group: 2))
    #expect(y.shape == want.shape)
    #expect(y.scalars(as: Float.self) == want.scalars(as: Float.self))
}

@Test func convReportsChannelMismatch() throws {
    let conv = try makeOperator("Conv", [:])
    #expect(throws: KernelError("input has 128 channels, weight expects 64 (group 1)")) {
        _ = try conv.run([Tensor(zeros: [1, 128, 4, 4]), Tensor(zeros: [8, 64, 3, 3])])
    }
    #expect(throws: KernelError.self) {
        _ = try conv.run([Tensor(zeros: [1, 64, 2, 2]), Tensor(zeros: [8, 64, 3, 3])])
    }
}

@Test func convRejectsBadAttributesAtLoad() {
    #expect(throws: ONNXError.self) { _ = try makeOperator("Conv", ["auto_pad": .string("SAME")]) }
    #expect(throws: ONNXError.self) {
        _ = try makeOperator("Conv", ["kernel_shape": .ints([5, 5])], constants: [nil, Tensor(zeros: [2, 1, 3, 3])])
    }
}

@Test func convTransposeWithOutputShape() throws {
    // ONNX's test_convtranspose_output_shape: the requested 10x8 is one past the full 9x7 output.
    let op = try makeOperator("ConvTranspose", ["strides": .ints([3, 2]), "output_shape": .ints([10, 8])])
    let x = ramp([1, 1, 3, 3]), w = ones([1, 2, 3, 3])
    let y = try op.run([x, w])[0]
    let want = convTranspose2dForwardReference(x: x, weight: w, bias: nil,
                                               geometry: .init(kernelShape: [3, 3], strides: [3, 2]),
                                               outputPadding: [1, 1])
    #expect(y.shape == [1, 2, 10, 8])
    #expect(y.scalars(as: Float.self) == want.scalars(as: Float.self))
}

@Test func convTransposeWithAutoPadSameUpper() throws {
    let op = try makeOperator("ConvTranspose", ["strides": .ints([2, 2]), "auto_pad": .string("SAME_UPPER")])
    let x = ramp([1, 1, 3, 3]), w = ones([1, 2, 3, 3])
    let y = try op.run([x, w])[0]
    // Full output 7x7, wanted 6x6: one unit of padding, at the end for SAME_UPPER.
    let want = convTranspose2dForwardReference(x: x, weight: w, bias: nil,
                                               geometry: .init(kernelShape: [3, 3], strides: [2, 2],
                                                               padsBegin: [0, 0], padsEnd: [1, 1]))
    #expect(y.shape == [1, 2, 6, 6])
    #expect(y.scalars(as: Float.self) == want.scalars(as: Float.self))
}

@Test func convTransposeWithPadsOutputPaddingAndBias() throws {
    let op = try makeOperator("ConvTranspose", ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                                "output_padding": .ints([1, 1])])
    let x = ramp([1, 2, 3, 3]), w = Tensor(shape: [2, 3, 3, 3], floats: (0..<54).map { Float($0 % 7) - 3 })
    let b = Tensor(shape: [3], floats: [1, 2, 3])
    let y = try op.run([x, w, b])[0]
    let want = convTranspose2dForwardReference(x: x, weight: w, bias: b,
                                               geometry: .init(kernelSize: 3, stride: 2, padding: 1),
                                               outputPadding: [1, 1])
    #expect(y.shape == [1, 3, 6, 6])
    #expect(y.scalars(as: Float.self) == want.scalars(as: Float.self))
    #expect(throws: KernelError("input has 3 channels, weight expects 2 (group 1)")) {
        _ = try op.run([ramp([1, 3, 3, 3]), w])
    }
}

@Test func convIntegerSubtractsZeroPoints() throws {
    // ONNX's test_convinteger_with_padding: uint8 2..10 as 3x3, a 2x2 kernel of ones, x_zero_point 1, pad 1.
    let op = try makeOperator("ConvInteger", ["pads": .ints([1, 1, 1, 1])], opset: 10)
    let x = Tensor(shape: [1, 1, 3, 3], scalars: (2...10).map { UInt8($0) })
    let w = Tensor(shape: [1, 1, 2, 2], scalars: [UInt8](repeating: 1, count: 4))
    let y = try op.run([x, w, Tensor(scalar: UInt8(1))])[0]
    #expect(y.dtype == .int32 && y.shape == [1, 1, 4, 4])
    #expect(y.ints() == [1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9])
}
