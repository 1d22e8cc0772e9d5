import Testing
import ONNX
import Tensor
@testable import Runtime

@Test func reshapeResolvesZeroAndMinusOne() throws {
    let x = iota([2, 3, 4])
    let y = try runShapeFamilyOp("Reshape", [x, int64s([0, -1])])[0]
    #expect(y.shape == [2, 12])
    #expect(y.storage === x.storage)  // a view, not a copy
    #expect(try runShapeFamilyOp("Reshape", [x, int64s([-1, 2, 2])])[0].shape == [6, 2, 2])
    // allowzero: 0 is a real zero-sized dimension.
    let empty = Tensor(zeros: [0, 3])
    let z = try runShapeFamilyOp("Reshape", [empty, int64s([3, 0])], ["allowzero": .int(1)])[0]
    #expect(z.shape == [3, 0])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Reshape", [x, int64s([5, -1])]) }
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Reshape", [x, int64s([-1, -1])]) }
}

@Test func flattenSqueezeUnsqueezeShareStorage() throws {
    let x = iota([2, 1, 3, 1])
    #expect(try runShapeFamilyOp("Flatten", [x])[0].shape == [2, 3])
    #expect(try runShapeFamilyOp("Flatten", [x], ["axis": .int(0)])[0].shape == [1, 6])
    #expect(try runShapeFamilyOp("Flatten", [x], ["axis": .int(-1)])[0].shape == [6, 1])
    #expect(try runShapeFamilyOp("Flatten", [x], ["axis": .int(4)])[0].shape == [6, 1])
    // Squeeze: attribute before 13, input from 13; no axes drops every 1.
    #expect(try runShapeFamilyOp("Squeeze", opset: 11, [x], ["axes": .ints([-1])])[0].shape == [2, 1, 3])
    #expect(try runShapeFamilyOp("Squeeze", opset: 13, [x, int64s([1])])[0].shape == [2, 3, 1])
    let all = try runShapeFamilyOp("Squeeze", [x])[0]
    #expect(all.shape == [2, 3] && all.storage === x.storage)
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Squeeze", [x, int64s([0])]) }
    // Unsqueeze: negative axes count from the output's end; unsorted axes are fine.
    let y = iota([3, 4])
    #expect(try runShapeFamilyOp("Unsqueeze", opset: 11, [y], ["axes": .ints([0, 3])])[0].shape == [1, 3, 4, 1])
    #expect(try runShapeFamilyOp("Unsqueeze", [y, int64s([-1])])[0].shape == [3, 4, 1])
    #expect(try runShapeFamilyOp("Unsqueeze", [y, int64s([3, 0])])[0].shape == [1, 3, 4, 1])
    #expect(try runShapeFamilyOp("Unsqueeze", [Tensor(scalar: Float(1)), int64s([0])])[0].shape == [1])
}

@Test func shapeAndSize() throws {
    let x = Tensor(zeros: [2, 3, 4, 5])
    #expect(try runShapeFamilyOp("Shape", [x])[0].ints() == [2, 3, 4, 5])
    #expect(try runShapeFamilyOp("Shape", [x], ["start": .int(1), "end": .int(-1)])[0].ints() == [3, 4])
    #expect(try runShapeFamilyOp("Shape", [x], ["start": .int(-10)])[0].ints() == [2, 3, 4, 5])
    #expect(try runShapeFamilyOp("Shape", [x], ["start": .int(3), "end": .int(1)])[0].shape == [0])
    // start/end are ignored before opset 15.
    #expect(try runShapeFamilyOp("Shape", opset: 13, [x], ["start": .int(1)])[0].ints() == [2, 3, 4, 5])
    let size = try runShapeFamilyOp("Size", [x])[0]
    #expect(size.shape == [] && size.dtype == .int64 && size.ints() == [120])
}

@Test func transposeDefaultReversesAxes() throws {
    let x = iota([2, 3])
    let t = try runShapeFamilyOp("Transpose", [x])[0]
    #expect(t.shape == [3, 2])
    #expect(t.scalars(as: Float.self) == [0, 3, 1, 4, 2, 5])
    let y = iota([2, 3, 4])
    let p = try runShapeFamilyOp("Transpose", [y], ["perm": .ints([1, 2, 0])])[0]
    #expect(p.shape == [3, 4, 2])
    // p[i, j, k] = y[k, i, j] = k*12 + i*4 + j
    #expect(p.scalars(as: Float.self)[1 * 8 + 2 * 2 + 1] == Float(1 * 12 + 1 * 4 + 2))
    #expect(throws: ONNXError.self) { try runShapeFamilyOp("Transpose", [y], ["perm": .ints([0, 0, 1])]) }
}

