import Foundation
import Tensor

extension Tape {
    /// Mean binary cross-entropy of `logits` against `targets` in [0, 1], from logits:
    /// l = max(x, 0) - x*z + log(1 + exp(-|x|)) (never exponentiates a positive number);
    /// dl/dx = (sigmoid(x) - z) / count. Returns a scalar [].
    public func bceWithLogits(_ logits: Variable, targets: Tensor) -> Variable {
        precondition(logits.value.count == targets.count, "BCE logits \(logits.shape), targets \(targets.shape)")
        let x = logits.value.floats, z = targets.floats, n = x.count
        var s: Double = 0
        for i in 0..<n { s += Double(max(x[i], 0) - x[i] * z[i] + Foundation.log1p(Foundation.exp(-abs(x[i])))) }
        let xv = logits.value
        return record(Tensor(shape: [], floats: [Float(s / Double(n))]), inputs: [logits]) { dY in
            let scale = dY.floats[0] / Float(n)
            // Borrow again: the closure must hold the tensors, not pointers into them.
            let xp = xv.floats, z = targets.floats
            let d = Tensor(uninitialized: xv.shape)
            let dp = d.floats
            for i in 0..<n { dp[i] = (Kernels.sigmoid(xp[i]) - z[i]) * scale }
            logits.accumulate(d, owned: true)
        }
    }

    /// Mean absolute difference |a - b| (b a constant target). dl/da = sign(a - b) / count, 0 where equal.
    /// `channelWeights` (one per channel of an [N, C, ...] tensor) weights each channel's differences.
    public func l1(_ a: Variable, target b: Tensor, channelWeights: [Float]? = nil) -> Variable {
        precondition(a.value.count == b.count, "L1 of \(a.shape) against \(b.shape)")
        let ap = a.value.floats, bp = b.floats, n = ap.count
        let channels = a.shape.count > 1 ? a.shape[1] : 1, plane = n / max(a.shape.first ?? 1, 1) / max(channels, 1)
        precondition(channelWeights == nil || channelWeights!.count == channels, "L1 channel weights \(channelWeights!) for \(a.shape)")
        let weight: (Int) -> Float = channelWeights.map { w in { i in w[(i / plane) % channels] } } ?? { _ in 1 }
        var s: Double = 0
        for i in 0..<n { s += Double(weight(i) * abs(ap[i] - bp[i])) }
        let av = a.value
        return record(Tensor(shape: [], floats: [Float(s / Double(n))]), inputs: [a]) { dY in
            let scale = dY.floats[0] / Float(n)
            let xp = av.floats, bp = b.floats
            let d = Tensor(uninitialized: av.shape)
            let dp = d.floats
            for i in 0..<n { let e = xp[i] - bp[i]; dp[i] = e > 0 ? scale * weight(i) : (e < 0 ? -scale * weight(i) : 0) }
            a.accumulate(d, owned: true)
        }
    }
}
