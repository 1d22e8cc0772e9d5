import Foundation
import ONNX
import Tensor

// RNN, GRU and LSTM (opsets 7 and 14; 14 adds `layout`), float32. One time loop (`Recurrence`) runs them all;
// each supplies its cell. LSTM, gates in ONNX order i, o, f, c:
//   i = f(X W_i^T + H R_i^T + P_i * C + Wb_i + Rb_i)      f = f(X W_f^T + H R_f^T + P_f * C + Wb_f + Rb_f)
//   c~ = g(X W_c^T + H R_c^T + Wb_c + Rb_c)                C' = f * C + i * c~
//   o = f(X W_o^T + H R_o^T + P_o * C' + Wb_o + Rb_o)      H' = o * h(C')
// (f, g, h default Sigmoid, Tanh, Tanh; `clip` bounds every pre-activation; `input_forget` couples f = 1 - i.)
// Directions forward, reverse, bidirectional; `sequence_lens` ends each batch element's sequence early (its
// later Y rows stay zero, Y_h / Y_c hold its last real step; reverse runs from its own last step).
// GRU, gates z, r, h: z = f(X W_z^T + H R_z^T + Wb_z + Rb_z), r likewise, h~ = g(X W_h^T + (r * H) R_h^T + Rb_h +
// Wb_h) — or, with `linear_before_reset`, g(X W_h^T + r * (H R_h^T + Rb_h) + Wb_h) — and H' = (1 - z) * h~ + z * H.
// RNN: H' = f(X W^T + H R^T + Wb + Rb) (f default Tanh).
// Method: X W^T (+ Wb) for every step in one GEMM, then per step one GEMM H R^T over the batch and the cell.

