import Foundation
import ONNX
import Tensor

let linearAttentionOperators: [Registration] = [
    Registration("LinearAttention", since: 27) { ctx in try LinearAttentionOperator(ctx) },
]

/// LinearAttention (27): a recurrent state S (B, Hkv, dk, dv) updated per time step (update_rule "linear": S += k v^T; "gated": S = exp(decay) * S first; "delta": v is
/// replaced by beta * (v - S^T k); "gated_delta": both), read as output = scale * q^T S, query heads sharing
/// key/value heads in groups. Inputs (B, T, H * D); outputs (B, T, Hq * dv) and the final state.
/// Computed in Double, as the reference computes in float32.
struct LinearAttentionOperator: Operator {
    let qHeads: Int
    let kvHeads: Int
    let scale: Double
    let gating: Bool
    let delta: Bool

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        guard let q = try node.int("q_num_heads") else { throw node.missing("q_num_heads") }
        guard let kv = try node.int("kv_num_heads") else { throw node.missing("kv_num_heads") }
        guard q > 0, kv > 0, q % kv == 0 else {
            throw node.invalid("q_num_heads", "\(q) must be a positive multiple of kv_num_heads \(kv)")
        }
        qHeads = q
        kvHeads = kv
        scale = Double(try node.float("scale", default: 0))
        switch try node.string("update_rule", default: "gated_delta") {
        case "linear": (gating, delta) = (false, false)
        case "gated": (gating, delta) = (true, false)
        case "delta": (gating, delta) = (false, true)
        case "gated_delta": (gating, delta) = (true, true)
        case let other: throw node.invalid("update_rule", "must be linear, gated, delta or gated_delta; got \"\(other)\"")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let qT = try inputs.required(0, "query"), kT = try inputs.required(1, "key"), vT = try inputs.required(2, "value")
        try requireNumeric(qT, "query")
        guard qT.rank == 3, kT.rank == 3, vT.rank == 3, qT.shape[2] % qHeads == 0, kT.shape[2] % kvHeads == 0,
              vT.shape[2] % kvHeads == 0 else {
            throw KernelError("query \(shapeString(qT.shape)), key \(shapeString(kT.shape)) and value "
                + "\(shapeString(vT.shape)) must be (B, T, heads * size)")
        }
        let (b, t) = (qT.shape[0], qT.shape[1])
        let dk = qT.shape[2] / qHeads, dv = vT.shape[2] / kvHeads, group = qHeads / kvHeads
        let decayT = inputs.optional(4), betaT = inputs.optional(5)
        if gating && decayT == nil { throw KernelError("this update_rule needs the decay input") }
        if delta && betaT == nil { throw KernelError("this update_rule needs the beta input") }
        guard kT.shape[0] == b, kT.shape[1] == t, vT.shape[0] == b, vT.shape[1] == t, kT.shape[2] == kvHeads * dk else {
            throw KernelError("key \(shapeString(kT.shape)) and value \(shapeString(vT.shape)) must be (\(b), \(t), heads * size) "
                + "like query \(shapeString(qT.shape)), key heads of size \(dk)")
        }
        // decay: one gate per (row, kv head) or per (row, kv head, key dim); beta: per row or per (row, kv head).
        if let decayT, !(decayT.count == b * t * kvHeads && decayT.shape.last == kvHeads)
            && !(decayT.count == b * t * kvHeads * dk && decayT.shape.last == kvHeads * dk) {
            throw KernelError("decay \(shapeString(decayT.shape)) must be (\(b), \(t), \(kvHeads)) or (\(b), \(t), \(kvHeads * dk))")
        }
        if let betaT, !(betaT.count == b * t && (betaT.shape.last ?? 1) == 1 && betaT.rank >= 2)
            && !(betaT.count == b * t * kvHeads && betaT.shape.last == kvHeads) {
            throw KernelError("beta \(shapeString(betaT.shape)) must be (\(b), \(t), 1) or (\(b), \(t), \(kvHeads))")
        }
        let q = qT.doubles(), k = kT.doubles(), v = vT.doubles()
        let decay = decayT?.doubles(), decayLast = decayT?.shape.last ?? 1
        let beta = betaT?.doubles(), betaLast = betaT?.shape.last ?? 1
        let past = inputs.optional(3)
        var state = past?.doubles() ?? [Double](repeating: 0, count: b * kvHeads * dk * dv)
        guard state.count == b * kvHeads * dk * dv else {
            throw KernelError("past_state \(shapeString(past!.shape)) must be [\(b),\(kvHeads),\(dk),\(dv)]")
        }
        let s = scale == 0 ? 1 / Double(dk).squareRoot() : scale
        var out = [Double](repeating: 0, count: b * t * qHeads * dv)
        var vt = [Double](repeating: 0, count: dv)
        for ti in 0..<t {
            for bi in 0..<b {
                let row = bi * t + ti
                for h in 0..<kvHeads {
                    let st = (bi * kvHeads + h) * dk * dv
                    let kBase = row * kvHeads * dk + h * dk
                    if let decay {
                        for d in 0..<dk {
                            let g = exp(decayLast == kvHeads ? decay[row * kvHeads + h] : decay[row * kvHeads * dk + h * dk + d])
                            for m in 0..<dv { state[st + d * dv + m] *= g }
                        }
                    }
                    for m in 0..<dv { vt[m] = v[row * kvHeads * dv + h * dv + m] }
                    if let beta {
                        let bt = beta[row * betaLast + (betaLast == 1 ? 0 : h)]
                        for m in 0..<dv {
                            var retrieved = 0.0
                            for d in 0..<dk { retrieved += state[st + d * dv + m] * k[kBase + d] }
                            vt[m] = bt * (vt[m] - retrieved)
                        }
                    }
                    for d in 0..<dk { for m in 0..<dv { state[st + d * dv + m] += k[kBase + d] * vt[m] } }
                }
                for h in 0..<qHeads {
                    let st = (bi * kvHeads + h / group) * dk * dv, qBase = row * qHeads * dk + h * dk
                    for m in 0..<dv {
                        var acc = 0.0
                        for d in 0..<dk { acc += q[qBase + d] * state[st + d * dv + m] }
                        out[row * qHeads * dv + h * dv + m] = s * acc
                    }
                }
            }
        }
        return [Tensor.fromDoubles(out, shape: [b, t, qHeads * dv], dtype: qT.dtype),
                Tensor.fromDoubles(state, shape: [b, kvHeads, dk, dv], dtype: past?.dtype ?? qT.dtype)]
    }
}
