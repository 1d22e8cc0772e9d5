import Foundation
import ONNX
import Tensor

// LSTM (opsets 7 and 14; 14 adds `layout`), float32. Gates in ONNX order i, o, f, c:
//   i = f(X W_i^T + H R_i^T + P_i * C + Wb_i + Rb_i)      f = f(X W_f^T + H R_f^T + P_f * C + Wb_f + Rb_f)
//   c~ = g(X W_c^T + H R_c^T + Wb_c + Rb_c)                C' = f * C + i * c~
//   o = f(X W_o^T + H R_o^T + P_o * C' + Wb_o + Rb_o)      H' = o * h(C')
// (f, g, h default Sigmoid, Tanh, Tanh; `clip` bounds every pre-activation; `input_forget` couples f = 1 - i.)
// Directions forward, reverse, bidirectional; `sequence_lens` ends each batch element's sequence early (its
// later Y rows stay zero, Y_h / Y_c hold its last real step; reverse runs from its own last step).
// Method: X W^T for every step in one GEMM, then per step one GEMM H R^T over the batch and the gate maths.

let recurrentOperators: [Registration] = [
    Registration("LSTM", 7...13) { ctx in try LSTMOperator(ctx, layoutAllowed: false) },
    Registration("LSTM", since: 14) { ctx in try LSTMOperator(ctx, layoutAllowed: true) },
]

/// The activation functions recurrent operators name (`activations`), with their alpha / beta.
struct RecurrentActivation: Sendable {
    let apply: @Sendable (Float) -> Float

    /// The activations for `count` slots: `names` (or `defaults` repeated when absent), each taking its
    /// alpha / beta from `alphas` / `betas` in order of the activations that have parameters.
    static func list(_ node: Node, defaults: [String], count: Int) throws -> [RecurrentActivation] {
        let names = try node.strings("activations") ?? (0..<count).map { defaults[$0 % defaults.count] }
        guard names.count == count else {
            throw node.invalid("activations", "has \(names.count) entries, expected \(count) (\(defaults.count) per direction)")
        }
        let alphas = try node.floats("activation_alpha") ?? [], betas = try node.floats("activation_beta") ?? []
        var nextAlpha = 0, nextBeta = 0
        func alpha(_ fallback: Float) -> Float { defer { nextAlpha += 1 }; return nextAlpha < alphas.count ? alphas[nextAlpha] : fallback }
        func beta(_ fallback: Float) -> Float { defer { nextBeta += 1 }; return nextBeta < betas.count ? betas[nextBeta] : fallback }
        return try names.map { name in
            switch name.lowercased() {
            case "sigmoid": return RecurrentActivation { FastFloat.sigmoid($0) }
            case "tanh": return RecurrentActivation { FastFloat.tanh($0) }
            case "relu": return RecurrentActivation { max($0, 0) }
            case "softsign": return RecurrentActivation { $0 / (1 + abs($0)) }
            case "softplus": return RecurrentActivation { ActivationMath.softplus($0) }
            case "leakyrelu":
                let a = alpha(0.01)
                return RecurrentActivation { $0 >= 0 ? $0 : a * $0 }
            case "thresholdedrelu":
                let a = alpha(1)
                return RecurrentActivation { $0 > a ? $0 : 0 }
            case "elu":
                let a = alpha(1)
                return RecurrentActivation { ActivationMath.elu($0, alpha: a) }
            case "hardsigmoid":
                let (a, b) = (alpha(0.2), beta(0.5))
                return RecurrentActivation { ActivationMath.hardSigmoid($0, alpha: a, beta: b) }
            case "affine":
                let (a, b) = (alpha(1), beta(0))
                return RecurrentActivation { a * $0 + b }
            case "scaledtanh":
                let (a, b) = (alpha(1), beta(1))
                return RecurrentActivation { a * FastFloat.tanh(b * $0) }
            default:
                throw node.invalid("activations", "\"\(name)\" is not a recurrent activation this runtime knows")
            }
        }
    }
}

