import Testing
import ONNX
import Tensor
@testable import Runtime

private let x23 = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])

@Test func padModesOnOneRow() throws {
    let row = Tensor(shape: [1, 3], floats: [1, 2, 3])
    func pad(_ mode: String, _ pads: [Int]) throws -> [Float] {
        try runShapeFamilyOp("Pad", [row, int64s(pads)], ["mode": .string(mode)])[0].scalars(as: Float.self)
    }
    #expect(try pad("constant", [0, 1, 0, 1]) == [0, 1, 2, 3, 0])
    #expect(try pad("reflect", [0, 2, 0, 2]) == [3, 2, 1, 2, 3, 2, 1])
    #expect(try pad("edge", [0, 2, 0, 1]) == [1, 1, 1, 2, 3, 3])
    #expect(try pad("wrap", [0, 2, 0, 1]) == [2, 3, 1, 2, 3, 1])
    // Reflection past the edge keeps bouncing, as numpy.pad does.
    #expect(try pad("reflect", [0, 4, 0, 0]) == [1, 2, 3, 2, 1, 2, 3])
    // Negative pads crop.
    #expect(try pad("constant", [0, -1, 0, 0]) == [2, 3])
    #expect(try pad("edge", [0, -1, 0, 2]) == [2, 3, 3, 3])
}

@Test func padAcrossOpsets() throws {
    // Opset 2: pads and value attributes.
    let old = try runShapeFamilyOp("Pad", opset: 2, [x23], ["pads": .ints([1, 0, 0, 0]), "value": .float(9)])[0]
    #expect(old.shape == [3, 3] && old.scalars(as: Float.self) == [9, 9, 9, 1, 2, 3, 4, 5, 6])
    // Opset 11: pads and constant_value inputs.
    let c = try runShapeFamilyOp("Pad", opset: 11, [x23, int64s([0, 0, 1, 0]), Tensor(scalar: Float(-1))])[0]
    #expect(c.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6, -1, -1, -1])
    // Opset 18: axes input (negative axes allowed); pads then cover the listed axes only.
    let a = try runShapeFamilyOp("Pad", opset: 18, [x23, int64s([1, 1]), nil, int64s([-1])])[0]
    #expect(a.scalars(as: Float.self) == [0, 1, 2, 3, 0, 0, 4, 5, 6, 0])
    // wrap exists from opset 19 only.
    #expect(throws: ONNXError.self) { try runShapeFamilyOp("Pad", opset: 18, [x23, int64s([0, 0, 0, 0])], ["mode": .string("wrap")]) }
    // Integer data with an integer constant.
    let ints = Tensor(shape: [2], scalars: [Int64(5), 6])
    #expect(try runShapeFamilyOp("Pad", [ints, int64s([1, 1]), Tensor(scalar: Int64(-7))])[0].ints() == [-7, 5, 6, -7])
}

@Test func padRejectsBadInputs() throws {
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Pad", [x23, int64s([1, 1])]) }
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Pad", [x23, int64s([0, -2, 0, -2])]) }
    let empty = Tensor(zeros: [0, 2])
    #expect(throws: KernelError.self) {
        try runShapeFamilyOp("Pad", [empty, int64s([1, 0, 0, 0])], ["mode": .string("reflect")])
    }
    // Constant padding of an empty tensor is fine.
    #expect(try runShapeFamilyOp("Pad", [empty, int64s([1, 0, 0, 0])])[0].shape == [1, 2])
}

@Test func padBackwardSumsReflectedGradients() {
    // Row of 3 reflect-padded by 2 on each side reads [2, 1, 0, 1, 2, 1, 0]: counts 2, 3, 2.
    let dY = Tensor(shape: [1, 1, 1, 7], floats: Array(repeating: 1, count: 7))
    let dX = padBackward(dY, inputShape: [1, 1, 1, 3], pads: [0, 0, 0, 2, 0, 0, 0, 2], mode: .reflect)
    #expect(dX.scalars(as: Float.self) == [2, 3, 2])
    let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    let y = padForward(x, pads: [0, 0, 1, 1, 0, 0, 1, 1], mode: .reflect)
    #expect(y.shape == [1, 1, 4, 4])
    #expect(y.scalars(as: Float.self) == [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1])
}

@Test func centerCropPadKeepsTheCentre() throws {
    let x = iota([3, 4])
    // Rows 3 -> 5 (pad 1 and 1), columns 4 -> 1 (crop 1 before, 2 after).
    let y = try runShapeFamilyOp("CenterCropPad", opset: 18, [x, int64s([5, 1])])[0]
    #expect(y.shape == [5, 1] && y.scalars(as: Float.self) == [0, 1, 5, 9, 0])
    let z = try runShapeFamilyOp("CenterCropPad", opset: 18, [x, int64s([2])], ["axes": .ints([-1])])[0]
    #expect(z.shape == [3, 2] && z.scalars(as: Float.self)[0..<2] == [1, 2])
}
