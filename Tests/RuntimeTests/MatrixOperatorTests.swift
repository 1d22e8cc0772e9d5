import Foundation
import ONNX
import Testing
@testable import Runtime
import Tensor

@Test func gemmTransposesScalesAndBroadcastsC() throws {
    let a = Tensor(shape: [3, 2], floats: [1, 4, 2, 5, 3, 6])       // A^T = [[1,2,3],[4,5,6]]
    let b = Tensor(shape: [2, 3], floats: [1, 0, 1, 0, 1, 1])       // B^T = [[1,0],[0,1],[1,1]]
    let c = Tensor(shape: [2], floats: [10, 20])
    let attrs: [String: Attribute] = ["transA": .int(1), "transB": .int(1), "alpha": .float(2), "beta": .float(0.5)]
    // A^T B^T = [[4, 5], [10, 11]].
    let y = try runRegisteredOperator("Gemm", opset: 13, [a, b, c], attributes: attrs)
    expectClose(y[0], [13, 20, 25, 32], shape: [2, 2])
    let yd = try runRegisteredOperator("Gemm", opset: 13, [
        Tensor(shape: [3, 2], scalars: [1.0, 4, 2, 5, 3, 6]), Tensor(shape: [2, 3], scalars: [1.0, 0, 1, 0, 1, 1]),
        Tensor(shape: [2], scalars: [10.0, 20])], attributes: attrs)
    #expect(yd[0].dtype == .float64)
    expectClose(yd[0], [13, 20, 25, 32])
    let noC = try runRegisteredOperator("Gemm", opset: 11, [Tensor(shape: [1, 2], floats: [1, 2]),
                                                             Tensor(shape: [2, 1], floats: [3, 4])])
    expectClose(noC[0], [11], shape: [1, 1])
}

@Test func matMulBroadcastsBatchesAndVectors() throws {
    let a = Tensor(shape: [2, 1, 1, 2], floats: [1, 2, 3, 4])
    let b = Tensor(shape: [3, 2, 1], floats: [1, 0, 0, 1, 1, 1])
    let y = try runRegisteredOperator("MatMul", opset: 13, [a, b])
    expectClose(y[0], [1, 2, 3, 3, 4, 7], shape: [2, 3, 1, 1])
    let v = try runRegisteredOperator("MatMul", opset: 13, [Tensor(shape: [2], floats: [1, 2]),
                                                            Tensor(shape: [2], floats: [3, 4])])
    expectClose(v[0], [11], shape: [])
    let mv = try runRegisteredOperator("MatMul", opset: 13, [Tensor(shape: [2, 2], floats: [1, 2, 3, 4]),
                                                             Tensor(shape: [2], floats: [1, 1])])
    expectClose(mv[0], [3, 7], shape: [2])
    let shared = try runRegisteredOperator("MatMul", opset: 13, [Tensor(shape: [2, 1, 2], floats: [1, 2, 3, 4]),
                                                                 Tensor(shape: [2, 2], floats: [1, 0, 0, 2])])
    expectClose(shared[0], [1, 4, 3, 8], shape: [2, 1, 2])
    let ints = try runRegisteredOperator("MatMul", opset: 13, [Tensor(shape: [1, 2], scalars: [Int32(2), 3]),
                                                               Tensor(shape: [2, 1], scalars: [Int32(4), 5])])
    #expect(ints[0].ints() == [23])
    let empty = try runRegisteredOperator("MatMul", opset: 13, [Tensor(zeros: [0, 3]), Tensor(zeros: [3, 2])])
    #expect(empty[0].shape == [0, 2])
}

@Test func softmaxIsStableAndFollowsOpset() throws {
    let x = Tensor(shape: [2, 2], floats: [1000, 1001, 0, 0])
    let y = try runRegisteredOperator("Softmax", opset: 13, [x])
    let e = 1 / (1 + 2.718281828459045)
    expectClose(y[0], [e, 1 - e, 0.5, 0.5])
    // Opset 11 with axis 0 flattens everything into one row.
    let flat = try runRegisteredOperator("Softmax", opset: 11, [Tensor(shape: [2, 2], floats: [0, 0, 0, 0])],
                                         attributes: ["axis": .int(0)])
    expectClose(flat[0], [0.25, 0.25, 0.25, 0.25])
    let perAxis = try runRegisteredOperator("Softmax", opset: 13, [Tensor(shape: [2, 2], floats: [0, 0, 0, 0])],
                                            attributes: ["axis": .int(0)])
    expectClose(perAxis[0], [0.5, 0.5, 0.5, 0.5])
    let logSoftmax = try runRegisteredOperator("LogSoftmax", opset: 13, [x])
    expectClose(logSoftmax[0], [log(e), log(1 - e), -0.6931471805599453, -0.6931471805599453], tolerance: 1e-4)
    let hard = try runRegisteredOperator("Hardmax", opset: 13, [Tensor(shape: [1, 3], floats: [2, 5, 5])])
    expectClose(hard[0], [0, 1, 0])
}


