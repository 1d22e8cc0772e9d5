import Foundation
import Tensor

// The differentiable pieces of a*b* classification (GeneratorColour.abClasses): the annealed-mean decoding
// and the rebalanced soft cross-entropy, both over the channel axis of [N, Q, H, W] logits.

extension Tape {
    /// Annealed mean: at each pixel p = softmax(z / T) over the Q channels, output channel k = sum_c p_c W[k, c]
    /// ([N, Q, H, W] -> [N, K, H, W]; W [K, Q, 1, 1] constant, as `ABBins.decodingWeight`).
    /// dz_c = p_c (g_c - sum_c' p_c' g_c') / T with g_c = sum_k dY_k W[k, c].
    public func annealedMean(_ logits: Variable, weight: Tensor, temperature: Float) -> Variable {
        let s = logits.shape, n = s[0], q = s[1], plane = s[2] * s[3], k = weight.shape[0]
        precondition(weight.shape == [k, q, 1, 1], "decoding weight \(weight.shape) for \(q) classes")
        let probabilities = Kernels.channelSoftmax(logits.value, temperature: temperature)
        let y = Tensor(zeros: [n, k, s[2], s[3]])
        let pp = probabilities.floats, wp = weight.floats, yp = y.floats
        for b in 0..<n {
            for j in 0..<k {
                let out = yp.baseAddress! + (b * k + j) * plane
                for c in 0..<q {
                    let w = wp[j * q + c], p = pp.baseAddress! + (b * q + c) * plane
                    for i in 0..<plane { out[i] += w * p[i] }
                }
            }
        }
        return record(y, inputs: [logits]) { dY in
            let gp = dY.floats, pp = probabilities.floats, wp = weight.floats
            let d = Tensor(zeros: s)
            let dp = d.floats
            var g = [Float](repeating: 0, count: q)
            for b in 0..<n {
                for i in 0..<plane {
                    var mean: Float = 0
                    for c in 0..<q {
                        var v: Float = 0
                        for j in 0..<k { v += gp[(b * k + j) * plane + i] * wp[j * q + c] }
                        g[c] = v
                        mean += pp[(b * q + c) * plane + i] * v
                    }
                    for c in 0..<q {
                        let at = (b * q + c) * plane + i
                        dp[at] = pp[at] * (g[c] - mean) / temperature
                    }
                }
            }
            logits.accumulate(d, owned: true)
        }
    }

    /// Rebalanced cross-entropy of [N, Q, H, W] logits against soft targets of the same shape (each pixel's
    /// targets summing to 1 as `ABBins.softTargets` makes them), each pixel weighted by `pixelWeights`
    /// [N, 1, H, W]: the mean over pixels of w * sum_c t_c (logsumexp(z) - z_c).
    /// dz_c = w (softmax_c sum_c' t_c' - t_c) / pixels. Returns a scalar [].
    public func softCrossEntropy(_ logits: Variable, targets: Tensor, pixelWeights: Tensor) -> Variable {
        let s = logits.shape, n = s[0], q = s[1], plane = s[2] * s[3], pixels = n * plane
        precondition(targets.shape == s && pixelWeights.count == pixels, "cross-entropy of \(s) against \(targets.shape), weights \(pixelWeights.shape)")
        let probabilities = Kernels.channelSoftmax(logits.value, temperature: 1)
        let zp = logits.value.floats, tp = targets.floats, wp = pixelWeights.floats
        var total: Double = 0
        for b in 0..<n {
            for i in 0..<plane {
                var top = -Float.infinity
                for c in 0..<q { top = max(top, zp[(b * q + c) * plane + i]) }
                var sum: Double = 0
                for c in 0..<q { sum += Foundation.exp(Double(zp[(b * q + c) * plane + i] - top)) }
                let logSum = Double(top) + Foundation.log(sum)
                var pixel: Double = 0
                for c in 0..<q {
                    let at = (b * q + c) * plane + i
                    if tp[at] != 0 { pixel += Double(tp[at]) * (logSum - Double(zp[at])) }
                }
                total += Double(wp[b * plane + i]) * pixel
            }
        }
        return record(Tensor(shape: [], floats: [Float(total / Double(pixels))]), inputs: [logits]) { dY in
            let scale = dY.floats[0] / Float(pixels)
            let pp = probabilities.floats, tp = targets.floats, wp = pixelWeights.floats
            let d = Tensor(uninitialized: s)
            let dp = d.floats
            for b in 0..<n {
                for i in 0..<plane {
                    var mass: Float = 0
                    for c in 0..<q { mass += tp[(b * q + c) * plane + i] }
                    let w = scale * wp[b * plane + i]
                    for c in 0..<q {
                        let at = (b * q + c) * plane + i
                        dp[at] = w * (pp[at] * mass - tp[at])
                    }
                }
            }
            logits.accumulate(d, owned: true)
        }
    }
}

extension Kernels {
    /// softmax(z / T) over the channel axis of [N, C, H, W], per pixel (max subtracted first).
    static func channelSoftmax(_ z: Tensor, temperature: Float) -> Tensor {
        let s = z.shape
        let y = Tensor(uninitialized: s)
        softmaxAlongMiddleAxis(z.floats.baseAddress!, y.floats.baseAddress!, outer: s[0], n: s[1],
                               inner: s[2] * s[3], temperature: temperature)
        return y
    }
}
