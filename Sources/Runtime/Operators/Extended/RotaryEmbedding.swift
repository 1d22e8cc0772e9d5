import Foundation
import ONNX
import Tensor

let rotaryEmbeddingOperators: [Registration] = [
    Registration("RotaryEmbedding", since: 23) { ctx in try RotaryEmbeddingOperator(ctx) },
]

/// RotaryEmbedding (23): rotates the first rotary_embedding_dim features of each head by the cached (cos, sin) of its position: pairs are (x[i], x[i + half]), or
/// (x[2i], x[2i + 1]) when interleaved. Input (B, H, S, D), or (B, S, H * D) with num_heads; caches
/// (B, S, half), or (max position, half) indexed by position_ids (B, S).
struct RotaryEmbeddingOperator: Operator {
    let interleaved: Bool
    let rotaryDim: Int
    let numHeads: Int

    init(_ ctx: OperatorContext) throws {
        interleaved = try ctx.node.int("interleaved", default: 0) != 0
        rotaryDim = try ctx.node.int("rotary_embedding_dim", default: 0)
        numHeads = try ctx.node.int("num_heads", default: 0)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        let cosT = try inputs.required(1, "cos_cache"), sinT = try inputs.required(2, "sin_cache")
        try requireNumeric(input, "X")
        let positions = inputs.optional(3)?.ints()
        let (b, h, s, d): (Int, Int, Int, Int)
        if input.rank == 4 {
            (b, h, s, d) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        } else if input.rank == 3, numHeads > 0, input.shape[2] % numHeads == 0 {
            (b, h, s, d) = (input.shape[0], numHeads, input.shape[1], input.shape[2] / numHeads)
        } else {
            throw KernelError("X \(shapeString(input.shape)) must be (B, H, S, D), or (B, S, H * D) with num_heads set")
        }
        if let positions, positions.count != b * s {
            throw KernelError("position_ids has \(positions.count) values for batch \(b) x sequence \(s)")
        }
        let rot = rotaryDim == 0 ? d : rotaryDim
        let half = rot / 2
        guard rot >= 0, rot <= d, cosT.shape.last == half, sinT.shape == cosT.shape else {
            throw KernelError("caches \(shapeString(cosT.shape)) / \(shapeString(sinT.shape)) must end in rotary_embedding_dim / 2 = \(half)")
        }
        let x = input.doubles(), cosv = cosT.doubles(), sinv = sinT.doubles()
        var y = x
        for bi in 0..<b {
            for si in 0..<s {
                // The cache row of this (batch, position).
                let row = positions.map { $0[bi * s + si] } ?? (bi * s + si)
                guard row >= 0, half == 0 || row < cosv.count / half else {
                    throw KernelError("position \(row) is outside the caches \(shapeString(cosT.shape))")
                }
                for hi in 0..<h {
                    let base = input.rank == 4 ? ((bi * h + hi) * s + si) * d : ((bi * s + si) * h + hi) * d
                    for i in 0..<half {
                        let (p, q) = interleaved ? (base + 2 * i, base + 2 * i + 1) : (base + i, base + i + half)
                        let c = cosv[row * half + i], sn = sinv[row * half + i]
                        y[p] = c * x[p] - sn * x[q]
                        y[q] = sn * x[p] + c * x[q]
                    }
                }
            }
        }
        return [Tensor.fromDoubles(y, shape: input.shape, dtype: input.dtype)]
    }
}
