import Testing
import ONNX
import Tensor
@testable import Runtime

@Test func topKLargestAndSmallest() throws {
    let x = Tensor(shape: [2, 4], floats: [1, 3, 3, 2, 0, -1, 5, 5])
    let top = try runShapeFamilyOp("TopK", opset: 11, [x, int64s([2])], outputs: 2)
    #expect(top[0].scalars(as: Float.self) == [3, 3, 5, 5])
    #expect(top[1].ints() == [1, 2, 2, 3])  // ties keep the lower index first
    let low = try runShapeFamilyOp("TopK", opset: 11, [x, int64s([1])], ["largest": .int(0), "axis": .int(0)], outputs: 2)
    #expect(low[0].shape == [1, 4] && low[0].scalars(as: Float.self) == [0, -1, 3, 2] && low[1].ints() == [1, 1, 0, 0])
    // Opset 1: k is an attribute.
    #expect(try runShapeFamilyOp("TopK", opset: 1, [x], ["k": .int(1)], outputs: 2)[0].scalars(as: Float.self) == [3, 5])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("TopK", opset: 11, [x, int64s([5])], outputs: 2) }
}

@Test func uniqueSortedAndInOrder() throws {
    let x = Tensor(shape: [5], floats: [2, 1, 2, 3, 1])
    let u = try runShapeFamilyOp("Unique", [x], outputs: 4)
    #expect(u[0].scalars(as: Float.self) == [1, 2, 3])
    #expect(u[1].ints() == [1, 0, 3] && u[2].ints() == [1, 0, 1, 2, 0] && u[3].ints() == [2, 2, 1])
    let firstSeen = try runShapeFamilyOp("Unique", [x], ["sorted": .int(0)], outputs: 4)
    #expect(firstSeen[0].scalars(as: Float.self) == [2, 1, 3])
    let rows = try runShapeFamilyOp("Unique", [Tensor(shape: [3, 2], floats: [1, 2, 0, 5, 1, 2])], ["axis": .int(0)], outputs: 4)
    #expect(rows[0].shape == [2, 2] && rows[0].scalars(as: Float.self) == [0, 5, 1, 2] && rows[3].ints() == [1, 2])
}

@Test func cumSumModes() throws {
    let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
    #expect(try runShapeFamilyOp("CumSum", [x, Tensor(scalar: Int64(1))])[0].scalars(as: Float.self) == [1, 3, 6, 4, 9, 15])
    #expect(try runShapeFamilyOp("CumSum", [x, Tensor(scalar: Int32(-2))])[0].scalars(as: Float.self) == [1, 2, 3, 5, 7, 9])
    let both = try runShapeFamilyOp("CumSum", [x, Tensor(scalar: Int64(1))], ["exclusive": .int(1), "reverse": .int(1)])[0]
    #expect(both.scalars(as: Float.self) == [5, 3, 0, 11, 6, 0])
    let ints = Tensor(shape: [3], scalars: [Int64(1) << 40, 1, 2])
    #expect(try runShapeFamilyOp("CumSum", [ints, Tensor(scalar: Int64(0))])[0].ints() == [1 << 40, (1 << 40) + 1, (1 << 40) + 3])
}
