import Foundation
import ONNX
import Tensor

let lossOperators: [Registration] = [
    Registration("NegativeLogLikelihoodLoss", since: 12) { ctx in try ClassLossOperator(ctx, softmax: false) },
    Registration("SoftmaxCrossEntropyLoss", since: 12) { ctx in try ClassLossOperator(ctx, softmax: true) },
]

// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, following the
// ONNX reference implementation exactly, including its weighting of ignored targets.

/// loss[n, d...] = -weight[t] * logProb[n, t, d...] with t = target[n, d...] (0 where t = ignore_index),
/// then reduced: "none", "sum", or "mean" (sum / sum of the weights used; a plain mean when no weights are
/// in play). SoftmaxCrossEntropyLoss takes log-softmax over C first and can output it (log_prob).
struct ClassLossOperator: Operator {
    enum Reduction: Sendable { case none, sum, mean }
    let softmax: Bool
    let reduction: Reduction
    let ignoreIndex: Int?
    let wantsLogProb: Bool

    init(_ ctx: OperatorContext, softmax: Bool) throws {
        self.softmax = softmax
        switch try ctx.node.string("reduction", default: "mean") {
        case "none": reduction = .none
        case "sum": reduction = .sum
        case "mean": reduction = .mean
        case let other: throw ctx.node.invalid("reduction", "must be none, sum or mean; got \"\(other)\"")
        }
        ignoreIndex = try ctx.node.int("ignore_index")
        wantsLogProb = softmax && ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, softmax ? "scores" : "input"), target = try inputs.required(1, "target")
        try requireNumeric(input, "input")
        guard input.rank >= 2 else { throw KernelError("input \(shapeString(input.shape)) needs (N, C, ...)") }
        let n = input.shape[0], c = input.shape[1], d = input.shape.dropFirst(2).reduce(1, *)
        guard target.shape == [n] + Array(input.shape.dropFirst(2)) else {
            throw KernelError("target \(shapeString(target.shape)) must be input \(shapeString(input.shape)) without C")
        }
        var logProb = input.doubles()
        if softmax {
            for b in 0..<n {
                for k in 0..<d {
                    var m = -Double.infinity
                    for ch in 0..<c { m = max(m, logProb[(b * c + ch) * d + k]) }
                    var s = 0.0
                    for ch in 0..<c { s += exp(logProb[(b * c + ch) * d + k] - m) }
                    let shift = m + log(s)
                    for ch in 0..<c { logProb[(b * c + ch) * d + k] -= shift }
                }
            }
        }
        let targets = target.ints()
        let weight = inputs.optional(2)?.doubles()
        if let weight, weight.count != c {
            throw KernelError("weight holds \(weight.count) values; input has \(c) classes")
        }
        // The reference weighs ignored targets 0 and others weight[t] (or 1); with no weight input and
        // NegativeLogLikelihoodLoss's ignore_index -1 (or no ignore_index in SoftmaxCrossEntropyLoss) it
        // takes a plain mean instead.
        let weighted = weight != nil || (softmax ? ignoreIndex != nil : ignoreIndex != -1)
        var loss = [Double](repeating: 0, count: n * d)
        var weightSum = 0.0
        for b in 0..<n {
            for k in 0..<d {
                let t = targets[b * d + k]
                if let ignoreIndex, t == ignoreIndex { continue }
                guard t >= 0 && t < c else {
                    throw KernelError("target \(t) is outside the \(c) classes (and is not ignore_index)")
                }
                let w = weight?[t] ?? 1
                loss[b * d + k] = -logProb[(b * c + t) * d + k] * (weighted ? w : 1)
                weightSum += w
            }
        }
        let value: Tensor
        switch reduction {
        case .none: value = Tensor.fromDoubles(loss, shape: target.shape, dtype: input.dtype)
        case .sum: value = Tensor.fromDoubles([loss.reduce(0, +)], shape: [], dtype: input.dtype)
        case .mean:
            let total = loss.reduce(0, +)
            let mean = weighted ? total / weightSum : total / Double(max(loss.count, 1))
            value = Tensor.fromDoubles([mean], shape: [], dtype: input.dtype)
        }
        if wantsLogProb { return [value, Tensor.fromDoubles(logProb, shape: input.shape, dtype: input.dtype)] }
        return [value]
    }
}