@Test func determinantOfBatchedMatrices() throws {
    let x = Tensor(shape: [2, 2, 2], floats: [1, 2, 3, 4, 0, 1, 1, 0])
    expectClose(try runRegisteredOperator("Det", opset: 11, [x])[0], [-2, -1], shape: [2])
    let singular = Tensor(shape: [3, 3], floats: [1, 2, 3, 2, 4, 6, 0, 1, 1])
    expectClose(try runRegisteredOperator("Det", opset: 11, [singular])[0], [0], shape: [])
}

@Test func einsumContractsTracesAndTransposes() throws {
    let a = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
    let b = Tensor(shape: [2, 2], floats: [5, 6, 7, 8])
    expectClose(try runRegisteredOperator("Einsum", opset: 12, [a, b], attributes: ["equation": .string("ij,jk->ik")])[0],
                [19, 22, 43, 50], shape: [2, 2])
    expectClose(try runRegisteredOperator("Einsum", opset: 12, [a], attributes: ["equation": .string("ii")])[0], [5], shape: [])
    expectClose(try runRegisteredOperator("Einsum", opset: 12, [a], attributes: ["equation": .string("ji")])[0],
                [1, 3, 2, 4], shape: [2, 2])
    let batched = Tensor(shape: [1, 2, 2], floats: [1, 2, 3, 4])
    expectClose(try runRegisteredOperator("Einsum", opset: 12, [batched, b],
                                          attributes: ["equation": .string("...ij,jk")])[0],
                [19, 22, 43, 50], shape: [1, 2, 2])
}

@Test func integerMatMulsShiftZeroPointsAndRequantize() throws {
    let a = Tensor(shape: [1, 2], scalars: [UInt8(3), 5]), b = Tensor(shape: [2, 1], scalars: [UInt8(2), 4])
    let azp = Tensor(scalar: UInt8(1)), bzp = Tensor(scalar: UInt8(2))
    // (3-1)*(2-2) + (5-1)*(4-2) = 8
    let y = try runRegisteredOperator("MatMulInteger", opset: 10, [a, b, azp, bzp])[0]
    #expect(y.dtype == .int32)
    #expect(y.ints() == [8])
    // 8 * (0.5 * 0.25 / 0.1) + 10 = 20, saturating to uint8.
    let q = try runRegisteredOperator("QLinearMatMul", opset: 21, [
        a, Tensor(scalar: Float(0.5)), azp, b, Tensor(scalar: Float(0.25)), bzp,
        Tensor(scalar: Float(0.1)), Tensor(scalar: UInt8(10))])[0]
    #expect(q.dtype == .uint8)
    #expect(q.ints() == [20])
}

@Test func lowPrecisionSoftmaxSumsToOne() throws {
    let x = Tensor(shape: [1, 3], scalars: [BFloat16(0), BFloat16(0), BFloat16(Float(0.6931472))])
    let y = try runRegisteredOperator("Softmax", opset: 13, [x])[0]
    #expect(y.dtype == .bfloat16)
    expectClose(y, [0.25, 0.25, 0.5], tolerance: 4e-3)
    let h = try runRegisteredOperator("Softmax", opset: 13, [Tensor(shape: [2], scalars: [Float16(1), Float16(1)])])[0]
    expectClose(h, [0.5, 0.5])
}

/// A [2, 3, 5] int8 times a uint8 weight [5, 4], zero points per tensor (the one-dgemm path), against the sums
/// written out.
@Test func integerMatMulOfBatchedActivationsAndAWeight() throws {
    let av = (0..<30).map { Int8($0 * 7 % 23 - 11) }, bv = (0..<20).map { UInt8($0 * 13 % 251) }
    let y = try runRegisteredOperator("MatMulInteger", opset: 10, [
        Tensor(shape: [2, 3, 5], scalars: av), Tensor(shape: [5, 4], scalars: bv),
        Tensor(scalar: Int8(-3)), Tensor(scalar: UInt8(128))])[0]
    #expect(y.dtype == .int32 && y.shape == [2, 3, 4])
    var want: [Int] = []
    for row in 0..<6 {
        for j in 0..<4 { want.append((0..<5).reduce(0) { $0 + (Int(av[row * 5 + $1]) + 3) * (Int(bv[$1 * 4 + j]) - 128) }) }
    }
    #expect(y.ints() == want)
}
