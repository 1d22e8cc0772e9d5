import Tensor

// Activations and shape operations.

extension Tape {
    public func leakyReLU(_ x: Variable, negativeSlope: Float = 0.2) -> Variable {
        let xv = x.value
        return record(leakyReluForward(xv, negativeSlope: negativeSlope), inputs: [x]) { dY in
            x.accumulate(leakyReluBackward(dY, x: xv, negativeSlope: negativeSlope), owned: true)
        }
    }

    public func relu(_ x: Variable) -> Variable {
        let xv = x.value
        return record(reluForward(xv), inputs: [x]) { dY in x.accumulate(reluBackward(dY, x: xv), owned: true) }
    }

    public func tanh(_ x: Variable) -> Variable {
        let y = tanhForward(x.value)
        return record(y, inputs: [x]) { dY in x.accumulate(tanhBackward(dY, y: y), owned: true) }
    }

    public func sigmoid(_ x: Variable) -> Variable {
        let y = sigmoidForward(x.value)
        return record(y, inputs: [x]) { dY in x.accumulate(sigmoidBackward(dY, y: y), owned: true) }
    }

    /// Concatenation along the channel axis: [N, C_i, H, W]... -> [N, sum C_i, H, W].
    public func concatChannels(_ xs: [Variable]) -> Variable {
        let n = xs[0].shape[0], plane = xs[0].value.count / max(n * xs[0].shape[1], 1)
        let channels = xs.map { $0.shape[1] }, total = channels.reduce(0, +)
        for x in xs { precondition(x.shape[0] == n && x.value.count == n * x.shape[1] * plane, "concat of \(xs.map(\.shape))") }
        let y = concatenated(xs.map(\.value), axis: 1)
        return record(y, inputs: xs) { dY in
            let gp = dY.floats.baseAddress!
            var offset = 0
            for (x, c) in zip(xs, channels) {
                if x.requiresGrad {
                    let dX = Tensor(uninitialized: x.shape)
                    let dp = dX.floats.baseAddress!
                    for i in 0..<n { (dp + i * c * plane).update(from: gp + (i * total + offset) * plane, count: c * plane) }
                    x.accumulate(dX, owned: true)
                }
                offset += c
            }
        }
    }

    /// [N, ...] -> [N, product of the rest].
    public func flatten(_ x: Variable) -> Variable {
        let shape = x.shape
        return record(x.value.reshaped([shape[0], x.value.count / max(shape[0], 1)]), inputs: [x]) { dY in
            x.accumulate(dY.reshaped(shape), owned: false)
        }
    }

    /// Y = X + C with a constant C of the same shape (instance noise): the gradient passes through.
    public func addConstant(_ x: Variable, _ c: Tensor) -> Variable {
        precondition(c.count == x.value.count)
        let y = Tensor(uninitialized: x.shape)
        let xp = x.value.floats, cp = c.floats, yp = y.floats
        for i in 0..<yp.count { yp[i] = xp[i] + cp[i] }
        return record(y, inputs: [x]) { dY in x.accumulate(dY, owned: false) }
    }

    /// Y = X * M with a constant mask M of the same shape (dropout): dX = dY * M.
    public func multiplyConstant(_ x: Variable, _ m: Tensor) -> Variable {
        precondition(m.count == x.value.count)
        let y = Tensor(uninitialized: x.shape)
        let xp = x.value.floats, mp = m.floats, yp = y.floats
        for i in 0..<yp.count { yp[i] = xp[i] * mp[i] }
        return record(y, inputs: [x]) { dY in
            let d = Tensor(uninitialized: dY.shape)
            let gp = dY.floats, dp = d.floats, mp = m.floats
            for i in 0..<dp.count { dp[i] = gp[i] * mp[i] }
            x.accumulate(d, owned: true)
        }
    }

    /// Weighted sum of scalar variables (loss terms): sum_i w_i * x_i -> scalar [].
    public func weightedSum(_ terms: [(Variable, Float)]) -> Variable {
        var s: Float = 0
        for (x, w) in terms { s += w * x.value.floats[0] }
        return record(Tensor(shape: [], floats: [s]), inputs: terms.map(\.0)) { dY in
            let g = dY.floats[0]
            for (x, w) in terms where x.requiresGrad { x.accumulate(Tensor(shape: x.shape, floats: [g * w]), owned: true) }
        }
    }
}
