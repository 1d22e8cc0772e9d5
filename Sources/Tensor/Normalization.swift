import Foundation
import Numerics

// Normalization kernels on float32 tensors, forward and backward.
//
// Public API (used by the trainer and by Runtime/Operators/Normalization.swift):
//   instanceNormForward(_ x:, scale:, bias:, epsilon:, negativeSlope:) -> (output: Tensor, mean: Tensor, invStd: Tensor)
//       x (N, C, D...), scale/bias (C) or nil (no affine); mean, invStd (N, C); negativeSlope: a LeakyRelu
//       (0: Relu) applied in the same pass as the normalization (nil: none)
//   instanceNormBackward(_ dY:, x:, mean:, invStd:, scale:) -> (dX: Tensor, dScale: Tensor, dBias: Tensor)
//       dScale, dBias (C), summed over the batch (meaningless but harmless when the forward had no affine)
//   batchNormInference(_ x:, scale:, bias:, mean:, variance:, epsilon:) -> Tensor
//   batchNormTrainingForward(_ x:, scale:, bias:, runningMean:, runningVariance:, momentum:, epsilon:)
//       -> BatchNormTrainingResult (output, mean, variance, invStd, runningMean, runningVariance)
//       statistics over (N, D...) per channel, population variance; running = running * momentum
//       + batch * (1 - momentum) (ONNX's convention; PyTorch's momentum m is ONNX's 1 - m)
//   batchNormTrainingBackward(_ dY:, x:, mean:, invStd:, scale:) -> (dX: Tensor, dScale: Tensor, dBias: Tensor)
//   layerNormForward(_ x:, scale:, bias:, axis:, epsilon:) -> (output: Tensor, mean: Tensor, invStd: Tensor)
//       normalizes over x.shape[axis...]; scale/bias hold that many elements (or nil); mean, invStd have
//       shape x.shape[..<axis] + ones
//   groupNormForward(_ x:, groups:, scale:, bias:, epsilon:) -> (output: Tensor, mean: Tensor, invStd: Tensor)
//       x (N, C, D...), scale/bias per channel (C); mean, invStd (N, groups)
//   normalizeNaive(...)  the obvious reference the kernels are tested against
//   relaxedChunkedSum(_ n:, _ term:) -> Double   fast float sum (also used by runtime reductions)
//
// Statistics accumulate in Double: a 512x512 plane of float32 sums loses digits otherwise.

/// Sum of term(0..<n): relaxed (reassociable, vectorizable) float sums over chunks of 2048, the chunks added
/// in Double: as fast as BLAS, and a 512x512 plane keeps its digits.
@inlinable @inline(__always)
public func relaxedChunkedSum(_ n: Int, _ term: (Int) -> Float) -> Double {
    var total = 0.0
    var start = 0
    while start < n {
        let end = min(start + 2048, n)
        var s: Float = 0
        for i in start..<end { s = Relaxed.sum(s, term(i)) }
        total += Double(s)
        start = end
    }
    return total
}

/// Mean and 1/sqrt(variance + epsilon) of `n` floats (population variance, two passes).
@inline(__always)
private func meanAndInvStd(_ p: UnsafePointer<Float>, _ n: Int, _ epsilon: Float) -> (Float, Float) {
    guard n > 0 else { return (0, 1 / Float(epsilon).squareRoot()) }
    let mean = Float(relaxedChunkedSum(n) { p[$0] } / Double(n))
    let v = relaxedChunkedSum(n) { let d = p[$0] - mean; return d * d } / Double(n)
    return (mean, Float(1 / (v + Double(epsilon)).squareRoot()))
}

// MARK: Instance normalization

