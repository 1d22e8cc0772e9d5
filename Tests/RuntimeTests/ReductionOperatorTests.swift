import Foundation
import ONNX
import Testing
@testable import Runtime
import Tensor

@Test func reduceSumAxesInputAndAttribute() throws {
    let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
    let axes = Tensor(shape: [1], scalars: [Int64(-1)])
    expectClose(try runRegisteredOperator("ReduceSum", opset: 13, [x, axes])[0], [6, 15], shape: [2, 1])
    expectClose(try runRegisteredOperator("ReduceSum", opset: 11, [x], attributes: ["axes": .ints([0]),
                                                                                    "keepdims": .int(0)])[0],
                [5, 7, 9], shape: [3])
    // No axes: reduce everything; noop_with_empty_axes: identity.
    expectClose(try runRegisteredOperator("ReduceSum", opset: 13, [x])[0], [21], shape: [1, 1])
    let noop = try runRegisteredOperator("ReduceSum", opset: 13, [x, Tensor(shape: [0], scalars: [Int64]())],
                                         attributes: ["noop_with_empty_axes": .int(1)])
    #expect(noop[0].shape == [2, 3])
}

@Test func reduceFamilyValues() throws {
    let x = Tensor(shape: [2, 2], floats: [1, -2, 3, 4])
    let attrs: [String: Attribute] = ["axes": .ints([1]), "keepdims": .int(0)]
    func run(_ op: String) throws -> Tensor { try runRegisteredOperator(op, opset: 17, [x], attributes: attrs)[0] }
    expectClose(try run("ReduceMean"), [-0.5, 3.5])
    expectClose(try run("ReduceMax"), [1, 4])
    expectClose(try run("ReduceMin"), [-2, 3])
    expectClose(try run("ReduceProd"), [-2, 12])
    expectClose(try run("ReduceL1"), [3, 7])
    expectClose(try run("ReduceL2"), [sqrt(5.0), 5])
    expectClose(try run("ReduceSumSquare"), [5, 25])
    expectClose(try run("ReduceLogSumExp"), [log(exp(1.0) + exp(-2.0)), log(exp(3.0) + exp(4.0))], tolerance: 1e-5)
    let big = Tensor(shape: [2], floats: [1000, 1000])
    expectClose(try runRegisteredOperator("ReduceLogSumExp", opset: 18, [big])[0], [1000 + log(2.0)], tolerance: 1e-3)
    let pos = Tensor(shape: [2], floats: [1, 2])
    expectClose(try runRegisteredOperator("ReduceLogSum", opset: 18, [pos])[0], [log(3.0)])
}

@Test func reduceEmptySetsAndIntegers() throws {
    let empty = Tensor(zeros: [2, 0, 4])
    let axes = Tensor(shape: [1], scalars: [Int64(1)])
    let sum = try runRegisteredOperator("ReduceSum", opset: 13, [empty, axes])[0]
    #expect(sum.shape == [2, 1, 4])
    expectClose(sum, Array(repeating: 0, count: 8))
    expectClose(try runRegisteredOperator("ReduceProd", opset: 18, [empty, axes])[0], Array(repeating: 1, count: 8))
    expectClose(try runRegisteredOperator("ReduceMax", opset: 18, [empty, axes])[0],
                Array(repeating: -.infinity, count: 8))
    let ints = Tensor(shape: [3], scalars: [Int64(5), -7, 2])
    let m = try runRegisteredOperator("ReduceMin", opset: 18, [ints])[0]
    #expect(m.dtype == .int64)
    #expect(m.ints() == [-7])
    let bools = Tensor(shape: [2], scalars: [false, true])
    #expect(try runRegisteredOperator("ReduceMax", opset: 20, [bools])[0].ints() == [1])
}

@Test func argMaxAndArgMin() throws {
    let x = Tensor(shape: [2, 3], floats: [1, 5, 5, 7, 0, 7])
    #expect(try runRegisteredOperator("ArgMax", opset: 13, [x], attributes: ["axis": .int(1)])[0].ints() == [1, 0])
    let last = try runRegisteredOperator("ArgMax", opset: 13, [x], attributes: [
        "axis": .int(-1), "select_last_index": .int(1), "keepdims": .int(0)])[0]
    #expect(last.shape == [2])
    #expect(last.ints() == [2, 2])
    let amin = try runRegisteredOperator("ArgMin", opset: 13, [x], attributes: ["axis": .int(0)])[0]
    #expect(amin.shape == [1, 3])
    #expect(amin.ints() == [0, 1, 0])
}

@Test(arguments: ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare"])
func float32FastPathMatchesGenericPath(op: String) throws {
    // float32 with adjacent axes takes the strided fast path; float64 the generic one.
    let values = (0..<60).map { Double(($0 * 37) % 23) / 7 - 1.5 }
    let f32 = Tensor(shape: [3, 4, 5], floats: values.map { Float($0) })
    let f64 = Tensor(shape: [3, 4, 5], scalars: values)
    for axes in [[1], [1, 2], [0, 1], [-1]] {
        let axesT = Tensor(shape: [axes.count], scalars: axes.map { Int64($0) })
        let fast = try runRegisteredOperator(op, opset: 18, [f32, axesT], attributes: ["keepdims": .int(0)])[0]
        let generic = try runRegisteredOperator(op, opset: 18, [f64, axesT], attributes: ["keepdims": .int(0)])[0]
        #expect(fast.shape == generic.shape)
        expectClose(fast, generic.doubles(), tolerance: 1e-4)
    }
}

@Test func cumSumExclusiveAndReverse() throws {
    let x = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
    let axis = Tensor(scalar: Int64(1))
    expectClose(try runRegisteredOperator("CumSum", opset: 14, [x, axis])[0], [1, 3, 6, 4, 9, 15])
    expectClose(try runRegisteredOperator("CumSum", opset: 14, [x, axis], attributes: [
        "exclusive": .int(1), "reverse": .int(1)])[0], [5, 3, 0, 11, 6, 0])
    let ints = try runRegisteredOperator("CumSum", opset: 14, [Tensor(shape: [3], scalars: [Int32(1), 2, 3]),
                                                               Tensor(scalar: Int32(0))])[0]
    #expect(ints.dtype == .int32)
    #expect(ints.ints() == [1, 3, 6])
}

@Test func topKLargestAndSmallest() throws {
    let x = Tensor(shape: [2, 4], floats: [1, 4, 4, 2, 0, -1, 3, 3])
    let k = Tensor(shape: [1], scalars: [Int64(2)])
    let top = try runRegisteredOperator("TopK", opset: 11, [x, k], outputs: 2)
    expectClose(top[0], [4, 4, 3, 3], shape: [2, 2])
    #expect(top[1].ints() == [1, 2, 2, 3])
    let bottom = try runRegisteredOperator("TopK", opset: 11, [x, k], attributes: ["largest": .int(0), "axis": .int(0)],
                                           outputs: 2)
    #expect(bottom[1].ints() == [1, 1, 1, 0, 0, 0, 0, 1])
}