/// `direction`: how many directions, and whether direction d runs backwards in time.
func recurrentDirections(_ node: Node) throws -> [Bool] {
    switch try node.string("direction", default: "forward") {
    case "forward": return [false]
    case "reverse": return [true]
    case "bidirectional": return [false, true]
    case let other: throw node.invalid("direction", "must be forward, reverse or bidirectional; got \"\(other)\"")
    }
}

struct LSTMOperator: Operator {
    let reversed: [Bool]
    let activations: [RecurrentActivation]
    let hiddenSize: Int?
    let clip: Float?
    let inputForget: Bool
    let batchFirst: Bool

    init(_ ctx: OperatorContext, layoutAllowed: Bool) throws {
        let node = ctx.node
        reversed = try recurrentDirections(node)
        activations = try RecurrentActivation.list(node, defaults: ["Sigmoid", "Tanh", "Tanh"], count: 3 * reversed.count)
        hiddenSize = try node.int("hidden_size")
        if let hiddenSize, hiddenSize < 1 { throw node.invalid("hidden_size", "must be positive; got \(hiddenSize)") }
        clip = try node.float("clip")
        if let clip, !(clip > 0) { throw node.invalid("clip", "must be positive; got \(clip)") }
        inputForget = try node.int("input_forget", default: 0) != 0
        let layout = layoutAllowed ? try node.int("layout", default: 0) : 0
        guard layout == 0 || layout == 1 else { throw node.invalid("layout", "must be 0 or 1; got \(layout)") }
        batchFirst = layout == 1
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X"), w = try inputs.required(1, "W"), r = try inputs.required(2, "R")
        for (t, name) in [(x, "X"), (w, "W"), (r, "R")] where t.dtype != .float32 || t.rank != 3 {
            throw KernelError("\(name) is \(t.dtype) \(shapeString(t.shape)); LSTM takes float32 tensors of rank 3")
        }
        let directions = reversed.count
        let (steps, batch) = batchFirst ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
        let inputSize = x.shape[2]
        let h = hiddenSize ?? r.shape[2]
        guard w.shape == [directions, 4 * h, inputSize], r.shape == [directions, 4 * h, h] else {
            throw KernelError("W \(shapeString(w.shape)) and R \(shapeString(r.shape)) must be [\(directions), \(4 * h), \(inputSize)] and [\(directions), \(4 * h), \(h)]")
        }
        let bias = try optionalFloats(inputs.optional(3), [directions, 8 * h], "B")
        let lengths = try sequenceLengths(inputs.optional(4), batch: batch, steps: steps)
        let initialH = try optionalFloats(inputs.optional(5), batchFirst ? [batch, directions, h] : [directions, batch, h], "initial_h")
        let initialC = try optionalFloats(inputs.optional(6), batchFirst ? [batch, directions, h] : [directions, batch, h], "initial_c")
        let peepholes = try optionalFloats(inputs.optional(7), [directions, 3 * h], "P")
        try requireAllocatable([steps, directions, batch, 4 * h], .float32)

        // X as [steps, batch, input].
        let xs = batchFirst ? transposed(x, perm: [1, 0, 2]) : x
        var y = [Float](repeating: 0, count: steps * directions * batch * h)   // [steps, directions, batch, h]
        var lastH = [Float](repeating: 0, count: directions * batch * h), lastC = lastH
        let stateIndex = { (d: Int, b: Int) -> Int in self.batchFirst ? (b * directions + d) * h : (d * batch + b) * h }
        var projected = [Float](repeating: 0, count: steps * batch * 4 * h)
        var recurrent = [Float](repeating: 0, count: batch * 4 * h)
        for d in 0..<directions {
            let (f, g, act) = (activations[3 * d], activations[3 * d + 1], activations[3 * d + 2])
            // X W_d^T for every step: [steps * batch, 4h].
            projected.withUnsafeMutableBufferPointer { p in
                sgemm(transposeA: false, transposeB: true, m: steps * batch, n: 4 * h, k: inputSize, alpha: 1,
                      a: xs.pointer(as: Float.self), lda: inputSize, b: w.pointer(as: Float.self) + d * 4 * h * inputSize,
                      ldb: inputSize, beta: 0, c: p.baseAddress!, ldc: 4 * h)
            }
            if let bias {
                for row in 0..<steps * batch {
                    for j in 0..<4 * h { projected[row * 4 * h + j] += bias[d * 8 * h + j] + bias[d * 8 * h + 4 * h + j] }
                }
            }
            var hState = [Float](repeating: 0, count: batch * h), cState = hState
            for b in 0..<batch {
                for j in 0..<h {
                    hState[b * h + j] = initialH?[stateIndex(d, b) + j] ?? 0
                    cState[b * h + j] = initialC?[stateIndex(d, b) + j] ?? 0
                }
            }
            for s in 0..<steps {
                // H R_d^T: [batch, 4h].
                hState.withUnsafeBufferPointer { hp in
                    recurrent.withUnsafeMutableBufferPointer { rp in
                        sgemm(transposeA: false, transposeB: true, m: batch, n: 4 * h, k: h, alpha: 1, a: hp.baseAddress!, lda: h,
                              b: r.pointer(as: Float.self) + d * 4 * h * h, ldb: h, beta: 0, c: rp.baseAddress!, ldc: 4 * h)
                    }
                }
                for b in 0..<batch where s < lengths[b] {
                    let t = reversed[d] ? lengths[b] - 1 - s : s
                    let gates = (t * batch + b) * 4 * h, rec = b * 4 * h
                    for j in 0..<h {
                        let c = cState[b * h + j]
                        func pre(_ gate: Int, peephole: Float) -> Float {
                            let v = projected[gates + gate * h + j] + recurrent[rec + gate * h + j] + peephole
                            return clip.map { min(max(v, -$0), $0) } ?? v
                        }
                        let input = f.apply(pre(0, peephole: (peepholes?[d * 3 * h + j] ?? 0) * c))
                        let forget = inputForget ? 1 - input : f.apply(pre(2, peephole: (peepholes?[d * 3 * h + 2 * h + j] ?? 0) * c))
                        let candidate = g.apply(pre(3, peephole: 0))
                        let cell = forget * c + input * candidate
                        let output = f.apply(pre(1, peephole: (peepholes?[d * 3 * h + h + j] ?? 0) * cell))
                        let hidden = output * act.apply(cell)
                        cState[b * h + j] = cell
                        hState[b * h + j] = hidden
                        y[((t * directions + d) * batch + b) * h + j] = hidden
                    }
                }
            }
            for b in 0..<batch {
                for j in 0..<h {
                    lastH[stateIndex(d, b) + j] = hState[b * h + j]
                    lastC[stateIndex(d, b) + j] = cState[b * h + j]
                }
            }
        }
        var yTensor = Tensor(shape: [steps, directions, batch, h], floats: y)
        if batchFirst { yTensor = transposed(yTensor, perm: [2, 0, 1, 3]) }
        let stateShape = batchFirst ? [batch, directions, h] : [directions, batch, h]
        return [yTensor, Tensor(shape: stateShape, floats: lastH), Tensor(shape: stateShape, floats: lastC)]
    }

    /// An optional float32 input of exactly `shape`, as an array.
    private func optionalFloats(_ t: Tensor?, _ shape: [Int], _ name: String) throws -> [Float]? {
        guard let t else { return nil }
        guard t.dtype == .float32, t.shape == shape else {
            throw KernelError("\(name) is \(t.dtype) \(shapeString(t.shape)); LSTM expects float32 \(shapeString(shape))")
        }
        return Array(UnsafeBufferPointer(start: t.pointer(as: Float.self), count: t.count))
    }

    /// `sequence_lens` (int32 [batch], each 0...steps), or every sequence the full length.
    private func sequenceLengths(_ t: Tensor?, batch: Int, steps: Int) throws -> [Int] {
        guard let t else { return Array(repeating: steps, count: batch) }
        guard t.shape == [batch], t.dtype == .int32 || t.dtype == .int64 else {
            throw KernelError("sequence_lens is \(t.dtype) \(shapeString(t.shape)); LSTM expects int32 [\(batch)]")
        }
        let lengths = t.ints()
        if let bad = lengths.first(where: { $0 < 0 || $0 > steps }) {
            throw KernelError("sequence_lens holds \(bad); each must be between 0 and the \(steps) steps")
        }
        return lengths
    }
}
