import Testing
@testable import Tensor

/// The elements of channel `channel` across the batch of an (N, C, plane) array.
func channelValues(_ v: [Float], batch: Int, channels: Int, plane: Int, channel: Int) -> [Float] {
    var out: [Float] = []
    for n in 0..<batch {
        let start = (n * channels + channel) * plane
        out += v[start..<start + plane]
    }
    return out
}

@Test func instanceNormHandComputed() {
    // One plane [1, 2, 3, 4]: mean 2.5, variance 1.25.
    let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    let (y, mean, invStd) = instanceNormForward(x, scale: Tensor(shape: [1], floats: [2]),
                                                bias: Tensor(shape: [1], floats: [1]), epsilon: 0)
    let r = 1 / Float(1.25).squareRoot()
    #expect(mean.scalars(as: Float.self) == [2.5])
    #expect(abs(invStd.scalars(as: Float.self)[0] - r) < 1e-6)
    let want: [Float] = [1, 2, 3, 4].map { 2 * ($0 - 2.5) * r + 1 }
    #expect(zip(y.scalars(as: Float.self), want).allSatisfy { abs($0 - $1) < 1e-5 })
}

@Test(arguments: [true, false])
func instanceNormMatchesNaive(affine: Bool) {
    let shape = [2, 3, 3, 5]
    let x = Tensor(shape: shape, floats: poolingTestValues(shape.reduce(1, *), seed: 2))
    let s: [Float] = [0.5, -1, 2], b: [Float] = [0.1, 0.2, -0.3]
    let (y, _, _) = instanceNormForward(x, scale: affine ? Tensor(shape: [3], floats: s) : nil,
                                        bias: affine ? Tensor(shape: [3], floats: b) : nil, epsilon: 1e-5)
    let ref = normalizeNaive(x, groupSize: 15, epsilon: 1e-5, affineScale: affine ? s : nil,
                             affineBias: affine ? b : nil, affineStride: 15)
    #expect(maxAbsDifference(y, ref) < 1e-5)
}