/// Instance normalization: each (n, c) plane of x (N, C, D...) is normalized by its own mean and variance,
/// then y = scale[c] * xhat + bias[c] (no affine when scale and bias are nil), then with `negativeSlope` a
/// LeakyRelu in the same pass over the plane (the runtime's fused norm + activation).
public func instanceNormForward(_ x: Tensor, scale: Tensor?, bias: Tensor?, epsilon: Float = 1e-5,
                                negativeSlope: Float? = nil) -> (output: Tensor, mean: Tensor, invStd: Tensor) {
    precondition(x.rank >= 2, "instance norm needs (N, C, ...), got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], m = x.shape.dropFirst(2).reduce(1, *)
    precondition(scale.map { $0.count == c } ?? true && bias.map { $0.count == c } ?? true,
                 "instance norm: scale/bias must hold \(c) elements")
    let y = Tensor(uninitialized: x.shape, dtype: .float32)
    let mean = Tensor(uninitialized: [n, c]), invStd = Tensor(uninitialized: [n, c])
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let mp = mean.pointer(as: Float.self), rp = invStd.pointer(as: Float.self)
    let sp = scale.map { UnsafePointer($0.pointer(as: Float.self)) }
    let bp = bias.map { UnsafePointer($0.pointer(as: Float.self)) }
    poolingForEachPlane(n * c, work: m * 3) { plane in
        let ch = plane % c
        let src = xp + plane * m, dst = yp + plane * m
        let (mu, r) = meanAndInvStd(src, m, epsilon)
        mp[plane] = mu
        rp[plane] = r
        let g = (sp?[ch] ?? 1) * r, b = (bp?[ch] ?? 0) - mu * g
        if let slope = negativeSlope {
            for i in 0..<m {
                let v = src[i] * g + b
                dst[i] = v >= 0 ? v : v * slope
            }
        } else {
            for i in 0..<m { dst[i] = src[i] * g + b }
        }
    }
    return (y, mean, invStd)
}

/// Gradient of instance normalization.
///
/// Per plane with M elements, xhat_i = (x_i - mu) * r, r = 1/sqrt(var + eps), y_i = g * xhat_i + b.
/// With gxhat_i = dY_i * g, and using d mu/d x_j = 1/M, d r/d x_j = -r^3 (x_j - mu) / M:
///
///     dX_i   = r / M * (M * gxhat_i - sum_j gxhat_j - xhat_i * sum_j gxhat_j * xhat_j)
///     dScale = sum over (n, plane) of dY_i * xhat_i          dBias = sum over (n, plane) of dY_i
///
/// x, dY (N, C, D...); mean, invStd (N, C) from the forward; scale (C) or nil (g = 1).
public func instanceNormBackward(_ dY: Tensor, x: Tensor, mean: Tensor, invStd: Tensor,
                                 scale: Tensor?) -> (dX: Tensor, dScale: Tensor, dBias: Tensor) {
    precondition(dY.shape == x.shape, "instance norm backward: dY \(dY.shape) vs x \(x.shape)")
    let n = x.shape[0], c = x.shape[1], m = x.shape.dropFirst(2).reduce(1, *)
    let dX = Tensor(uninitialized: x.shape, dtype: .float32)
    // Per-plane sums, reduced over the batch afterwards so planes run in parallel without sharing.
    var sumDY = [Double](repeating: 0, count: n * c), sumDYXhat = sumDY
    let xp = UnsafePointer(x.pointer(as: Float.self)), gp = UnsafePointer(dY.pointer(as: Float.self))
    let dp = dX.pointer(as: Float.self)
    let mp = UnsafePointer(mean.pointer(as: Float.self)), rp = UnsafePointer(invStd.pointer(as: Float.self))
    let sp = scale.map { UnsafePointer($0.pointer(as: Float.self)) }
    sumDY.withUnsafeMutableBufferPointer { sdy in
        sumDYXhat.withUnsafeMutableBufferPointer { sdx in
            let sdyp = sdy.baseAddress!, sdxp = sdx.baseAddress!
            poolingForEachPlane(n * c, work: m * 4) { plane in
                let src = xp + plane * m, g = gp + plane * m, dst = dp + plane * m
                let mu = mp[plane], r = rp[plane], w = sp?[plane % c] ?? 1
                let a = relaxedChunkedSum(m) { g[$0] }
                let b = relaxedChunkedSum(m) { g[$0] * ((src[$0] - mu) * r) }
                sdyp[plane] = a
                sdxp[plane] = b
                // dX_i = r*w * (dY_i - a/M - xhat_i * b/M)
                let k = r * w, am = Float(a / Double(max(m, 1))), bm = Float(b / Double(max(m, 1)))
                for i in 0..<m {
                    let xhat = (src[i] - mu) * r
                    dst[i] = k * (g[i] - am - xhat * bm)
                }
            }
        }
    }
    var dScale = [Float](repeating: 0, count: c), dBias = dScale
    for plane in 0..<(n * c) {
        dBias[plane % c] += Float(sumDY[plane])
        dScale[plane % c] += Float(sumDYXhat[plane])
    }
    return (dX, Tensor(shape: [c], floats: dScale), Tensor(shape: [c], floats: dBias))
}

// MARK: Batch normalization

/// Batch normalization with given statistics: y = scale * (x - mean) / sqrt(variance + eps) + bias,
/// per channel. x (N, C, D...); scale, bias, mean, variance (C).
public func batchNormInference(_ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                               epsilon: Float = 1e-5) -> Tensor {
    let n = x.shape[0], c = x.rank > 1 ? x.shape[1] : 1, m = x.shape.dropFirst(2).reduce(1, *)
    precondition([scale, bias, mean, variance].allSatisfy { $0.count == c },
                 "batch norm: scale, bias, mean and variance must hold \(c) elements")
    let s = scale.floats, b = bias.floats, mu = mean.floats, v = variance.floats
    var g = [Float](repeating: 0, count: c), h = g
    for ch in 0..<c {
        g[ch] = s[ch] / (v[ch] + epsilon).squareRoot()
        h[ch] = b[ch] - mu[ch] * g[ch]
    }
    return applyChannelAffine(x, n: n, c: c, m: m, g: g, h: h)
}

/// y[n, c, i] = x[n, c, i] * g[c] + h[c].
private func applyChannelAffine(_ x: Tensor, n: Int, c: Int, m: Int, g: [Float], h: [Float]) -> Tensor {
    let y = Tensor(uninitialized: x.shape, dtype: .float32)
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    g.withUnsafeBufferPointer { g in
        h.withUnsafeBufferPointer { h in
            let gp = g.baseAddress!, hp = h.baseAddress!
            poolingForEachPlane(n * c, work: m) { plane in
                let k = gp[plane % c], b = hp[plane % c]
                let src = xp + plane * m, dst = yp + plane * m
                for i in 0..<m { dst[i] = src[i] * k + b }
            }
        }
    }
    return y
}

/// What a training-mode batch normalization produces.
public struct BatchNormTrainingResult: @unchecked Sendable {
    public var output: Tensor
    /// Batch statistics per channel (C): mean, population variance, and 1/sqrt(variance + eps).
    public var mean: Tensor
    public var variance: Tensor
    public var invStd: Tensor
    /// running * momentum + batch * (1 - momentum), per channel (C).
    public var runningMean: Tensor
    public var runningVariance: Tensor
}

/// Batch normalization in training mode: normalizes with the batch's own per-channel statistics over
/// (N, D...) and updates the running statistics (ONNX momentum convention, population variance).
public func batchNormTrainingForward(_ x: Tensor, scale: Tensor, bias: Tensor, runningMean: Tensor,
                                     runningVariance: Tensor, momentum: Float = 0.9,
                                     epsilon: Float = 1e-5) -> BatchNormTrainingResult {
    let n = x.shape[0], c = x.rank > 1 ? x.shape[1] : 1, m = x.shape.dropFirst(2).reduce(1, *)
    let xp = x.floats
    var mean = [Float](repeating: 0, count: c), variance = mean, invStd = mean
    let total = Double(n * m)
    for ch in 0..<c {
        var s = 0.0
        for b in 0..<n { let base = (b * c + ch) * m; for i in 0..<m { s += Double(xp[base + i]) } }
        let mu = total > 0 ? s / total : 0
        var v = 0.0
        for b in 0..<n {
            let base = (b * c + ch) * m
            for i in 0..<m { let d = Double(xp[base + i]) - mu; v += d * d }
        }
        let variance64 = total > 0 ? v / total : 0
        mean[ch] = Float(mu)
        variance[ch] = Float(variance64)
        invStd[ch] = Float(1 / (variance64 + Double(epsilon)).squareRoot())
    }
    let s = scale.floats, bb = bias.floats, rm = runningMean.floats, rv = runningVariance.floats
    var g = [Float](repeating: 0, count: c), h = g, newMean = g, newVar = g
    for ch in 0..<c {
        g[ch] = s[ch] * invStd[ch]
        h[ch] = bb[ch] - mean[ch] * g[ch]
        newMean[ch] = rm[ch] * momentum + mean[ch] * (1 - momentum)
        newVar[ch] = rv[ch] * momentum + variance[ch] * (1 - momentum)
    }
    return BatchNormTrainingResult(
        output: applyChannelAffine(x, n: n, c: c, m: m, g: g, h: h),
        mean: Tensor(shape: [c], floats: mean), variance: Tensor(shape: [c], floats: variance),
        invStd: Tensor(shape: [c], floats: invStd),
        runningMean: Tensor(shape: [c], floats: newMean), runningVariance: Tensor(shape: [c], floats: newVar))
}

/// Gradient of training-mode batch normalization: the instance-norm formula with the sums taken over
/// (N, D...) per channel (M = N * prod(D)). mean, invStd (C) from the forward; scale (C).
public func batchNormTrainingBackward(_ dY: Tensor, x: Tensor, mean: Tensor, invStd: Tensor,
                                      scale: Tensor) -> (dX: Tensor, dScale: Tensor, dBias: Tensor) {
    let n = x.shape[0], c = x.rank > 1 ? x.shape[1] : 1, m = x.shape.dropFirst(2).reduce(1, *)
    let xp = x.floats, gp = dY.floats, mu = mean.floats, r = invStd.floats, w = scale.floats
    let dX = Tensor(uninitialized: x.shape, dtype: .float32)
    let dp = dX.floats
    var dScale = [Float](repeating: 0, count: c), dBias = dScale
    let total = Float(max(n * m, 1))
    for ch in 0..<c {
        var a = 0.0, b = 0.0
        for bi in 0..<n {
            let base = (bi * c + ch) * m
            for i in 0..<m {
                a += Double(gp[base + i])
                b += Double(gp[base + i]) * Double((xp[base + i] - mu[ch]) * r[ch])
            }
        }
        dBias[ch] = Float(a)
        dScale[ch] = Float(b)
        let k = r[ch] * w[ch], am = Float(a) / total, bm = Float(b) / total
        for bi in 0..<n {
            let base = (bi * c + ch) * m
            for i in 0..<m {
                let xhat = (xp[base + i] - mu[ch]) * r[ch]
                dp[base + i] = k * (gp[base + i] - am - xhat * bm)
            }
        }
    }
    return (dX, Tensor(shape: [c], floats: dScale), Tensor(shape: [c], floats: dBias))
}

// MARK: Layer and group normalization

/// Layer normalization over x.shape[axis...]: y = xhat * scale + bias with scale, bias holding
/// prod(x.shape[axis...]) elements (or nil). mean, invStd: x.shape[..<axis] followed by ones.
public func layerNormForward(_ x: Tensor, scale: Tensor?, bias: Tensor?, axis: Int,
                             epsilon: Float = 1e-5) -> (output: Tensor, mean: Tensor, invStd: Tensor) {
    precondition(axis >= 0 && axis <= x.rank, "layer norm axis \(axis) out of range for \(x.shape)")
    let rows = x.shape.prefix(axis).reduce(1, *), m = x.shape.dropFirst(axis).reduce(1, *)
    precondition(scale.map { $0.count == m } ?? true && bias.map { $0.count == m } ?? true,
                 "layer norm: scale/bias must hold \(m) elements")
    let statShape = Array(x.shape.prefix(axis)) + Array(repeating: 1, count: x.rank - axis)
    let y = Tensor(uninitialized: x.shape, dtype: .float32)
    let mean = Tensor(uninitialized: statShape), invStd = Tensor(uninitialized: statShape)
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let mp = mean.pointer(as: Float.self), rp = invStd.pointer(as: Float.self)
    let sp = scale.map { UnsafePointer($0.pointer(as: Float.self)) }
    let bp = bias.map { UnsafePointer($0.pointer(as: Float.self)) }
    poolingForEachPlane(rows, work: m * 3) { row in
        let src = xp + row * m, dst = yp + row * m
        let (mu, r) = meanAndInvStd(src, m, epsilon)
        mp[row] = mu
        rp[row] = r
        for i in 0..<m { dst[i] = (src[i] - mu) * r * (sp?[i] ?? 1) + (bp?[i] ?? 0) }
    }
    return (y, mean, invStd)
}

/// Group normalization: the C channels of x (N, C, D...) split into `groups` groups of C / groups
/// channels, each (n, group) normalized over its channels and positions, then y = scale[c] * xhat + bias[c].
/// mean, invStd: (N, groups).
public func groupNormForward(_ x: Tensor, groups: Int, scale: Tensor?, bias: Tensor?,
                             epsilon: Float = 1e-5) -> (output: Tensor, mean: Tensor, invStd: Tensor) {
    let n = x.shape[0], c = x.shape[1], m = x.shape.dropFirst(2).reduce(1, *)
    precondition(groups > 0 && c % groups == 0, "group norm: \(c) channels do not split into \(groups) groups")
    let perGroup = c / groups, groupSize = perGroup * m
    let y = Tensor(uninitialized: x.shape, dtype: .float32)
    let mean = Tensor(uninitialized: [n, groups]), invStd = Tensor(uninitialized: [n, groups])
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let mp = mean.pointer(as: Float.self), rp = invStd.pointer(as: Float.self)
    let sp = scale.map { UnsafePointer($0.pointer(as: Float.self)) }
    let bp = bias.map { UnsafePointer($0.pointer(as: Float.self)) }
    poolingForEachPlane(n * groups, work: groupSize * 3) { gi in
        let src = xp + gi * groupSize, dst = yp + gi * groupSize
        let (mu, r) = meanAndInvStd(src, groupSize, epsilon)
        mp[gi] = mu
        rp[gi] = r
        let firstChannel = (gi % groups) * perGroup
        for k in 0..<perGroup {
            let ch = firstChannel + k
            let g = (sp?[ch] ?? 1) * r, b = (bp?[ch] ?? 0) - mu * g
            for i in 0..<m { dst[k * m + i] = src[k * m + i] * g + b }
        }
    }
    return (y, mean, invStd)
}

/// Reference normalization for tests: x viewed as (outer, groupSize) rows normalized one by one in Double,
/// then y = xhat * affineScale[j] + affineBias[j] where j = (element index / affineStride) % affine count.
public func normalizeNaive(_ x: Tensor, groupSize: Int, epsilon: Float, affineScale: [Float]?,
                           affineBias: [Float]?, affineStride: Int) -> Tensor {
    let xs = x.scalars(as: Float.self)
    var y = [Float](repeating: 0, count: xs.count)
    for start in stride(from: 0, to: xs.count, by: max(groupSize, 1)) {
        let row = xs[start..<start + groupSize].map(Double.init)
        let mu = row.reduce(0, +) / Double(groupSize)
        let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(groupSize)
        for i in 0..<groupSize {
            let idx = start + i
            var value = (row[i] - mu) / (v + Double(epsilon)).squareRoot()
            if let s = affineScale { value *= Double(s[(idx / affineStride) % s.count]) }
            if let b = affineBias { value += Double(b[(idx / affineStride) % b.count]) }
            y[idx] = Float(value)
        }
    }
    return Tensor(shape: x.shape, floats: y)
}
