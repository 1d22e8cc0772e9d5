import Testing
import ONNX
import Tensor
@testable import Runtime

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