@Test(arguments: [true, false])
func instanceNormGradientMatchesFiniteDifferences(affine: Bool) {
    let shape = [2, 2, 3, 3]
    let x = Tensor(shape: shape, floats: poolingTestValues(shape.reduce(1, *), seed: 4))
    let scale: Tensor? = affine ? Tensor(shape: [2], floats: [1.5, -0.7]) : nil
    let bias: Tensor? = affine ? Tensor(shape: [2], floats: [0.3, 0.1]) : nil
    let (y, mean, invStd) = instanceNormForward(x, scale: scale, bias: bias, epsilon: 1e-5)
    let w = poolingTestValues(y.count, seed: 9)
    let dYT = Tensor(shape: shape, floats: w)
    let (dX, dScale, dBias) = instanceNormBackward(dYT, x: x, mean: mean, invStd: invStd, scale: scale)
    let err = finiteDifferenceCheck(x, weights: w, step: 1e-3,
                                    forward: { instanceNormForward($0, scale: scale, bias: bias, epsilon: 1e-5).output },
                                    backward: dX)
    #expect(err < 2e-3)
    if affine {
        // dScale: finite differences in the scale.
        for c in 0..<2 {
            func loss(_ s: [Float]) -> Double {
                let out = instanceNormForward(x, scale: Tensor(shape: [2], floats: s), bias: bias, epsilon: 1e-5).output
                return zip(out.scalars(as: Float.self), w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            var p: [Float] = [1.5, -0.7], m = p
            p[c] += 1e-3
            m[c] -= 1e-3
            let numeric = Float((loss(p) - loss(m)) / 2e-3)
            #expect(abs(numeric - dScale.scalars(as: Float.self)[c]) < 2e-3)
            let wantBias = channelValues(w, batch: 2, channels: 2, plane: 9, channel: c).reduce(0, +)
            #expect(abs(dBias.scalars(as: Float.self)[c] - wantBias) < 1e-4)
        }
    }
}

@Test func batchNormInferenceHandComputed() {
    let x = Tensor(shape: [1, 2, 1, 2], floats: [1, 2, 3, 4])
    let y = batchNormInference(x, scale: Tensor(shape: [2], floats: [1, 2]), bias: Tensor(shape: [2], floats: [0, 1]),
                               mean: Tensor(shape: [2], floats: [1, 3]), variance: Tensor(shape: [2], floats: [4, 1]),
                               epsilon: 0)
    #expect(y.scalars(as: Float.self) == [0, 0.5, 1, 3])
}

@Test func batchNormTrainingStatisticsAndGradient() {
    let shape = [3, 2, 2, 2]
    let x = Tensor(shape: shape, floats: poolingTestValues(shape.reduce(1, *), seed: 21))
    let scale = Tensor(shape: [2], floats: [1.2, -0.4]), bias = Tensor(shape: [2], floats: [0.1, 0.5])
    let rm = Tensor(shape: [2], floats: [0, 1]), rv = Tensor(shape: [2], floats: [1, 2])
    let r = batchNormTrainingForward(x, scale: scale, bias: bias, runningMean: rm, runningVariance: rv,
                                     momentum: 0.9, epsilon: 1e-5)
    // Channel statistics by hand.
    let xs = x.scalars(as: Float.self)
    for c in 0..<2 {
        let vals: [Double] = channelValues(xs, batch: 3, channels: 2, plane: 4, channel: c).map(Double.init)
        let mu: Double = vals.reduce(0, +) / 12
        var v = 0.0
        for value in vals { v += (value - mu) * (value - mu) }
        v /= 12
        #expect(abs(Double(r.mean.scalars(as: Float.self)[c]) - mu) < 1e-6)
        #expect(abs(Double(r.variance.scalars(as: Float.self)[c]) - v) < 1e-6)
        let wantRM = Double(rm.scalars(as: Float.self)[c]) * 0.9 + mu * 0.1
        #expect(abs(Double(r.runningMean.scalars(as: Float.self)[c]) - wantRM) < 1e-6)
        let wantRV = Double(rv.scalars(as: Float.self)[c]) * 0.9 + v * 0.1
        #expect(abs(Double(r.runningVariance.scalars(as: Float.self)[c]) - wantRV) < 1e-6)
    }
    let w = poolingTestValues(x.count, seed: 8)
    let (dX, _, dBias) = batchNormTrainingBackward(Tensor(shape: shape, floats: w), x: x, mean: r.mean,
                                                   invStd: r.invStd, scale: scale)
    let err = finiteDifferenceCheck(x, weights: w, step: 1e-3, forward: {
        batchNormTrainingForward($0, scale: scale, bias: bias, runningMean: rm, runningVariance: rv).output
    }, backward: dX)
    #expect(err < 2e-3)
    let wantBias0 = channelValues(w, batch: 3, channels: 2, plane: 4, channel: 0).reduce(0, +)
    #expect(abs(dBias.scalars(as: Float.self)[0] - wantBias0) < 1e-4)
}

@Test func layerAndGroupNormMatchNaive() {
    let shape = [2, 4, 3]
    let x = Tensor(shape: shape, floats: poolingTestValues(24, seed: 13))
    let s = poolingTestValues(12, seed: 14), b = poolingTestValues(12, seed: 15)
    let (y, mean, _) = layerNormForward(x, scale: Tensor(shape: [4, 3], floats: s), bias: Tensor(shape: [4, 3], floats: b),
                                        axis: 1, epsilon: 1e-5)
    #expect(mean.shape == [2, 1, 1])
    #expect(maxAbsDifference(y, normalizeNaive(x, groupSize: 12, epsilon: 1e-5, affineScale: s, affineBias: b,
                                               affineStride: 1)) < 1e-5)
    let gs: [Float] = [1, 2, 3, 4], gb: [Float] = [0, -1, 1, 0.5]
    let (gy, gmean, _) = groupNormForward(x, groups: 2, scale: Tensor(shape: [4], floats: gs),
                                          bias: Tensor(shape: [4], floats: gb), epsilon: 1e-5)
    #expect(gmean.shape == [2, 2])
    #expect(maxAbsDifference(gy, normalizeNaive(x, groupSize: 6, epsilon: 1e-5, affineScale: gs, affineBias: gb,
                                                affineStride: 3)) < 1e-5)
}
