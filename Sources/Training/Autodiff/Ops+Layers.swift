import Tensor

// The differentiable operations of layers with parameters or windows. Each computes its output with a
// `Kernels` forward and records the matching backward kernels.

extension Tape {
    /// Y = conv(X, W) + B. X: [N, C, H, W], W: [OC, C, KH, KW], B: [OC] -> Y: [N, OC, OH, OW].
    public func conv2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry) -> Variable {
        let xv = x.value, wv = w.value, geometry = g.shared(weightShape: wv.shape)
        let y = conv2dForward(x: xv, weight: wv, bias: b?.value, geometry: geometry)
        return record(y, inputs: [x, w] + (b.map { [$0] } ?? [])) { dY in
            if x.requiresGrad { x.accumulate(conv2dBackwardData(dY: dY, weight: wv, geometry: geometry, inputShape: xv.shape), owned: true) }
            if w.requiresGrad { w.accumulate(conv2dBackwardWeight(dY: dY, x: xv, geometry: geometry, weightShape: wv.shape), owned: true) }
            if let b, b.requiresGrad { b.accumulate(conv2dBackwardBias(dY: dY), owned: true) }
        }
    }

    /// Y = convTranspose(X, W) + B. X: [N, C_in, H, W], W: [C_in, C_out, KH, KW] -> Y: [N, C_out, OH, OW],
    /// OH = (H - 1)*S - 2P + KH + OP.
    public func convTranspose2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvTransposeGeometry) -> Variable {
        let xv = x.value, wv = w.value, geometry = g.shared(weightShape: wv.shape)
        let y = convTranspose2dForward(x: xv, weight: wv, bias: b?.value, geometry: geometry,
                                       outputPadding: [g.outputPadding, g.outputPadding])
        return record(y, inputs: [x, w] + (b.map { [$0] } ?? [])) { dY in
            if x.requiresGrad { x.accumulate(convTranspose2dBackwardData(dY: dY, weight: wv, geometry: geometry, inputShape: xv.shape), owned: true) }
            if w.requiresGrad { w.accumulate(convTranspose2dBackwardWeight(dY: dY, x: xv, geometry: geometry, weightShape: wv.shape), owned: true) }
            if let b, b.requiresGrad { b.accumulate(conv2dBackwardBias(dY: dY), owned: true) }
        }
    }

    /// Y = X W^T + B. X: [N, IN], W: [OUT, IN], B: [OUT] -> Y: [N, OUT] (PyTorch's Linear; ONNX Gemm transB=1).
    public func linear(_ x: Variable, weight w: Variable, bias b: Variable?) -> Variable {
        let n = x.shape[0], fin = w.shape[1], fout = w.shape[0]
        precondition(x.shape.count == 2 && x.shape[1] == fin, "linear input \(x.shape), weight \(w.shape)")
        let y = Tensor(uninitialized: [n, fout])
        let xv = x.value, wv = w.value
        Kernels.gemm(transB: true, m: n, n: fout, k: fin, xv.floats.baseAddress!, wv.floats.baseAddress!, y.floats.baseAddress!)
        if let b {
            let yp = y.floats, bp = b.value.floats
            for i in 0..<n { for j in 0..<fout { yp[i * fout + j] += bp[j] } }
        }
        return record(y, inputs: [x, w] + (b.map { [$0] } ?? [])) { dY in
            let gp = dY.floats.baseAddress!
            if x.requiresGrad {
                let dX = Tensor(uninitialized: [n, fin])
                Kernels.gemm(m: n, n: fin, k: fout, gp, wv.floats.baseAddress!, dX.floats.baseAddress!)
                x.accumulate(dX, owned: true)
            }
            if w.requiresGrad {
                let dW = Tensor(uninitialized: [fout, fin])
                Kernels.gemm(transA: true, m: fout, n: fin, k: n, gp, xv.floats.baseAddress!, dW.floats.baseAddress!)
                w.accumulate(dW, owned: true)
            }
            if let b, b.requiresGrad { b.accumulate(conv2dBackwardBias(dY: dY), owned: true) }
        }
    }

    /// Max pooling (no padding). X: [N, C, H, W] -> [N, C, (H-K)/S+1, (W-K)/S+1].
    public func maxPool2d(_ x: Variable, kernel: Int, stride: Int) -> Variable {
        let (y, indices) = Kernels.maxPool(x.value, kernelSize: kernel, stride: stride)
        let shape = x.shape
        return record(y, inputs: [x]) { dY in
            x.accumulate(Kernels.maxPoolBackward(dY, indices: indices, inputShape: shape), owned: true)
        }
    }

    /// Average pooling (no padding).
    public func avgPool2d(_ x: Variable, kernel: Int, stride: Int) -> Variable {
        let y = Kernels.avgPool(x.value, kernelSize: kernel, stride: stride)
        let shape = x.shape
        return record(y, inputs: [x]) { dY in
            x.accumulate(Kernels.avgPoolBackward(dY, inputShape: shape, kernelSize: kernel, stride: stride), owned: true)
        }
    }

    /// Instance normalisation over H*W per (n, c); gamma/beta [C] or nil (not affine).
    public func instanceNorm(_ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float = 1e-5) -> Variable {
        let (y, mean, invStd) = instanceNormForward(x.value, scale: gamma?.value, bias: beta?.value, epsilon: epsilon)
        let xv = x.value, gv = gamma?.value
        var inputs = [x]
        if let gamma { inputs.append(gamma) }
        if let beta { inputs.append(beta) }
        return record(y, inputs: inputs) { dY in
            let r = instanceNormBackward(dY, x: xv, mean: mean, invStd: invStd, scale: gv)
            if x.requiresGrad { x.accumulate(r.dX, owned: true) }
            if let gamma, gamma.requiresGrad { gamma.accumulate(r.dScale, owned: true) }
            if let beta, beta.requiresGrad { beta.accumulate(r.dBias, owned: true) }
        }
    }

    /// Batch normalisation with batch statistics (training mode). Returns the output and the batch mean and
    /// population variance per channel for the caller's running statistics.
    public func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float = 1e-5) -> (Variable, mean: [Float], variance: [Float]) {
        let c = x.shape[1]
        let r = batchNormTrainingForward(x.value, scale: gamma.value, bias: beta.value, runningMean: Tensor(zeros: [c]),
                                         runningVariance: Tensor(zeros: [c]), epsilon: epsilon)
        let xv = x.value, gv = gamma.value
        let out = record(r.output, inputs: [x, gamma, beta]) { dY in
            let d = batchNormTrainingBackward(dY, x: xv, mean: r.mean, invStd: r.invStd, scale: gv)
            if x.requiresGrad { x.accumulate(d.dX, owned: true) }
            if gamma.requiresGrad { gamma.accumulate(d.dScale, owned: true) }
            if beta.requiresGrad { beta.accumulate(d.dBias, owned: true) }
        }
        return (out, r.mean.scalars(as: Float.self), r.variance.scalars(as: Float.self))
    }
}
