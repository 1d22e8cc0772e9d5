import ONNX
import Testing
@testable import Runtime
import Tensor

// com.microsoft DynamicQuantizeLSTM: its numbers are the golden cases (Tests/Fixtures/golden/dq_lstm_*, checked
// against onnxruntime and a numpy transcription); here, the operand quantisation and the refusals.

/// onnxruntime's dynamic quantisation of a GEMM operand: the range widened to 0, 255 steps, zero point rounded.
@Test func dynamicQuantisationMatchesOnnxRuntimesRule() {
    // Range [-1, 3]: scale 4/255, zero point round(63.75) = 64, so values clamp to [-64, 191] quanta.
    let values: [Float] = [-1, 0, 3, 1.5, -0.004]
    var out = [Float](repeating: .nan, count: values.count)
    let scale = values.withUnsafeBufferPointer { v in
        out.withUnsafeMutableBufferPointer { dynamicallyQuantized(v.baseAddress!, count: v.count, into: $0.baseAddress!) }
    }
    #expect(scale == Float(4) / 255)
    #expect(out == [-64, 0, 191, (1.5 / scale).rounded(.toNearestOrEven), (-0.004 / scale).rounded(.toNearestOrEven)])
    // All zeros: scale 1, nothing to round.
    let zeros = [Float](repeating: 0, count: 3)
    var zeroOut = [Float](repeating: .nan, count: 3)
    let zeroScale = zeros.withUnsafeBufferPointer { v in
        zeroOut.withUnsafeMutableBufferPointer { dynamicallyQuantized(v.baseAddress!, count: 3, into: $0.baseAddress!) }
    }
    #expect(zeroScale == 1 && zeroOut == [0, 0, 0])
}

/// Runs DynamicQuantizeLSTM (forward, hidden 2, input 3, 4 steps, batch 1) with these weight parts.
private func runQuantizedLSTM(w: Tensor, wScale: Tensor, wZero: Tensor, r: Tensor? = nil) throws -> [Tensor] {
    let registration = try #require(OperatorRegistry.lookup(domain: "com.microsoft", opType: "DynamicQuantizeLSTM", opset: 1))
    let node = Node(name: "dq", opType: "DynamicQuantizeLSTM", domain: "com.microsoft",
                    inputs: ["x", "w", "r", "", "", "", "", "", "ws", "wz", "rs", "rz"], outputs: ["y", "yh", "yc"],
                    attributes: ["hidden_size": .int(2)])
    let op = try registration.make(OperatorContext(node: node, opset: 1, constants: []))
    let x = Tensor(shape: [4, 1, 3], floats: (0..<12).map { Float($0) / 6 - 1 })
    let rq = r ?? Tensor(shape: [1, 2, 8], scalars: (0..<16).map { Int8($0 - 8) })
    return try op.run([x, w, rq, nil, nil, nil, nil, nil, wScale, wZero,
                       Tensor(shape: [1], floats: [0.01]), Tensor(shape: [1], scalars: [Int8(0)])])
}

@Test func quantizedLSTMRunsAndRefusesBadWeights() throws {
    let w = Tensor(shape: [1, 3, 8], scalars: (0..<24).map { Int8($0 * 5 - 60) })
    let scale = Tensor(shape: [1], floats: [0.02]), zero = Tensor(shape: [1], scalars: [Int8(0)])
    let outputs = try runQuantizedLSTM(w: w, wScale: scale, wZero: zero)
    #expect(outputs.map(\.shape) == [[4, 1, 1, 2], [1, 1, 2], [1, 1, 2]])
    #expect(outputs[0].scalars(as: Float.self).allSatisfy { $0.isFinite && abs($0) < 1 })

    func refusal(_ body: () throws -> [Tensor]) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }
    let floatWeights = refusal { try runQuantizedLSTM(w: Tensor(zeros: [1, 3, 8]), wScale: scale, wZero: zero) }
    #expect(floatWeights.contains("W is float32") && floatWeights.contains("int8 or uint8"), "\(floatWeights)")
    let badScale = refusal { try runQuantizedLSTM(w: w, wScale: Tensor(shape: [3], floats: [1, 1, 1]), wZero: zero) }
    #expect(badScale.contains("W_scale"), "\(badScale)")
    let badZero = refusal { try runQuantizedLSTM(w: w, wScale: scale, wZero: Tensor(shape: [1], scalars: [UInt8(0)])) }
    #expect(badZero.contains("W_zero_point"), "\(badZero)")
    let badR = refusal { try runQuantizedLSTM(w: w, wScale: scale, wZero: zero, r: Tensor(shape: [1, 3, 8], scalars: [Int8](repeating: 0, count: 24))) }
    #expect(badR.contains("must be [directions, input, 4h] and [directions, h, 4h]"), "\(badR)")
}
