import Testing
import ONNX
import Tensor
@testable import Runtime

@Test func constantReadsEveryValueAttribute() throws {
    #expect(try runShapeFamilyOp("Constant", [], ["value": .tensor(iota([2]))])[0].scalars(as: Float.self) == [0, 1])
    let f = try runShapeFamilyOp("Constant", [], ["value_float": .float(2.5)])[0]
    #expect(f.shape == [] && f.dtype == .float32 && f.doubles() == [2.5])
    #expect(try runShapeFamilyOp("Constant", [], ["value_floats": .floats([1, 2])])[0].shape == [2])
    let i = try runShapeFamilyOp("Constant", [], ["value_int": .int(7)])[0]
    #expect(i.dtype == .int64 && i.shape == [] && i.ints() == [7])
    #expect(try runShapeFamilyOp("Constant", [], ["value_ints": .ints([3, 4])])[0].ints() == [3, 4])
    #expect(try runShapeFamilyOp("Constant", [], ["value_strings": .strings(["a", "b"])])[0].strings == ["a", "b"])
    #expect(throws: ONNXError.self) { try runShapeFamilyOp("Constant", [], [:]) }
}

@Test func constantOfShapeRangeEyeLike() throws {
    let z = try runShapeFamilyOp("ConstantOfShape", [int64s([2, 3])])[0]
    #expect(z.dtype == .float32 && z.shape == [2, 3] && z.doubles().allSatisfy { $0 == 0 })
    let ones = try runShapeFamilyOp("ConstantOfShape", [int64s([2])], ["value": .tensor(Tensor(shape: [1], scalars: [Int32(5)]))])[0]
    #expect(ones.dtype == .int32 && ones.ints() == [5, 5])
    #expect(try runShapeFamilyOp("ConstantOfShape", [int64s([0])])[0].shape == [0])

    let r = try runShapeFamilyOp("Range", [Tensor(scalar: Int32(10)), Tensor(scalar: Int32(6)), Tensor(scalar: Int32(-3))])[0]
    #expect(r.dtype == .int32 && r.ints() == [10, 7])
    let f = try runShapeFamilyOp("Range", [Tensor(scalar: Float(1)), Tensor(scalar: Float(2)), Tensor(scalar: Float(0.25))])[0]
    #expect(f.scalars(as: Float.self) == [1, 1.25, 1.5, 1.75])
    #expect(try runShapeFamilyOp("Range", [Tensor(scalar: Int64(5)), Tensor(scalar: Int64(1)), Tensor(scalar: Int64(1))])[0].shape == [0])

    let eye = try runShapeFamilyOp("EyeLike", [Tensor(zeros: [2, 3], dtype: .int32)], ["k": .int(1)])[0]
    #expect(eye.dtype == .int32 && eye.ints() == [0, 1, 0, 0, 0, 1])
    let typed = try runShapeFamilyOp("EyeLike", [Tensor(zeros: [2, 2])], ["dtype": .int(DType.float64.onnxCode)])[0]
    #expect(typed.dtype == .float64 && typed.doubles() == [1, 0, 0, 1])
}
