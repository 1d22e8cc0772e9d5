// Depthwise convolution: every input channel convolved with its own filters (group == input channels, each
// group 1 channel in and `multiplier` out), the building block of MobileNet, ShuffleNet and YOLOX-style
// detectors. Through im2col each group is a GEMM of M = multiplier, K = kernel taps: a copy of the input per
// tap for a handful of multiply-adds, and per-call GEMM overhead per channel. Here each output row is
// accumulated tap by tap straight from the input row, the loop over output columns contiguous (stride 1) so
// the compiler vectorises it; tasks are (image, channel) planes, spread over `kernelThreadCount` workers.
//
// Called by `convolutionForwardCore` (Convolution.swift) when `ConvolutionPlan.isDepthwise`; the backward
// passes keep the GEMM path. Oracle: ConvolutionReference.swift (tests: DepthwiseConvolutionTests).

extension ConvolutionPlan {
    /// One input channel per group and at most two spatial dimensions (the leading lifted depth is 1).
    var isDepthwise: Bool {
        cg == 1 && input[0] == 1 && output[0] == 1 && geometry.kernel[0] == 1
    }
}

/// y = activation(depthwise conv(x, w) (+ bias)) for a plan with `isDepthwise`. y is written entirely, the
/// activation applied to each output row once its taps are summed.
func depthwiseConvolutionForward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 y: UnsafeMutablePointer<Float>, plan p: ConvolutionPlan,
                                 activation: FusedActivation? = nil) {
    let multiplier = p.ocg
    let (ih, iw, oh, ow) = (p.input[1], p.input[2], p.output[1], p.output[2])
    let (kh, kw) = (p.geometry.kernel[1], p.geometry.kernel[2])
    let (sh, sw) = (p.geometry.strides[1], p.geometry.strides[2])
    let (dh, dw) = (p.geometry.dilations[1], p.geometry.dilations[2])
    let (ph, pw) = (p.geometry.padsBegin[1], p.geometry.padsBegin[2])
    let taps = kh * kw
    // Per kernel column: the output columns whose tap lands inside the input, and the input offset of column 0.
    var columnRange: [(lo: Int, hi: Int, offset: Int)] = []
    for kx in 0..<kw {
        let offset = kx * dw - pw
        let lo = max(0, ceilDivide(-offset, sw)), hi = min(ow, floorDivide(iw - 1 - offset, sw) + 1)
        columnRange.append((lo, max(lo, hi), offset))
    }
    let planes = p.batch * p.inputChannels
    let workers = p.workers(tasks: planes)
    columnRange.withUnsafeBufferPointer { columns in
        parallelTasks(count: planes, workers: workers) { plane, _ in
            let n = plane / p.inputChannels, c = plane % p.inputChannels
            let xc = x + plane * p.inputSize
            for j in 0..<multiplier {
                let oc = c * multiplier + j
                let yc = y + (n * p.outputChannels + oc) * p.outputSize
                let wc = w + oc * taps
                let b = bias?[oc] ?? 0
                for oy in 0..<oh {
                    let yrow = yc + oy * ow
                    for ox in 0..<ow { yrow[ox] = b }
                    for ky in 0..<kh {
                        let iy = oy * sh + ky * dh - ph
                        guard iy >= 0 && iy < ih else { continue }
                        let xrow = xc + iy * iw
                        for kx in 0..<kw {
                            let weight = wc[ky * kw + kx]
                            let (lo, hi, offset) = columns[kx]
                            guard lo < hi else { continue }
                            if sw == 1 {
                                let source = xrow + offset
                                for ox in lo..<hi { yrow[ox] += weight * source[ox] }
                            } else {
                                for ox in lo..<hi { yrow[ox] += weight * xrow[ox * sw + offset] }
                            }
                        }
                    }
                    activation?.apply(yrow, count: ow)
                }
            }
        }
    }
}
