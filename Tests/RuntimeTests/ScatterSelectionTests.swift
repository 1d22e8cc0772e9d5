import Testing
import ONNX
import Tensor
@testable import Runtime

@Test func gatherNDAndScatterND() throws {
    let data = iota([2, 2])
    // Tuples of 2 pick elements; tuples of 1 pick rows.
    #expect(try runShapeFamilyOp("GatherND", [data, Tensor(shape: [2, 2], scalars: [Int64(0), 0, 1, 1])])[0].scalars(as: Float.self) == [0, 3])
    #expect(try runShapeFamilyOp("GatherND", [data, Tensor(shape: [2, 1], scalars: [Int64(1), -2])])[0].scalars(as: Float.self) == [2, 3, 0, 1])
    let batched = try runShapeFamilyOp("GatherND", [iota([2, 2, 2]), Tensor(shape: [2, 1], scalars: [Int64(1), 0])], ["batch_dims": .int(1)])[0]
    #expect(batched.shape == [2, 2] && batched.scalars(as: Float.self) == [2, 3, 4, 5])

    let updates = Tensor(shape: [1, 2], floats: [9, 8])
    let rows = try runShapeFamilyOp("ScatterND", [data, Tensor(shape: [1, 1], scalars: [Int64(1)]), updates])[0]
    #expect(rows.scalars(as: Float.self) == [0, 1, 9, 8])
    let added = try runShapeFamilyOp("ScatterND", [data, Tensor(shape: [1, 1], scalars: [Int64(1)]), updates],
                                     ["reduction": .string("add")])[0]
    #expect(added.scalars(as: Float.self) == [0, 1, 11, 11])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("ScatterND", [data, Tensor(shape: [1, 1], scalars: [Int64(2)]), updates]) }
}

@Test func scatterElementsAlongAnAxis() throws {
    let data = Tensor(zeros: [2, 3])
    let indices = Tensor(shape: [2, 1], scalars: [Int64(2), -3])
    let updates = Tensor(shape: [2, 1], floats: [5, 7])
    let y = try runShapeFamilyOp("ScatterElements", [data, indices, updates], ["axis": .int(1)])[0]
    #expect(y.scalars(as: Float.self) == [0, 0, 5, 7, 0, 0])
    #expect(data.scalars(as: Float.self).allSatisfy { $0 == 0 })  // the input is untouched
    let maxed = try runShapeFamilyOp("ScatterElements", opset: 18, [iota([1, 3]), Tensor(shape: [1, 2], scalars: [Int64(0), 0]),
                                                                     Tensor(shape: [1, 2], floats: [-1, 4])],
                                     ["axis": .int(1), "reduction": .string("max")])[0]
    #expect(maxed.scalars(as: Float.self) == [4, 1, 2])
    #expect(throws: ONNXError.self) {
        try runShapeFamilyOp("ScatterElements", opset: 16, [data, indices, updates], ["reduction": .string("max")])
    }
}

@Test func compressNonZeroTrilu() throws {
    let x = iota([3, 2])
    let cond = Tensor(shape: [2], scalars: [false, true])
    #expect(try runShapeFamilyOp("Compress", [x, cond], ["axis": .int(0)])[0].scalars(as: Float.self) == [2, 3])
    #expect(try runShapeFamilyOp("Compress", [x, cond])[0].scalars(as: Float.self) == [1])
    let nz = try runShapeFamilyOp("NonZero", [Tensor(shape: [2, 2], floats: [1, 0, 0, 3])])[0]
    #expect(nz.shape == [2, 2] && nz.ints() == [0, 1, 0, 1])
    let m = iota([3, 3])
    #expect(try runShapeFamilyOp("Trilu", [m])[0].scalars(as: Float.self) == [0, 1, 2, 0, 4, 5, 0, 0, 8])
    #expect(try runShapeFamilyOp("Trilu", [m, Tensor(scalar: Int64(-1))], ["upper": .int(0)])[0].scalars(as: Float.self)
            == [0, 0, 0, 3, 0, 0, 6, 7, 0])
}

@Test func oneHotAndReverseSequence() throws {
    let hot = try runShapeFamilyOp("OneHot", [int64s([1, -1, 5]), Tensor(scalar: Int64(3)), Tensor(shape: [2], floats: [0, 1])])[0]
    #expect(hot.shape == [3, 3] && hot.scalars(as: Float.self) == [0, 1, 0, 0, 0, 1, 0, 0, 0])
    let first = try runShapeFamilyOp("OneHot", [int64s([2, 0]), Tensor(scalar: Float(3)), Tensor(shape: [2], floats: [5, 6])],
                                     ["axis": .int(0)])[0]
    #expect(first.shape == [3, 2] && first.scalars(as: Float.self) == [5, 6, 5, 5, 6, 5])
    // [batch 2, time 3]: reverse 3 steps of row 0, 2 of row 1.
    let r = try runShapeFamilyOp("ReverseSequence", [iota([2, 3]), int64s([3, 2])], ["batch_axis": .int(0), "time_axis": .int(1)])[0]
    #expect(r.scalars(as: Float.self) == [2, 1, 0, 4, 3, 5])
}
