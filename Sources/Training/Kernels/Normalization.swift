import Dispatch
import Tensor

/// What the normalisation forward keeps for its backward: per group (instance: (n, c); batch: c) the mean
/// and 1/sqrt(var + eps).
struct NormStatistics {
    var mean: [Float]
    var invStd: [Float]
}

extension Kernels {
    /// Instance normalisation. X: [N, C, H, W] -> Y = gamma[c] * (X - mean[n,c]) / sqrt(var[n,c] + eps) + beta[c],
    /// biased variance over H*W. gamma/beta nil: 1 and 0.
    static func instanceNormForward(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (Tensor, NormStatistics) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1)
        let y = Tensor(uninitialized: x.shape)
        var mean = [Float](repeating: 0, count: n * c), inv = mean
        let xp = UnsafePointer(x.floats.baseAddress!), yp = y.floats.baseAddress!
        let gp = gamma.map { UnsafePointer($0.floats.baseAddress!) }, bp = beta.map { UnsafePointer($0.floats.baseAddress!) }
        mean.withUnsafeMutableBufferPointer { mp in
            inv.withUnsafeMutableBufferPointer { ip in
                let mp = mp.baseAddress!, ip = ip.baseAddress!
                Kernels.parallelFor(n * c) { p in
                    let src = xp + p * plane, dst = yp + p * plane
                    var s: Double = 0
                    for k in 0..<plane { s += Double(src[k]) }
                    let m = s / Double(plane)
                    var v: Double = 0
                    for k in 0..<plane { let d = Double(src[k]) - m; v += d * d }
                    let istd = Float(1 / (v / Double(plane) + Double(epsilon)).squareRoot())
                    let mf = Float(m)
                    let ch = p % c
                    let scale = (gp?[ch] ?? 1) * istd, shift = bp?[ch] ?? 0
                    for k in 0..<plane { dst[k] = (src[k] - mf) * scale + shift }
                    mp[p] = mf; ip[p] = istd
                }
            }
        }
        return (y, NormStatistics(mean: mean, invStd: inv))
    }

    /// Instance-norm backward. With xhat = (x - mean) * invStd and g = dY * gamma over one (n, c) plane of M:
    /// dX = invStd * (g - mean(g) - xhat * mean(g * xhat)); dGamma[c] = sum dY * xhat; dBeta[c] = sum dY.
    static func instanceNormBackward(_ dY: Tensor, _ x: Tensor, gamma: Tensor?, _ stats: NormStatistics)
        -> (dX: Tensor, dGamma: Tensor, dBeta: Tensor) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1)
        let dX = Tensor(uninitialized: x.shape)
        var dg = [Double](repeating: 0, count: n * c), db = dg
        let xp = UnsafePointer(x.floats.baseAddress!), gp = UnsafePointer(dY.floats.baseAddress!)
        let dp = dX.floats.baseAddress!
        let gammaP = gamma.map { UnsafePointer($0.floats.baseAddress!) }
        dg.withUnsafeMutableBufferPointer { dgp in
            db.withUnsafeMutableBufferPointer { dbp in
                let dgp = dgp.baseAddress!, dbp = dbp.baseAddress!
                Kernels.parallelFor(n * c) { p in
                    let m = stats.mean[p], istd = stats.invStd[p], gam = gammaP?[p % c] ?? 1
                    let xs = xp + p * plane, gs = gp + p * plane, ds = dp + p * plane
                    var sumG: Double = 0, sumGX: Double = 0
                    for k in 0..<plane {
                        let xhat = Double((xs[k] - m) * istd)
                        sumG += Double(gs[k]); sumGX += Double(gs[k]) * xhat
                    }
                    dgp[p] = sumGX; dbp[p] = sumG
                    let meanG = Float(sumG / Double(plane)) * gam, meanGX = Float(sumGX / Double(plane)) * gam
                    for k in 0..<plane {
                        let xhat = (xs[k] - m) * istd
                        ds[k] = istd * (gs[k] * gam - meanG - xhat * meanGX)
                    }
                }
            }
        }
        var dGamma = [Float](repeating: 0, count: c), dBeta = dGamma
        for p in 0..<(n * c) { dGamma[p % c] += Float(dg[p]); dBeta[p % c] += Float(db[p]) }
        return (dX, Tensor(shape: [c], floats: dGamma), Tensor(shape: [c], floats: dBeta))
    }

    /// Batch normalisation with batch statistics (training). Statistics per channel over N, H, W.
    /// Returns also the biased batch variance (for running-statistics updates).
    static func batchNormForward(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float) -> (Tensor, NormStatistics, [Float]) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1), m = Double(n * plane)
        let y = Tensor(uninitialized: x.shape)
        var mean = [Float](repeating: 0, count: c), inv = mean, variance = mean
        let xp = x.floats, yp = y.floats, gp = gamma.floats, bp = beta.floats
        for ch in 0..<c {
            var s: Double = 0
            for i in 0..<n { for k in 0..<plane { s += Double(xp[(i * c + ch) * plane + k]) } }
            let mu = s / m
            var v: Double = 0
            for i in 0..<n { for k in 0..<plane { let d = Double(xp[(i * c + ch) * plane + k]) - mu; v += d * d } }
            v /= m
            let istd = Float(1 / (v + Double(epsilon)).squareRoot())
            mean[ch] = Float(mu); inv[ch] = istd; variance[ch] = Float(v)
            let scale = gp[ch] * istd, shift = bp[ch], muf = Float(mu)
            for i in 0..<n { for k in 0..<plane { let o = (i * c + ch) * plane + k; yp[o] = (xp[o] - muf) * scale + shift } }
        }
        return (y, NormStatistics(mean: mean, invStd: inv), variance)
    }

    /// Batch normalisation with given (running) statistics: an affine map per channel.
    static func batchNormInference(_ x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: Float) -> Tensor {
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1)
        let y = Tensor(uninitialized: x.shape)
        let xp = x.floats, yp = y.floats
        for ch in 0..<c {
            let scale = gamma.floats[ch] / (variance.floats[ch] + epsilon).squareRoot()
            let shift = beta.floats[ch] - mean.floats[ch] * scale
            for i in 0..<n { for k in 0..<plane { let o = (i * c + ch) * plane + k; yp[o] = xp[o] * scale + shift } }
        }
        return y
    }

    /// Batch-norm backward (batch statistics): the instance-norm formula with the group taken over N, H, W.
    static func batchNormBackward(_ dY: Tensor, _ x: Tensor, gamma: Tensor, _ stats: NormStatistics)
        -> (dX: Tensor, dGamma: Tensor, dBeta: Tensor) {
        let n = x.shape[0], c = x.shape[1], plane = x.count / max(n * c, 1), m = Double(n * plane)
        let dX = Tensor(uninitialized: x.shape)
        var dGamma = [Float](repeating: 0, count: c), dBeta = dGamma
        let xp = x.floats, gp = dY.floats, dp = dX.floats
        for ch in 0..<c {
            let mu = stats.mean[ch], istd = stats.invStd[ch], gam = gamma.floats[ch]
            var sumG: Double = 0, sumGX: Double = 0
            for i in 0..<n { for k in 0..<plane {
                let o = (i * c + ch) * plane + k
                sumG += Double(gp[o]); sumGX += Double(gp[o]) * Double((xp[o] - mu) * istd)
            } }
            dGamma[ch] = Float(sumGX); dBeta[ch] = Float(sumG)
            let meanG = Float(sumG / m) * gam, meanGX = Float(sumGX / m) * gam
            for i in 0..<n { for k in 0..<plane {
                let o = (i * c + ch) * plane + k
                dp[o] = istd * (gp[o] * gam - meanG - (xp[o] - mu) * istd * meanGX)
            } }
        }
        return (dX, Tensor(shape: [c], floats: dGamma), Tensor(shape: [c], floats: dBeta))
    }
}
