import Tensor

// The differentiable operations of layers with parameters or windows. Each computes its output with a
// `Kernels` forward and records the matching backward kernels.

extension Tape {
    /// Y = conv(X, W) + B. X: [N, C, H, W], W: [OC, C, KH, KW], B: [OC] -> Y: [N, OC, OH, OW].
    public func conv2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvGeometry) -> Variable {
        let y = Kernels.conv2dForward(x.value, w.value, b?.value, g)
        let xv = x.value, wv = w.value
        return record(y, inputs: [x, w] + (b.map { [$0] } ?? [])) { dY in
            if x.requiresGrad { x.accumulate(Kernels.conv2dBackwardData(dY, wv, inputShape: xv.shape, g), owned: true) }
            if w.requiresGrad { w.accumulate(Kernels.conv2dBackwardWeight(dY, xv, weightShape: wv.shape, g), owned: true) }
            if let b, b.requiresGrad { b.accumulate(Kernels.biasBackward(dY), owned: true) }
        }
    }

    /// Y = convTranspose(X, W) + B. X: [N, C_in, H, W], W: [C_in, C_out, KH, KW] -> Y: [N, C_out, OH, OW],
    /// OH = (H - 1)*S - 2P + KH + OP.
    public func convTranspose2d(_ x: Variable, weight w: Variable, bias b: Variable?, geometry g: ConvTransposeGeometry) -> Variable {
        let y = Kernels.convTranspose2dForward(x.value, w.value, b?.value, g)
        let xv = x.value, wv = w.value
        return record(y, inputs: [x, w] + (b.map { [$0] } ?? [])) { dY in
            if x.requiresGrad { x.accumulate(Kernels.convTranspose2dBackwardData(dY, wv, inputShape: xv.shape, g), owned: true) }
            if w.requiresGrad { w.accumulate(Kernels.convTranspose2dBackwardWeight(dY, xv, weightShape: wv.shape, g), owned: true) }
            if let b, b.requiresGrad { b.accumulate(Kernels.biasBackward(dY), owned: true) }
        }
    }

    /// Y = X W^T + B. X: [N, IN], W: [OUT, IN], B: [OUT] -> Y: [N, OUT] (PyTorch's Linear; ONNX Gemm transB=1).
    public func linear(_ x: Variable, weight w: Variable, bias b: Variable?) -> Variable {
        let n = x.shape[0], fin = w.shape[1], fout = w.shape[0]
        precondition(x.shape.count == 2 && x.shape[1] == fin, "linear input \(x.shape), weight \(w.shape)")
        let y = Tensor(uninitialized: [n, fout])
        let xv = x.value, wv = w.value
        Kernels.gemm(transB: true, m: n, n: fout, k: fin, xv.floats.baseAddress!, wv.floats.baseAddress!, y.floats.baseAddress!)
        if let b { for i in 0..<n { Kernels.addBias(y.floats.baseAddress! + i * fout, b.value, plane: 1) } }
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
            if let b, b.requiresGrad { b.accumulate(Kernels.biasBackward(dY.reshaped([n, fout, 1])), owned: true) }
        }
    }

    /// Max pooling (no padding). X: [N, C, H, W] -> [N, C, (H-K)/S+1, (W-K)/S+1].
    public func maxPool2d(_ x: Variable, kernel: Int, stride: Int) -> Variable {
        let (y, indices) = Kernels.maxPool2dForward(x.value, kernel: kernel, stride: stride)
        let shape = x.shape
        return record(y, inputs: [x]) { dY in
            x.accumulate(Kernels.maxPool2dBackward(dY, indices: indices, inputShape: shape), owned: true)
        }
    }

    /// Average pooling (no padding).
    public func avgPool2d(_ x: Variable, kernel: Int, stride: Int) -> Variable {
        let y = Kernels.avgPool2dForward(x.value, kernel: kernel, stride: stride)
        let shape = x.shape
        return record(y, inputs: [x]) { dY in
            x.accumulate(Kernels.avgPool2dBackward(dY, inputShape: shape, kernel: kernel, stride: stride), owned: true)
        }
    }

    /// Instance normalisation over H*W per (n, c); gamma/beta [C] or nil (not affine).
    public func instanceNorm(_ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float = 1e-5) -> Variable {
        let (y, stats) = Kernels.instanceNormForward(x.value, gamma: gamma?.value, beta: beta?.value, epsilon: epsilon)
        let xv = x.value, gv = gamma?.value
        var inputs = [x]
        if let gamma { inputs.append(gamma) }
        if let beta { inputs.append(beta) }
        return record(y, inputs: inputs) { dY in
            let r = Kernels.instanceNormBackward(dY, xv, gamma: gv, stats)
            if x.requiresGrad { x.accumulate(r.dX, owned: true) }
            if let gamma, gamma.requiresGrad { gamma.accumulate(r.dGamma, owned: true) }
            if let beta, beta.requiresGrad { beta.accumulate(r.dBeta, owned: true) }
        }
    }

    /// Batch normalisation with batch statistics (training mode). Returns the output and the biased batch
    /// variance and mean per channel for the caller's running statistics.
    public func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float = 1e-5) -> (Variable, mean: [Float], variance: [Float]) {
        let (y, stats, variance) = Kernels.batchNormForward(x.value, gamma: gamma.value, beta: beta.value, epsilon: epsilon)
        let xv = x.value, gv = gamma.value
        let out = record(y, inputs: [x, gamma, beta]) { dY in
            let r = Kernels.batchNormBackward(dY, xv, gamma: gv, stats)
            if x.requiresGrad { x.accumulate(r.dX, owned: true) }
            if gamma.requiresGrad { gamma.accumulate(r.dGamma, owned: true) }
            if beta.requiresGrad { beta.accumulate(r.dBeta, owned: true) }
        }
        return (out, stats.mean, variance)
    }
}
