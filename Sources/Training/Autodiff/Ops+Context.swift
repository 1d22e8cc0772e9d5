import Tensor

// The global-context branch's operations: a page's features pooled to one vector per image, and that
// vector fed back into the feature maps as a per-channel scale and shift (FiLM; Perez et al. 2018).

extension Tape {
    /// The mean of each channel over its plane: X [N, C, H, W] -> [N, C] (ONNX GlobalAveragePool, flattened).
    public func spatialMean(_ x: Variable) -> Variable {
        let s = x.shape
        precondition(s.count == 4, "spatialMean of \(s)")
        let rows = s[0] * s[1], plane = s[2] * s[3]
        let y = Tensor(uninitialized: [s[0], s[1]])
        let xp = x.value.floats, yp = y.floats
        let scale = 1 / Float(max(plane, 1))
        for r in 0..<rows {
            var sum: Float = 0
            for i in 0..<plane { sum += xp[r * plane + i] }
            yp[r] = sum * scale
        }
        return record(y, inputs: [x]) { dY in
            let dX = Tensor(uninitialized: s)
            let gp = dY.floats, dp = dX.floats
            for r in 0..<rows {
                let g = gp[r] * scale
                for i in 0..<plane { dp[r * plane + i] = g }
            }
            x.accumulate(dX, owned: true)
        }
    }

    /// Y = X * (1 + scale) + shift, scale and shift [N, C] broadcast over X [N, C, H, W]'s planes; either may be
    /// nil (no scaling, no shift). Zero scale and shift leave X as it is.
    public func modulate(_ x: Variable, scale: Variable?, shift: Variable?) -> Variable {
        let s = x.shape
        precondition(s.count == 4, "modulate of \(s)")
        let rows = s[0] * s[1], plane = s[2] * s[3]
        for v in [scale, shift].compactMap({ $0 }) { precondition(v.shape == [s[0], s[1]], "modulating \(s) by \(v.shape)") }
        let xv = x.value
        let y = Tensor(uninitialized: s)
        let xp = xv.floats, yp = y.floats
        let sp = scale?.value.floats, tp = shift?.value.floats
        for r in 0..<rows {
            let m = 1 + (sp?[r] ?? 0), t = tp?[r] ?? 0
            for i in 0..<plane { yp[r * plane + i] = xp[r * plane + i] * m + t }
        }
        return record(y, inputs: [x] + [scale, shift].compactMap { $0 }) { dY in
            let gp = dY.floats
            if x.requiresGrad {
                let dX = Tensor(uninitialized: s)
                let dp = dX.floats
                for r in 0..<rows {
                    let m = 1 + (sp?[r] ?? 0)
                    for i in 0..<plane { dp[r * plane + i] = gp[r * plane + i] * m }
                }
                x.accumulate(dX, owned: true)
            }
            if let scale, scale.requiresGrad {
                let d = Tensor(uninitialized: [s[0], s[1]])
                for r in 0..<rows {
                    var sum: Float = 0
                    for i in 0..<plane { sum += gp[r * plane + i] * xp[r * plane + i] }
                    d.floats[r] = sum
                }
                scale.accumulate(d, owned: true)
            }
            if let shift, shift.requiresGrad {
                let d = Tensor(uninitialized: [s[0], s[1]])
                for r in 0..<rows {
                    var sum: Float = 0
                    for i in 0..<plane { sum += gp[r * plane + i] }
                    d.floats[r] = sum
                }
                shift.accumulate(d, owned: true)
            }
        }
    }
}