@Test func concatAndSplit() throws {
    let a = iota([2, 2]), b = Tensor(shape: [2, 1], floats: [9, 8])
    let c = try runShapeFamilyOp("Concat", [a, b], ["axis": .int(-1)])[0]
    #expect(c.shape == [2, 3] && c.scalars(as: Float.self) == [0, 1, 9, 2, 3, 8])
    let empty = Tensor(zeros: [2, 0])
    #expect(try runShapeFamilyOp("Concat", [empty, a], ["axis": .int(1)])[0].scalars(as: Float.self) == [0, 1, 2, 3])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Concat", [a, iota([3, 1])], ["axis": .int(1)]) }

    let x = iota([2, 5])
    // Opset 13: split sizes from an input.
    let parts = try runShapeFamilyOp("Split", opset: 13, [x, int64s([2, 3])], ["axis": .int(1)], outputs: 2)
    #expect(parts.map(\.shape) == [[2, 2], [2, 3]])
    #expect(parts[1].scalars(as: Float.self) == [2, 3, 4, 7, 8, 9])
    // Opset 11: from the attribute.
    let old = try runShapeFamilyOp("Split", opset: 11, [x], ["axis": .int(1), "split": .ints([4, 1])], outputs: 2)
    #expect(old[1].scalars(as: Float.self) == [4, 9])
    // Opset 18: num_outputs, last chunk smaller.
    let uneven = try runShapeFamilyOp("Split", opset: 18, [x], ["axis": .int(-1), "num_outputs": .int(2)], outputs: 2)
    #expect(uneven.map(\.shape) == [[2, 3], [2, 2]])
    // Equal parts when nothing says otherwise; zero-size parts allowed.
    #expect(try runShapeFamilyOp("Split", opset: 13, [x], outputs: 2).map(\.shape) == [[1, 5], [1, 5]])
    #expect(try runShapeFamilyOp("Split", opset: 13, [x, int64s([0, 2])], outputs: 2).map(\.shape) == [[0, 5], [2, 5]])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Split", opset: 13, [x], ["axis": .int(1)], outputs: 2) }
}

@Test func sliceClampsAndStepsBackward() throws {
    let x = iota([3, 4])
    // Opset 10+: inputs, negative axes and steps.
    let s = try runShapeFamilyOp("Slice", [x, int64s([1, -1]), int64s([3, 0]), int64s([0, -1]), int64s([1, -2])])[0]
    #expect(s.shape == [2, 2] && s.scalars(as: Float.self) == [7, 5, 11, 9])
    // INT64_MAX / INT64_MIN clamp; full reverse.
    let r = try runShapeFamilyOp("Slice", [x, int64s([Int(Int64.max)]), int64s([Int(Int64.min)]), int64s([1]), int64s([-1])])[0]
    #expect(r.scalars(as: Float.self) == [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8])
    // Empty when start >= end; starts past the end.
    #expect(try runShapeFamilyOp("Slice", [x, int64s([3]), int64s([1]), int64s([1])])[0].shape == [3, 0])
    #expect(try runShapeFamilyOp("Slice", [x, int64s([10]), int64s([20])])[0].shape == [0, 4])
    // Opset 1-9: attributes.
    let old = try runShapeFamilyOp("Slice", opset: 9, [x], ["starts": .ints([1]), "ends": .ints([1000]), "axes": .ints([1])])[0]
    #expect(old.shape == [3, 3] && old.scalars(as: Float.self)[0..<3] == [1, 2, 3])
}

@Test func gatherWithNegativeIndices() throws {
    let x = iota([3, 2])
    let g = try runShapeFamilyOp("Gather", [x, int64s([-1, 0])])[0]
    #expect(g.shape == [2, 2] && g.scalars(as: Float.self) == [4, 5, 0, 1])
    let indices = Tensor(shape: [2, 2], scalars: [Int32(1), 0, 0, 1])
    let h = try runShapeFamilyOp("Gather", [x, indices], ["axis": .int(1)])[0]
    #expect(h.shape == [3, 2, 2])
    #expect(h.scalars(as: Float.self)[0..<4] == [1, 0, 0, 1])
    let scalarIndex = try runShapeFamilyOp("Gather", [x, Tensor(scalar: Int64(2))])[0]
    #expect(scalarIndex.shape == [2] && scalarIndex.scalars(as: Float.self) == [4, 5])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Gather", [x, int64s([3])]) }

    let e = try runShapeFamilyOp("GatherElements", [iota([2, 2]), Tensor(shape: [2, 2], scalars: [Int64(0), 0, 1, -2])],
                                 ["axis": .int(1)])[0]
    #expect(e.scalars(as: Float.self) == [0, 0, 3, 2])
    let rows = try runShapeFamilyOp("GatherElements", [iota([3, 3]), Tensor(shape: [2, 3], scalars: [Int64(1), 2, 0, 2, 0, 0])])[0]
    #expect(rows.scalars(as: Float.self) == [3, 7, 2, 6, 1, 2])
}

