import Foundation
import ONNX
import Testing
@testable import Runtime
import Tensor

@Test func attentionMatchesHandComputedSoftmax() throws {
    // One batch, one head, 2 queries, 2 keys, head size 1; scale 1.
    let q = Tensor(shape: [1, 1, 2, 1], floats: [1, 0])
    let k = Tensor(shape: [1, 1, 2, 1], floats: [1, 2])
    let v = Tensor(shape: [1, 1, 2, 1], floats: [10, 20])
    let out = try runRegisteredOperator("Attention", opset: 23, [q, k, v], attributes: ["scale": .float(1)], outputs: 1)
    // Query 0: scores [1, 2] -> weights [1, e] / (1 + e); query 1: scores [0, 0] -> [0.5, 0.5].
    let e = exp(1.0)
    expectClose(out[0], [(10 + 20 * e) / (1 + e), 15], shape: [1, 1, 2, 1], tolerance: 1e-5)
    // Causal: query 0 sees key 0 only.
    let causal = try runRegisteredOperator("Attention", opset: 23, [q, k, v],
                                           attributes: ["scale": .float(1), "is_causal": .int(1)])
    expectClose(causal[0], [10, 15], tolerance: 1e-5)
}

@Test func attentionThreeDimensionalGroupedHeads() throws {
    // 3-D input: 2 query heads share 1 kv head; head size 1, one position: softmax over one key is 1.
    let q = Tensor(shape: [1, 1, 2], floats: [0.3, -0.7])
    let k = Tensor(shape: [1, 1, 1], floats: [2])
    let v = Tensor(shape: [1, 1, 1], floats: [5])
    let out = try runRegisteredOperator("Attention", opset: 23, [q, k, v],
                                        attributes: ["q_num_heads": .int(2), "kv_num_heads": .int(1)])
    expectClose(out[0], [5, 5], shape: [1, 1, 2])
}

@Test func rotaryEmbeddingRotatesPairs() throws {
    // One head of size 2 at position 1 with angle 90 degrees: (x0, x1) -> (-x1, x0).
    let x = Tensor(shape: [1, 1, 1, 2], floats: [3, 4])
    let cos = Tensor(shape: [2, 1], floats: [1, 0]), sin = Tensor(shape: [2, 1], floats: [0, 1])
    let y = try runRegisteredOperator("RotaryEmbedding", opset: 23, [x, cos, sin, Tensor(shape: [1, 1], scalars: [Int64(1)])])
    expectClose(y[0], [-4, 3], shape: [1, 1, 1, 2])
}
