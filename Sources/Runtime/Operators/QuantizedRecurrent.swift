import ONNX
import Tensor

// com.microsoft DynamicQuantizeLSTM (onnxruntime's contrib operator; its quantiser writes it for LSTMs in
// `quantize_dynamic`). Inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P as LSTM's, except that W
// [directions, input, 4h] and R [directions, h, 4h] are int8 or uint8 and stored input-major (transposed
// against LSTM's); then W_scale, W_zero_point, R_scale, R_zero_point, each [directions] (per tensor) or
// [directions, 4h] (per output column). Attributes as LSTM's (no `layout`).
//
// What it computes, as onnxruntime does (its rnn_helpers ComputeGemm for quantised weights): each GEMM's
// float operand A — X over every step at once, then each step's H a batch row at a time (onnxruntime splits
// the batch by its thread count; with a thread per row, or batch 1, this is its result) — is quantised to uint8 on
// the fly: range [min(A, 0), max(A, 0)], scale = range / 255 (1 for an empty range), zero point = that
// range's 0 rounded half to even; A_q = round-half-even(A / scale), clamped, + zero point. The product is
// then scale_A * scale_W[column] * sum((A_q - zp_A)(W_q - zp_W)). Here both factors are held as small
// integers in float32, so the GEMM is the float one (exact while its sums stay below 2^24, within one
// rounding beyond).

let quantizedRecurrentOperators: [Registration] = [
    Registration("DynamicQuantizeLSTM", 1...1, domain: "com.microsoft") { ctx in try DynamicQuantizeLSTMOperator(ctx) },
]

/// The per-column scales of quantised W and R, per direction (`Recurrence.run`'s `quantization`).
struct RecurrentQuantization: Sendable {
    /// [directions * gates * h] each.
    let input: [Float], recurrent: [Float]
    let columns: Int

    /// c[row, j] *= scale * weights[direction, j] for a GEMM's rows x `columns` result.
    func rescale(_ c: UnsafeMutablePointer<Float>, rows: Int, by scale: Float, columns direction: Int,
                 of weights: KeyPath<RecurrentQuantization, [Float]>) {
        let w = self[keyPath: weights]
        w.withUnsafeBufferPointer { wp in
            let column = wp.baseAddress! + direction * columns
            for r in 0..<rows {
                let row = c + r * columns
                for j in 0..<columns { row[j] *= scale * column[j] }
            }
        }
    }
}

/// `values` quantised to uint8 as onnxruntime quantises a dynamic GEMM operand, written to `out` less the
/// zero point (integers in -255...255); returns the scale.
func dynamicallyQuantized(_ values: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Float>) -> Float {
    var low: Float = 0, high: Float = 0
    for i in 0..<count { low = min(low, values[i]); high = max(high, values[i]) }
    let scale: Float = high == low ? 1 : (high - low) / 255
    let zero = max(0, min(255, 0 - low / scale)).rounded(.toNearestOrEven)
    let (lowest, highest) = (0 - zero, 255 - zero)
    for i in 0..<count { out[i] = max(lowest, min(highest, values[i] / scale)).rounded(.toNearestOrEven) }
    return scale
}

struct DynamicQuantizeLSTMOperator: Operator {
    let lstm: LSTMOperator
    /// W's and R's float form, made once at load where they and their scales and zero points are constants
    /// (they are in quantize_dynamic's output); otherwise made every run.
    let constantW: (Tensor, [Float])?, constantR: (Tensor, [Float])?

    init(_ ctx: OperatorContext) throws {
        lstm = try LSTMOperator(ctx, layoutAllowed: false)
        func prepared(_ weight: Int, _ scale: Int, _ zero: Int, _ name: String) throws -> (Tensor, [Float])? {
            guard let q = ctx.constant(weight), let s = ctx.constant(scale), let z = ctx.constant(zero) else { return nil }
            return try Self.dequantizedWeights(q, scale: s, zeroPoint: z, name: name)
        }
        constantW = try prepared(1, 8, 9, "W")
        constantR = try prepared(2, 10, 11, "R")
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        // W and R are [directions, K, 4h]: LSTM's rule reads the hidden size from R's last dimension / 4.
        guard shapes.count >= 3, let x = shapes[0], let r = shapes[2], r.count == 3 else { return [] }
        let (y, state) = try lstm.recurrence.outputShapes(x: x, r: [r[0], r[2], r[2] / 4])
        return [y, state, state]
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let w = try inputs.required(1, "W"), r = try inputs.required(2, "R")
        let (wFloat, wScales) = try constantW ?? Self.dequantizedWeights(w, scale: inputs.required(8, "W_scale"),
                                                                          zeroPoint: inputs.required(9, "W_zero_point"), name: "W")
        let (rFloat, rScales) = try constantR ?? Self.dequantizedWeights(r, scale: inputs.required(10, "R_scale"),
                                                                          zeroPoint: inputs.required(11, "R_zero_point"), name: "R")
        guard wFloat.shape[1] == rFloat.shape[1], rFloat.shape[1] == 4 * rFloat.shape[2] else {
            throw KernelError("W \(shapeString(w.shape)) and R \(shapeString(r.shape)) must be [directions, input, 4h] and [directions, h, 4h]")
        }
        var lstmInputs = Array(inputs.prefix(8))
        while lstmInputs.count < 8 { lstmInputs.append(nil) }
        lstmInputs[1] = wFloat
        lstmInputs[2] = rFloat
        return try lstm.run(lstmInputs, quantization: RecurrentQuantization(input: wScales, recurrent: rScales,
                                                                            columns: wFloat.shape[1]))
    }

    /// An int8/uint8 [directions, K, N] weight as float32 [directions, N, K] of (q - zero point), and its
    /// per-column scales [directions * N].
    private static func dequantizedWeights(_ q: Tensor, scale: Tensor, zeroPoint: Tensor, name: String) throws -> (Tensor, [Float]) {
        guard q.rank == 3, q.dtype == .int8 || q.dtype == .uint8 else {
            throw KernelError("\(name) is \(q.dtype) \(shapeString(q.shape)); DynamicQuantizeLSTM takes int8 or uint8 [directions, K, 4h]")
        }
        let (directions, k, n) = (q.shape[0], q.shape[1], q.shape[2])
        let perColumn = scale.shape == [directions, n]
        guard scale.dtype == .float32, perColumn || scale.shape == [directions] else {
            throw KernelError("\(name)_scale is \(scale.dtype) \(shapeString(scale.shape)); expected float32 [\(directions)] or [\(directions), \(n)]")
        }
        guard zeroPoint.dtype == q.dtype, zeroPoint.shape == scale.shape else {
            throw KernelError("\(name)_zero_point is \(zeroPoint.dtype) \(shapeString(zeroPoint.shape)); expected \(q.dtype) \(shapeString(scale.shape))")
        }
        try requireAllocatable([directions, n, k], .float32)
        let weights = eightBitFloats(q, less: [0], every: q.count).scalars(as: Float.self)
        let zeros = zeroPoint.doubles().map { Float($0) }, scales = Array(scale.floats)
        var out = [Float](repeating: 0, count: directions * n * k), columnScales = [Float](repeating: 0, count: directions * n)
        for d in 0..<directions {
            for j in 0..<n {
                let column = perColumn ? d * n + j : d
                columnScales[d * n + j] = scales[column]
                for i in 0..<k { out[(d * n + j) * k + i] = weights[(d * k + i) * n + j] - zeros[column] }
            }
        }
        return (Tensor(shape: [directions, n, k], floats: out), columnScales)
    }
}
