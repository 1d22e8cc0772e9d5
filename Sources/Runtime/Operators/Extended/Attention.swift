import Foundation
import ONNX
import Tensor

let attentionOperators: [Registration] = [
    Registration("Attention", since: 23) { ctx in try AttentionOperator(ctx) },
]

// Attention (opsets 23-25): scaled dot-product attention with an optional mask, causal masking, sliding
// windows, KV cache (past_key/past_value or nonpad_kv_seqlen), grouped-query heads, softcap, and the
// qk_matmul_output modes. Follows the ONNX reference implementation; computes in Double, one (batch, head)
// at a time.

struct AttentionOperator: Operator {
    let scale: Double?
    let isCausal: Bool
    let qHeads: Int?
    let kvHeads: Int?
    let softcap: Double
    let qkOutputMode: Int
    let leftWindow: Int
    let rightWindow: Int

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        scale = try node.float("scale").map(Double.init)
        isCausal = try node.int("is_causal", default: 0) != 0
        qHeads = try node.int("q_num_heads")
        kvHeads = try node.int("kv_num_heads")
        softcap = Double(try node.float("softcap", default: 0))
        qkOutputMode = try node.int("qk_matmul_output_mode", default: 0)
        leftWindow = try node.int("left_window_size", default: -1)
        rightWindow = try node.int("right_window_size", default: -1)
        guard (0...3).contains(qkOutputMode) else {
            throw node.invalid("qk_matmul_output_mode", "must be 0, 1, 2 or 3; got \(qkOutputMode)")
        }
    }

    /// A (B, S, H * D) tensor as (B, H, S, D) values; a 4-D tensor as is.
    private func heads(_ t: Tensor, _ h: Int?, _ name: String) throws -> (values: [Double], shape: [Int]) {
        if t.rank == 4 { return (t.doubles(), t.shape) }
        guard t.rank == 3, let h, h > 0, t.shape[2] % h == 0 else {
            throw KernelError("\(name) \(shapeString(t.shape)) must be 4-D, or 3-D with q_num_heads/kv_num_heads dividing its last dimension")
        }
        let (b, s, d) = (t.shape[0], t.shape[1], t.shape[2] / h)
        let src = t.doubles()
        var out = [Double](repeating: 0, count: src.count)
        for bi in 0..<b { for si in 0..<s { for hi in 0..<h { for di in 0..<d {
            out[((bi * h + hi) * s + si) * d + di] = src[((bi * s + si) * h + hi) * d + di]
        } } } }
        return (out, [b, h, s, d])
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let qT = try inputs.required(0, "Q"), kT = try inputs.required(1, "K"), vT = try inputs.required(2, "V")
        try requireNumeric(qT, "Q")
        guard qT.rank == kT.rank, kT.rank == vT.rank else {
            throw KernelError("Q \(shapeString(qT.shape)), K \(shapeString(kT.shape)) and V \(shapeString(vT.shape)) must have one rank")
        }
        let (q, qs) = try heads(qT, qHeads, "Q")
        var (k, ks) = try heads(kT, kvHeads, "K")
        var (v, vs) = try heads(vT, kvHeads, "V")
        let pastKey = inputs.optional(4), pastValue = inputs.optional(5)
        let nonpad = inputs.optional(6)?.ints()
        var pastLength = 0
        if let pastKey, let pastValue {
            for (past, new, what) in [(pastKey, ks, "past_key"), (pastValue, vs, "past_value")]
            where past.rank != 4 || past.shape[0] != new[0] || past.shape[1] != new[1] || past.shape[3] != new[3] {
                throw KernelError("\(what) \(shapeString(past.shape)) must be (B, H, S_past, D) for \(shapeString(new))")
            }
            // present = concat(past, new) along the sequence axis.
            func concat(_ past: Tensor, _ new: [Double], _ shape: [Int]) -> ([Double], [Int]) {
                let p = past.doubles(), (b, h, s, d) = (shape[0], shape[1], shape[2], shape[3]), ps = past.shape[2]
                var out = [Double](repeating: 0, count: b * h * (ps + s) * d)
                for bh in 0..<(b * h) {
                    for t in 0..<ps { for di in 0..<d { out[(bh * (ps + s) + t) * d + di] = p[(bh * ps + t) * d + di] } }
                    for t in 0..<s { for di in 0..<d { out[(bh * (ps + s) + ps + t) * d + di] = new[(bh * s + t) * d + di] } }
                }
                return (out, [b, h, ps + s, d])
            }
            pastLength = pastKey.shape[2]
            (k, ks) = concat(pastKey, k, ks)
            (v, vs) = concat(pastValue, v, vs)
        }
        let (batch, hq, sq, dq) = (qs[0], qs[1], qs[2], qs[3])
        let (hk, skv, dv) = (ks[1], ks[2], vs[3])
        guard ks[0] == batch, vs[0] == batch, hk > 0, hq % hk == 0, vs[1] == hk, vs[2] == skv, ks[3] == dq else {
            throw KernelError("Q heads \(qs), K \(ks) and V \(vs) do not fit together")
        }
        let groups = hq / hk
        // NOTE: for bfloat16 inputs every intermediate is rounded to bfloat16, as the numpy reference
        // (ml_dtypes) computes: products accumulate in float32, softmax sums in bfloat16. float16 matches the
        // reference better computed wide and rounded once, so only bfloat16 takes this path.
        let lowPrecision = qT.dtype == .bfloat16
        let r: (Double) -> Double = lowPrecision ? { Double(BFloat16(Float($0)).floatValue) } : { $0 }
        let s = r((scale ?? 1 / Double(dq).squareRoot()).squareRoot())

        // Mask, broadcast (right-aligned) to (B, Hq, Sq, Skv); its last axis padded to Skv with "masked".
        let maskT = inputs.optional(3)
        let mask = maskT?.doubles()
        let maskIsBool = maskT?.dtype == .bool
        let maskShape = maskT.map { Array(repeating: 1, count: max(4 - $0.rank, 0)) + $0.shape } ?? []
        let maskStrides = Tensor.strides(of: maskShape)
        if maskT != nil {
            guard maskShape.count == 4, zip(maskShape.prefix(3), [batch, hq, sq]).allSatisfy({ $0 == 1 || $0 == $1 }) else {
                throw KernelError("attn_mask \(shapeString(maskT!.shape)) does not broadcast to (B, H, S_q, S_kv) = "
                    + "(\(batch), \(hq), \(sq), \(skv))")
            }
        }
        if let nonpad, pastKey == nil, nonpad.count < batch {
            throw KernelError("nonpad_kv_seqlen has \(nonpad.count) values for batch \(batch)")
        }
        func maskValue(_ b: Int, _ h: Int, _ i: Int, _ j: Int) -> Double {
            guard let mask else { return 0 }
            if j >= maskShape[3] { return -.infinity }
            let idx = [b, h, i, j].enumerated().reduce(0) { acc, e in
                acc + (maskShape[e.offset] == 1 ? 0 : e.element * maskStrides[e.offset])
            }
            return maskIsBool ? (mask[idx] != 0 ? 0 : -.infinity) : mask[idx]
        }
        func bias(_ b: Int, _ h: Int, _ i: Int, _ j: Int) -> Double {
            var x = maskValue(b, h, i, j)
            // Clamped: offsets past +-(S_q + S_kv) mask the same as any larger one, and cannot overflow.
            let limit = sq + skv + 1
            let offset = pastKey == nil && nonpad != nil ? min(max(nonpad![b], -limit), limit) - sq : pastLength
            if isCausal && j > i + offset { x = -.infinity }
            if leftWindow >= 0 || rightWindow >= 0 {
                let diff = i + offset - j
                if (leftWindow >= 0 && diff > leftWindow) || (rightWindow >= 0 && -diff > rightWindow) { x = -.infinity }
            }
            if let nonpad, j >= nonpad[b] { x = -.infinity }
            return x
        }

        var y = [Double](repeating: 0, count: batch * hq * sq * dv)
        var qkOut = [Double](repeating: 0, count: batch * hq * sq * skv)
        var row = [Double](repeating: 0, count: skv), biasRow = row
        for b in 0..<batch {
            for h in 0..<hq {
                let kvh = h / groups
                let qBase = (b * hq + h) * sq * dq, kBase = (b * hk + kvh) * skv * dq, vBase = (b * hk + kvh) * skv * dv
                for i in 0..<sq {
                    var maxBias = -Double.infinity
                    for j in 0..<skv {
                        var dot = 0.0
                        if lowPrecision {
                            var acc: Float = 0
                            for d in 0..<dq { acc += Float(r(q[qBase + i * dq + d] * s)) * Float(r(k[kBase + j * dq + d] * s)) }
                            dot = r(Double(acc))
                        } else {
                            for d in 0..<dq { dot += (q[qBase + i * dq + d] * s) * (k[kBase + j * dq + d] * s) }
                        }
                        if softcap > 0 { dot = r(r(tanh(r(dot / softcap))) * softcap) }
                        biasRow[j] = bias(b, h, i, j)
                        maxBias = max(maxBias, biasRow[j])
                        row[j] = r(dot + r(biasRow[j]))
                        let o = ((b * hq + h) * sq + i) * skv + j
                        if qkOutputMode <= 1 { qkOut[o] = dot } else if qkOutputMode == 2 { qkOut[o] = row[j] }
                    }
                    // Softmax with a safe maximum; a row whose bias masks everything gives zeros.
                    var m = row.max() ?? 0
                    if m == -.infinity { m = 0 }
                    var sum = 0.0
                    for j in 0..<skv { row[j] = r(exp(r(row[j] - m))); sum = r(sum + row[j]) }
                    if sum == 0 { sum = 1 }
                    let allMasked = maxBias == -.infinity
                    for j in 0..<skv {
                        row[j] = allMasked ? 0 : r(row[j] / sum)
                        if qkOutputMode == 3 { qkOut[((b * hq + h) * sq + i) * skv + j] = row[j] }
                    }
                    for d in 0..<dv {
                        var acc = 0.0
                        if lowPrecision {
                            var a: Float = 0
                            for j in 0..<skv { a += Float(row[j]) * Float(v[vBase + j * dv + d]) }
                            acc = Double(a)
                        } else {
                            for j in 0..<skv { acc += row[j] * v[vBase + j * dv + d] }
                        }
                        y[((b * hq + h) * sq + i) * dv + d] = acc
                    }
                }
            }
        }
        var yShape = [batch, hq, sq, dv]
        if qT.rank == 3 {
            // Back to (B, Sq, Hq * Dv).
            var t = [Double](repeating: 0, count: y.count)
            for b in 0..<batch { for h in 0..<hq { for i in 0..<sq { for d in 0..<dv {
                t[((b * sq + i) * hq + h) * dv + d] = y[((b * hq + h) * sq + i) * dv + d]
            } } } }
            y = t
            yShape = [batch, sq, hq * dv]
        }
        return [Tensor.fromDoubles(y, shape: yShape, dtype: qT.dtype),
                Tensor.fromDoubles(k, shape: ks, dtype: kT.dtype),
                Tensor.fromDoubles(v, shape: vs, dtype: vT.dtype),
                Tensor.fromDoubles(qkOut, shape: [batch, hq, sq, skv], dtype: qT.dtype)]
    }
}
