import ONNX
import Testing
@testable import Runtime
import Tensor

@Test func maxPoolOperatorWithIndicesAndStorageOrder() throws {
    let x = Tensor(shape: [1, 1, 3, 3], floats: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    let attrs: [String: Attribute] = ["kernel_shape": .ints([2, 2]), "strides": .ints([1, 1])]
    let out = try runRegisteredOperator("MaxPool", opset: 12, [x], attributes: attrs, outputs: 2)
    expectClose(out[0], [5, 6, 8, 9], shape: [1, 1, 2, 2])
    #expect(out[1].ints() == [4, 5, 7, 8])
    var colAttrs = attrs
    colAttrs["storage_order"] = .int(1)
    let col = try runRegisteredOperator("MaxPool", opset: 12, [x], attributes: colAttrs, outputs: 2)
    #expect(col[1].ints() == [4, 7, 5, 8])
    // One output requested: one returned.
    #expect(try runRegisteredOperator("MaxPool", opset: 12, [x], attributes: attrs).count == 1)
}

@Test func maxPoolSameUpperAndUInt8() throws {
    let x = Tensor(shape: [1, 1, 2, 3], scalars: [UInt8(1), 9, 3, 4, 5, 200])
    let out = try runRegisteredOperator("MaxPool", opset: 12, [x], attributes: [
        "kernel_shape": .ints([2, 2]), "auto_pad": .string("SAME_UPPER"), "strides": .ints([2, 2])])
    #expect(out[0].dtype == .uint8)
    #expect(out[0].shape == [1, 1, 1, 2])
    #expect(out[0].ints() == [9, 200])
}

@Test func averagePoolOperatorPadsAndCeil() throws {
    let x = Tensor(shape: [1, 1, 3, 3], floats: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    let out = try runRegisteredOperator("AveragePool", opset: 19, [x], attributes: [
        "kernel_shape": .ints([2, 2]), "strides": .ints([2, 2]), "ceil_mode": .int(1)])
    expectClose(out[0], [3, 4.5, 7.5, 9], shape: [1, 1, 2, 2])
    let padded = try runRegisteredOperator("AveragePool", opset: 11, [x], attributes: [
        "kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1]), "count_include_pad": .int(1)])
    expectClose(padded[0], [12.0 / 9, 21.0 / 9, 16.0 / 9, 27.0 / 9, 45.0 / 9, 33.0 / 9, 24.0 / 9, 39.0 / 9, 28.0 / 9])
}

@Test func globalPoolOperators() throws {
    let x = Tensor(shape: [1, 2, 1, 3], floats: [1, 2, 3, -4, -5, -6])
    expectClose(try runRegisteredOperator("GlobalAveragePool", opset: 1, [x])[0], [2, -5], shape: [1, 2, 1, 1])
    expectClose(try runRegisteredOperator("GlobalMaxPool", opset: 1, [x])[0], [3, -4], shape: [1, 2, 1, 1])
}

@Test func lpPoolOperator() throws {
    let x = Tensor(shape: [1, 1, 4], floats: [3, 4, -6, 8])
    let out = try runRegisteredOperator("LpPool", opset: 18, [x], attributes: [
        "kernel_shape": .ints([2]), "strides": .ints([2]), "p": .int(2)])
    expectClose(out[0], [5, 10], shape: [1, 1, 2])
}

@Test func poolingRejectsWrongRank() {
    #expect(throws: KernelError.self) {
        try runRegisteredOperator("MaxPool", opset: 12, [Tensor(zeros: [2, 3])],
                                  attributes: ["kernel_shape": .ints([2, 2])])
    }
}