let recurrentOperators: [Registration] = [
    Registration("LSTM", 7...13) { ctx in try LSTMOperator(ctx, layoutAllowed: false) },
    Registration("LSTM", since: 14) { ctx in try LSTMOperator(ctx, layoutAllowed: true) },
    Registration("GRU", 7...13) { ctx in try GRUOperator(ctx, layoutAllowed: false) },
    Registration("GRU", since: 14) { ctx in try GRUOperator(ctx, layoutAllowed: true) },
    Registration("RNN", 7...13) { ctx in try RNNOperator(ctx, layoutAllowed: false) },
    Registration("RNN", since: 14) { ctx in try RNNOperator(ctx, layoutAllowed: true) },
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

/// The attributes every recurrent operator has.
struct RecurrentAttributes: Sendable {
    let reversed: [Bool]
    let activations: [RecurrentActivation]
    let hiddenSize: Int?
    let clip: Float?
    let batchFirst: Bool

    init(_ node: Node, defaults: [String], layoutAllowed: Bool) throws {
        reversed = try recurrentDirections(node)
        activations = try RecurrentActivation.list(node, defaults: defaults, count: defaults.count * reversed.count)
        hiddenSize = try node.int("hidden_size")
        if let hiddenSize, hiddenSize < 1 { throw node.invalid("hidden_size", "must be positive; got \(hiddenSize)") }
        clip = try node.float("clip")
        if let clip, !(clip > 0) { throw node.invalid("clip", "must be positive; got \(clip)") }
        let layout = layoutAllowed ? try node.int("layout", default: 0) : 0
        guard layout == 0 || layout == 1 else { throw node.invalid("layout", "must be 0 or 1; got \(layout)") }
        batchFirst = layout == 1
    }

    @inline(__always)
    func clipped(_ v: Float) -> Float { clip.map { min(max(v, -$0), $0) } ?? v }
}

/// The time loop of a recurrent operator with `gates` gate blocks of the hidden size: inputs X, W, R, B,
/// sequence_lens, initial_h (and the cell state's initial value at `cellInitialIndex`, for LSTM).
struct Recurrence {
    let op: String
    let attributes: RecurrentAttributes
    let gates: Int

    /// One step of one batch element in direction d, hidden size n. `projected`: X_t W^T + Wb for this element (gates · h);
    /// `recurrent`: H R^T (gates · h); `rb`: this direction's Rb (gates · h; zeros without B); `h`, `c`: the
    /// element's state rows, updated in place (`c` only for LSTM); `r`: this direction's R (gates · h x h).
    typealias Cell = (_ d: Int, _ n: Int, _ projected: UnsafePointer<Float>, _ recurrent: UnsafePointer<Float>,
                      _ rb: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                      _ r: UnsafePointer<Float>) -> Void

    /// The shapes of Y and of Y_h (and Y_c) for X and R of these shapes.
    func outputShapes(x: [Int], r: [Int]) throws -> (y: [Int], state: [Int]) {
        guard x.count == 3, r.count == 3 else {
            throw KernelError("X \(shapeString(x)) and R \(shapeString(r)) must have rank 3")
        }
        let a = attributes, directions = a.reversed.count
        let (steps, batch) = a.batchFirst ? (x[1], x[0]) : (x[0], x[1])
        let h = a.hiddenSize ?? r[2]
        return (a.batchFirst ? [batch, steps, directions, h] : [steps, directions, batch, h],
                a.batchFirst ? [batch, directions, h] : [directions, batch, h])
    }

    func outputShapes(_ shapes: [[Int]?], cellState: Bool) throws -> [[Int]?] {
        guard shapes.count >= 3, let x = shapes[0], let r = shapes[2] else { return [] }
        let (y, state) = try outputShapes(x: x, r: r)
        return [y, state] + (cellState ? [state] : [])
    }

    /// Runs the operator: [Y, Y_h] and, with `cellState`, Y_c. With `quantization`, W and R hold integer
    /// weights less their zero points and X and each step's H are quantised on the fly (QuantizedRecurrent.swift).
    func run(_ inputs: [Tensor?], cellState: Bool, quantization: RecurrentQuantization? = nil, _ cell: Cell) throws -> [Tensor] {
        let x = try inputs.required(0, "X"), w = try inputs.required(1, "W"), r = try inputs.required(2, "R")
        for (t, name) in [(x, "X"), (w, "W"), (r, "R")] where t.dtype != .float32 || t.rank != 3 {
            throw KernelError("\(name) is \(t.dtype) \(shapeString(t.shape)); \(op) takes float32 tensors of rank 3")
        }
        let a = attributes, directions = a.reversed.count, g = gates
        let (steps, batch) = a.batchFirst ? (x.shape[1], x.shape[0]) : (x.shape[0], x.shape[1])
        let inputSize = x.shape[2]
        let h = a.hiddenSize ?? r.shape[2]
        guard w.shape == [directions, g * h, inputSize], r.shape == [directions, g * h, h] else {
            throw KernelError("W \(shapeString(w.shape)) and R \(shapeString(r.shape)) must be [\(directions), \(g * h), \(inputSize)] and [\(directions), \(g * h), \(h)]")
        }
        let stateShape = try outputShapes(x: x.shape, r: r.shape).state
        let bias = try optionalFloats(inputs.optional(3), [directions, 2 * g * h], "B") ?? [Float](repeating: 0, count: directions * 2 * g * h)
        let lengths = try sequenceLengths(inputs.optional(4), batch: batch, steps: steps)
        let initialH = try optionalFloats(inputs.optional(5), stateShape, "initial_h")
        let initialC = cellState ? try optionalFloats(inputs.optional(6), stateShape, "initial_c") : nil
        try requireAllocatable([steps, directions, batch, g * h], .float32)

        let xs = a.batchFirst ? transposed(x, perm: [1, 0, 2]) : x     // [steps, batch, input]
        // Quantised: X as onnxruntime quantises it, once over every step (one GEMM), and that scale.
        var xQuantized: [Float] = [], xScale: Float = 1
        if quantization != nil {
            xQuantized = [Float](repeating: 0, count: xs.count)
            xScale = xQuantized.withUnsafeMutableBufferPointer {
                dynamicallyQuantized(xs.pointer(as: Float.self), count: xs.count, into: $0.baseAddress!)
            }
        }
        var y = [Float](repeating: 0, count: steps * directions * batch * h)   // [steps, directions, batch, h]
        var lastH = [Float](repeating: 0, count: directions * batch * h), lastC = lastH
        let stateIndex = { (d: Int, b: Int) -> Int in a.batchFirst ? (b * directions + d) * h : (d * batch + b) * h }
        // The directions are independent (each writes its own slices of Y and the last states): a bidirectional
        // layer runs both at once, one per thread.
        y.withUnsafeMutableBufferPointer { yBuffer in
            lastH.withUnsafeMutableBufferPointer { lastHBuffer in
                lastC.withUnsafeMutableBufferPointer { lastCBuffer in
                    nonisolated(unsafe) let (yOut, lastHOut, lastCOut) = (yBuffer.baseAddress!, lastHBuffer.baseAddress!, lastCBuffer.baseAddress!)
                    concurrentFor(directions) { d in
                        var projected = [Float](repeating: 0, count: steps * batch * g * h)
                        var recurrent = [Float](repeating: 0, count: batch * g * h)
                        var hState = [Float](repeating: 0, count: batch * h), cState = hState, hQuantized = hState
                        var hScales = [Float](repeating: 1, count: batch)
                        let wd = w.pointer(as: Float.self) + d * g * h * inputSize
                        let rd = UnsafePointer(r.pointer(as: Float.self) + d * g * h * h)
                        projected.withUnsafeMutableBufferPointer { p in
                            xQuantized.withUnsafeBufferPointer { xq in
                                sgemm(transposeA: false, transposeB: true, m: steps * batch, n: g * h, k: inputSize, alpha: 1,
                                      a: quantization == nil ? UnsafePointer(xs.pointer(as: Float.self)) : xq.baseAddress!, lda: inputSize,
                                      b: wd, ldb: inputSize, beta: 0, c: p.baseAddress!, ldc: g * h)
                            }
                            quantization?.rescale(p.baseAddress!, rows: steps * batch, by: xScale, columns: d, of: \.input)
                        }
                        for row in 0..<steps * batch {
                            for j in 0..<g * h { projected[row * g * h + j] += bias[d * 2 * g * h + j] }
                        }
                        for b in 0..<batch {
                            for j in 0..<h {
                                hState[b * h + j] = initialH?[stateIndex(d, b) + j] ?? 0
                                cState[b * h + j] = initialC?[stateIndex(d, b) + j] ?? 0
                            }
                        }
                        bias.withUnsafeBufferPointer { bp in
                            let rb = bp.baseAddress! + d * 2 * g * h + g * h
                            for s in 0..<steps {
                                hState.withUnsafeBufferPointer { hp in
                                    hQuantized.withUnsafeMutableBufferPointer { hq in
                                        recurrent.withUnsafeMutableBufferPointer { rp in
                                            // Quantised: each batch row's state at its own scale (onnxruntime runs the
                                            // recurrent GEMM a batch row at a time).
                                            if quantization != nil {
                                                for b in 0..<batch {
                                                    hScales[b] = dynamicallyQuantized(hp.baseAddress! + b * h, count: h, into: hq.baseAddress! + b * h)
                                                }
                                            }
                                            sgemm(transposeA: false, transposeB: true, m: batch, n: g * h, k: h, alpha: 1,
                                                  a: quantization == nil ? hp.baseAddress! : UnsafePointer(hq.baseAddress!), lda: h,
                                                  b: rd, ldb: h, beta: 0, c: rp.baseAddress!, ldc: g * h)
                                            for b in 0..<batch {
                                                quantization?.rescale(rp.baseAddress! + b * g * h, rows: 1, by: hScales[b], columns: d, of: \.recurrent)
                                            }
                                        }
                                    }
                                }
                                for b in 0..<batch where s < lengths[b] {
                                    let t = a.reversed[d] ? lengths[b] - 1 - s : s
                                    projected.withUnsafeBufferPointer { pp in
                                        recurrent.withUnsafeBufferPointer { rp in
                                            hState.withUnsafeMutableBufferPointer { hp in
                                                cState.withUnsafeMutableBufferPointer { cp in
                                                    cell(d, h, pp.baseAddress! + (t * batch + b) * g * h, rp.baseAddress! + b * g * h, rb,
                                                         hp.baseAddress! + b * h, cp.baseAddress! + b * h, rd)
                                                }
                                            }
                                        }
                                    }
                                    for j in 0..<h { yOut[((t * directions + d) * batch + b) * h + j] = hState[b * h + j] }
                                }
                            }
                        }
                        for b in 0..<batch {
                            for j in 0..<h {
                                lastHOut[stateIndex(d, b) + j] = hState[b * h + j]
                                lastCOut[stateIndex(d, b) + j] = cState[b * h + j]
                            }
                        }
                    }
                }
            }
        }
        var yTensor = Tensor(shape: [steps, directions, batch, h], floats: y)
        if a.batchFirst { yTensor = transposed(yTensor, perm: [2, 0, 1, 3]) }
        let states = [Tensor(shape: stateShape, floats: lastH)] + (cellState ? [Tensor(shape: stateShape, floats: lastC)] : [])
        return [yTensor] + states
    }

    /// An optional float32 input of exactly `shape`, as an array.
    private func optionalFloats(_ t: Tensor?, _ shape: [Int], _ name: String) throws -> [Float]? {
        guard let t else { return nil }
        guard t.dtype == .float32, t.shape == shape else {
            throw KernelError("\(name) is \(t.dtype) \(shapeString(t.shape)); \(op) expects float32 \(shapeString(shape))")
        }
        return Array(UnsafeBufferPointer(start: t.pointer(as: Float.self), count: t.count))
    }

    /// `sequence_lens` (int32 [batch], each 0...steps), or every sequence the full length.
    private func sequenceLengths(_ t: Tensor?, batch: Int, steps: Int) throws -> [Int] {
        guard let t else { return Array(repeating: steps, count: batch) }
        guard t.shape == [batch], t.dtype == .int32 || t.dtype == .int64 else {
            throw KernelError("sequence_lens is \(t.dtype) \(shapeString(t.shape)); \(op) expects int32 [\(batch)]")
        }
        let lengths = t.ints()
        if let bad = lengths.first(where: { $0 < 0 || $0 > steps }) {
            throw KernelError("sequence_lens holds \(bad); each must be between 0 and the \(steps) steps")
        }
        return lengths
    }
}

struct LSTMOperator: Operator {
    let recurrence: Recurrence
    let inputForget: Bool

    init(_ ctx: OperatorContext, layoutAllowed: Bool) throws {
        recurrence = Recurrence(op: "LSTM", attributes: try RecurrentAttributes(ctx.node, defaults: ["Sigmoid", "Tanh", "Tanh"],
                                                                                 layoutAllowed: layoutAllowed), gates: 4)
        inputForget = try ctx.node.int("input_forget", default: 0) != 0
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        try recurrence.outputShapes(shapes, cellState: true)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] { try run(inputs, quantization: nil) }

    func run(_ inputs: [Tensor?], quantization: RecurrentQuantization?) throws -> [Tensor] {
        let a = recurrence.attributes
        let directions = a.reversed.count
        // Peepholes P [directions, 3h]: i, o, f.
        let p = inputs.optional(7)
        let rShape = try inputs.required(2, "R").shape
        let h = a.hiddenSize ?? (rShape.last ?? 0)
        if let p, p.dtype != .float32 || p.shape != [directions, 3 * h] {
            throw KernelError("P is \(p.dtype) \(shapeString(p.shape)); LSTM expects float32 [\(directions), \(3 * h)]")
        }
        let peepholes = p.map { Array(UnsafeBufferPointer(start: $0.pointer(as: Float.self), count: $0.count)) }
        let inputForget = self.inputForget
        return try recurrence.run(inputs, cellState: true, quantization: quantization) { d, hidden, projected, recurrent, rb, hRow, cRow, _ in
            let (f, g, act) = (a.activations[3 * d], a.activations[3 * d + 1], a.activations[3 * d + 2])
            for j in 0..<hidden {
                let c = cRow[j]
                func pre(_ gate: Int, _ peephole: Float) -> Float {
                    a.clipped(projected[gate * hidden + j] + recurrent[gate * hidden + j] + rb[gate * hidden + j] + peephole)
                }
                let ph = { (k: Int) -> Float in peepholes?[d * 3 * hidden + k * hidden + j] ?? 0 }
                let input = f.apply(pre(0, ph(0) * c))
                let forget = inputForget ? 1 - input : f.apply(pre(2, ph(2) * c))
                let cell = forget * c + input * g.apply(pre(3, 0))
                let output = f.apply(pre(1, ph(1) * cell))
                cRow[j] = cell
                hRow[j] = output * act.apply(cell)
            }
        }
    }
}

struct GRUOperator: Operator {
    let recurrence: Recurrence
    let linearBeforeReset: Bool

    init(_ ctx: OperatorContext, layoutAllowed: Bool) throws {
        recurrence = Recurrence(op: "GRU", attributes: try RecurrentAttributes(ctx.node, defaults: ["Sigmoid", "Tanh"],
                                                                                layoutAllowed: layoutAllowed), gates: 3)
        linearBeforeReset = try ctx.node.int("linear_before_reset", default: 0) != 0
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        try recurrence.outputShapes(shapes, cellState: false)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = recurrence.attributes, linearBeforeReset = self.linearBeforeReset
        return try recurrence.run(inputs, cellState: false) { d, n, projected, recurrent, rb, hRow, _, r in
            let (f, g) = (a.activations[2 * d], a.activations[2 * d + 1])
            var z = [Float](repeating: 0, count: n), reset = z, resetH = z
            for j in 0..<n {
                z[j] = f.apply(a.clipped(projected[j] + recurrent[j] + rb[j]))
                reset[j] = f.apply(a.clipped(projected[n + j] + recurrent[n + j] + rb[n + j]))
                resetH[j] = reset[j] * hRow[j]
            }
            var candidate = [Float](repeating: 0, count: n)
            if linearBeforeReset {
                for j in 0..<n { candidate[j] = reset[j] * (recurrent[2 * n + j] + rb[2 * n + j]) }
            } else {
                // (r * H) R_h^T, R_h the last n rows of R.
                resetH.withUnsafeBufferPointer { rh in
                    candidate.withUnsafeMutableBufferPointer { cp in
                        sgemm(transposeA: false, transposeB: true, m: 1, n: n, k: n, alpha: 1, a: rh.baseAddress!, lda: n,
                              b: r + 2 * n * n, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                    }
                }
                for j in 0..<n { candidate[j] += rb[2 * n + j] }
            }
            for j in 0..<n {
                let hTilde = g.apply(a.clipped(projected[2 * n + j] + candidate[j]))
                hRow[j] = (1 - z[j]) * hTilde + z[j] * hRow[j]
            }
        }
    }
}

struct RNNOperator: Operator {
    let recurrence: Recurrence

    init(_ ctx: OperatorContext, layoutAllowed: Bool) throws {
        recurrence = Recurrence(op: "RNN", attributes: try RecurrentAttributes(ctx.node, defaults: ["Tanh"],
                                                                                layoutAllowed: layoutAllowed), gates: 1)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        try recurrence.outputShapes(shapes, cellState: false)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = recurrence.attributes
        return try recurrence.run(inputs, cellState: false) { d, n, projected, recurrent, rb, hRow, _, _ in
            let f = a.activations[d]
            for j in 0..<n { hRow[j] = f.apply(a.clipped(projected[j] + recurrent[j] + rb[j])) }
        }
    }
}
