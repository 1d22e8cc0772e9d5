import Foundation
import ONNX
import Testing
@testable import Runtime
import Tensor

@Test func negativeLogLikelihoodReductionsAndIgnoreIndex() throws {
    // N = 2, C = 3: log-probabilities given directly.
    let x = Tensor(shape: [2, 3], floats: [-1, -2, -3, -0.5, -1.5, -2.5])
    let target = Tensor(shape: [2], scalars: [Int64(2), 0])
    expectClose(try runRegisteredOperator("NegativeLogLikelihoodLoss", opset: 22, [x, target])[0], [1.75], shape: [])
    expectClose(try runRegisteredOperator("NegativeLogLikelihoodLoss", opset: 22, [x, target],
                                          attributes: ["reduction": .string("none")])[0], [3, 0.5], shape: [2])
    let weight = Tensor(shape: [3], floats: [1, 1, 3])
    // (3 * 3 + 1 * 0.5) / (3 + 1)
    expectClose(try runRegisteredOperator("NegativeLogLikelihoodLoss", opset: 22, [x, target, weight])[0], [9.5 / 4])
    expectClose(try runRegisteredOperator("NegativeLogLikelihoodLoss", opset: 22, [x, target],
                                          attributes: ["ignore_index": .int(2)])[0], [0.5])
}

@Test func softmaxCrossEntropyOutputsLogProb() throws {
    let x = Tensor(shape: [1, 2], floats: [0, 0])
    let out = try runRegisteredOperator("SoftmaxCrossEntropyLoss", opset: 13,
                                        [x, Tensor(shape: [1], scalars: [Int64(1)])], outputs: 2)
    expectClose(out[0], [log(2.0)], shape: [])
    expectClose(out[1], [-log(2.0), -log(2.0)], shape: [1, 2])
}

@Test func cumProdExclusive() throws {
    let x = Tensor(shape: [3], floats: [1, 2, 3])
    expectClose(try runRegisteredOperator("CumProd", opset: 26, [x, Tensor(scalar: Int64(0))],
                                          attributes: ["exclusive": .int(1)])[0], [1, 1, 2])
}