@Test func expandAndTile() throws {
    let x = Tensor(shape: [3, 1], floats: [1, 2, 3])
    let e = try runShapeFamilyOp("Expand", [x, int64s([2, 1, 2])])[0]
    #expect(e.shape == [2, 3, 2] && e.scalars(as: Float.self) == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    // The shape may be smaller than the input: broadcasting runs both ways.
    #expect(try runShapeFamilyOp("Expand", [x, int64s([1])])[0].shape == [3, 1])
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Expand", [x, int64s([2, 2])]) }
    let t = try runShapeFamilyOp("Tile", [iota([2, 2]), int64s([1, 2])])[0]
    #expect(t.shape == [2, 4] && t.scalars(as: Float.self) == [0, 1, 0, 1, 2, 3, 2, 3])
    #expect(try runShapeFamilyOp("Tile", [iota([2, 2]), int64s([0, 2])])[0].shape == [0, 4])
}

@Test func identityAndDropoutAreViews() throws {
    let x = iota([2, 3])
    #expect(try runShapeFamilyOp("Identity", [x])[0].storage === x.storage)
    let d = try runShapeFamilyOp("Dropout", opset: 22, [x, Tensor(scalar: Float(0.3))], outputs: 2)
    #expect(d[0].storage === x.storage)
    #expect(d[1].dtype == .bool && d[1].shape == [2, 3] && d[1].scalars(as: Bool.self).allSatisfy { $0 })
    #expect(try runShapeFamilyOp("Dropout", opset: 11, [x], ["ratio": .float(0.2)])[0].storage === x.storage)
    // Training mode zeroes some elements and scales the rest.
    let ones = Tensor(shape: [1000], floats: Array(repeating: 1, count: 1000))
    let t = try runShapeFamilyOp("Dropout", [ones, Tensor(scalar: Float(0.5)), Tensor(scalar: true)])[0]
    #expect(Set(t.scalars(as: Float.self)).isSubset(of: [0, 2]))
}

@Test func depthToSpaceAndBack() throws {
    let x = iota([1, 8, 2, 3])
    for mode in ["DCR", "CRD"] {
        let d = try runShapeFamilyOp("DepthToSpace", [x], ["blocksize": .int(2), "mode": .string(mode)])[0]
        #expect(d.shape == [1, 2, 4, 6])
        let back = try runShapeFamilyOp("SpaceToDepth", [d], ["blocksize": .int(2), "mode": .string(mode)])[0]
        #expect(back.scalars(as: Float.self) == x.scalars(as: Float.self))
    }
    // DCR: y[0, c, h*2+i, w*2+j] = x[0, (i*2+j)*2 + c, h, w]. Check y[0, 1, 1, 2] (h 0, i 1, w 1, j 0).
    let d = try runShapeFamilyOp("DepthToSpace", [x], ["blocksize": .int(2)])[0]
    #expect(d.scalars(as: Float.self)[1 * 24 + 1 * 6 + 2] == Float(((1 * 2 + 0) * 2 + 1) * 6 + 0 * 3 + 1))
    // CRD: channel c*4 + i*2 + j.
    let c = try runShapeFamilyOp("DepthToSpace", [x], ["blocksize": .int(2), "mode": .string("CRD")])[0]
    #expect(c.scalars(as: Float.self)[1 * 24 + 1 * 6 + 2] == Float((1 * 4 + 1 * 2 + 0) * 6 + 0 * 3 + 1))
}

@Test func dataMovementWorksForEveryElementWidth() throws {
    let bytes = Tensor(shape: [2, 3], scalars: [UInt8(1), 2, 3, 4, 5, 6])
    #expect(try runShapeFamilyOp("Transpose", [bytes])[0].scalars(as: UInt8.self) == [1, 4, 2, 5, 3, 6])
    let longs = Tensor(shape: [2, 3], scalars: [Int64(1), 2, 3, 4, 5, 6])
    #expect(try runShapeFamilyOp("Slice", [longs, int64s([2]), int64s([0]), int64s([1]), int64s([-1])])[0].ints() == [3, 2, 6, 5])
    let strings = Tensor(shape: [2, 2], strings: ["a", "b", "c", "d"])
    #expect(try runShapeFamilyOp("Transpose", [strings])[0].strings == ["a", "c", "b", "d"])
    #expect(try runShapeFamilyOp("Concat", [strings, strings], ["axis": .int(1)])[0].strings == ["a", "b", "a", "b", "c", "d", "c", "d"])
    #expect(try runShapeFamilyOp("Gather", [strings, int64s([1])])[0].strings == ["c", "d"])
    let halves = Tensor(shape: [3], scalars: [Float16(1), 2, 3])
    #expect(try runShapeFamilyOp("Tile", [halves, int64s([2])])[0].doubles() == [1, 2, 3, 1, 2, 3])
}

@Test func mersenneTwisterMatchesNumpy() {
    // numpy.random.RandomState(0).uniform(0, 1, 3)
    var twister = MersenneTwister(seed: 0)
    let draws = (0..<3).map { _ in twister.nextDouble() }
    #expect(draws == [0.5488135039273248, 0.7151893663724195, 0.6027633760716439])
}
