// Depthwise convolution: every input channel convolved with its own filters (group == input channels, each
// group 1 channel in and `multiplier` out), the building block of MobileNet, ShuffleNet and YOLOX-style
// detectors. Through im2col each group is a GEMM of M = multiplier, K = kernel taps: a copy of the input per
// tap for a handful of multiply-adds, and per-call GEMM overhead per channel. Here each plane is copied once
// into a zero-padded scratch plane, so every tap of every output reads inside it and the loops carry no
// edge cases; each output row then sums its kernel rows, the taps of a 3- or 5-wide row in registers (one
// store per output; stride 2 through the row's even and odd columns split apart, so the loads stay
// contiguous and the compiler vectorises the loop over output columns). Tasks are (image, channel) planes,
// spread over `kernelThreadCount` workers.
//
// Called by `convolutionForwardCore` (Convolution.swift) when `ConvolutionPlan.isDepthwise`; the backward
// passes keep the GEMM path. Oracle: ConvolutionReference.swift (tests: DepthwiseConvolutionTests).

extension ConvolutionPlan {
    /// One input channel per group, a few filters per channel (a GEMM of M = `ocg` rows is efficient past
    /// that: a one-channel Conv1d with 257 filters, an STFT, stays on im2col), at most two spatial
    /// dimensions (the leading lifted depth is 1).
    var isDepthwise: Bool {
        cg == 1 && ocg <= Self.depthwiseMaximumMultiplier && input[0] == 1 && output[0] == 1 && geometry.kernel[0] == 1
    }

    static let depthwiseMaximumMultiplier = 8
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
    // The padded plane holds every position a tap reads: rows -ph ..< (oh-1)·sh + (kh-1)·dh + 1 - ph, likewise
    // columns (and at least the input itself).
    let paddedHeight = max(ph + ih, (oh - 1) * sh + (kh - 1) * dh + 1)
    // (+1 at stride 2: the even/odd split reads one column past the last tap.)
    let paddedWidth = max(pw + iw, (ow - 1) * sw + (kw - 1) * dw + 1) + (sw == 2 ? 1 : 0)
    let fusedTaps = dw == 1 && (kw == 3 || kw == 5)
    let splitStride = ow + 4
    let planes = p.batch * p.inputChannels
    // Planes are independent and cheap to split: threads pay off well below the GEMM paths' threshold.
    let workers = p.batch * p.outputChannels * p.outputSize * taps < 1 << 16 ? 1 : min(planes, kernelThreadCount)
    parallelTasks(count: planes, workers: workers) { plane, _ in
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: paddedHeight * paddedWidth)
        defer { padded.deallocate() }
        let split = UnsafeMutablePointer<Float>.allocate(capacity: sw == 2 && fusedTaps ? 2 * splitStride : 1)
        defer { split.deallocate() }
        let xc = x + plane * p.inputSize
        padded.initialize(repeating: 0, count: paddedHeight * paddedWidth)
        for r in 0..<ih { (padded + (r + ph) * paddedWidth + pw).update(from: xc + r * iw, count: iw) }
        let n = plane / p.inputChannels, c = plane % p.inputChannels
        for j in 0..<multiplier {
            let oc = c * multiplier + j
            let yc = y + (n * p.outputChannels + oc) * p.outputSize
            let wc = w + oc * taps
            let b = bias?[oc] ?? 0
            for oy in 0..<oh {
                let yrow = yc + oy * ow
                for ox in 0..<ow { yrow[ox] = b }
                for ky in 0..<kh {
                    let source = UnsafePointer(padded + (oy * sh + ky * dh) * paddedWidth)
                    let wrow = wc + ky * kw
                    guard fusedTaps else {
                        for kx in 0..<kw {
                            let weight = wrow[kx], tap = source + kx * dw
                            if sw == 1 {
                                for ox in 0..<ow { yrow[ox] += weight * tap[ox] }
                            } else {
                                for ox in 0..<ow { yrow[ox] += weight * tap[ox * sw] }
                            }
                        }
                        continue
                    }
                    // Tap k of output ox reads source[ox·sw + k]. Stride 2: evens[i] = source[2i] and
                    // odds[i] = source[2i + 1], so tap k reads evens or odds at ox + k / 2.
                    var evens = source, odds = source + 1
                    if sw == 2 {
                        for i in 0..<(ow + (kw - 1) / 2) {
                            split[i] = source[2 * i]
                            split[splitStride + i] = source[2 * i + 1]
                        }
                        evens = UnsafePointer(split)
                        odds = UnsafePointer(split + splitStride)
                    }
                    // Other strides: evens = source, odds = source + 1, so tap k reads source[ox·sw + k] too.
                    let step = sw == 2 ? 1 : sw, e = sw == 2 ? 1 : 2
                    if kw == 3 {
                        let (w0, w1, w2) = (wrow[0], wrow[1], wrow[2])
                        for ox in 0..<ow {
                            let i = ox * step
                            yrow[ox] += w0 * evens[i] + w1 * odds[i] + w2 * evens[i + e]
                        }
                    } else {
                        let (w0, w1, w2, w3, w4) = (wrow[0], wrow[1], wrow[2], wrow[3], wrow[4])
                        for ox in 0..<ow {
                            let i = ox * step
                            yrow[ox] += w0 * evens[i] + w1 * odds[i] + w2 * evens[i + e]
                                + w3 * odds[i + e] + w4 * evens[i + 2 * e]
                        }
                    }
                }
                activation?.apply(yrow, count: ow)
            }
        }
    }
}
