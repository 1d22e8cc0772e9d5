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
    // Per kernel column: the output columns whose tap lands inside the input, and the input offset of column 0.
    var columnRange: [(lo: Int, hi: Int, offset: Int)] = []
    for kx in 0..<kw {
        let offset = kx * dw - pw
        let lo = max(0, ceilDivide(-offset, sw)), hi = min(ow, floorDivide(iw - 1 - offset, sw) + 1)
        columnRange.append((lo, max(lo, hi), offset))
    }
    // Output columns where every tap of a row lands inside the input: there the taps of one kernel row are
    // summed in registers (3 and 5 wide, dilation 1 — MobileNet's and PP-LCNet's kernels), one store per output.
    let interiorLo = min(ow, columnRange.map(\.lo).max() ?? 0)
    let interiorHi = max(interiorLo, columnRange.map(\.hi).min() ?? 0)
    let fusedTaps = dw == 1 && (kw == 3 || kw == 5) && interiorLo < interiorHi
    let planes = p.batch * p.inputChannels
    // Planes are independent and cheap to split: threads pay off well below the GEMM paths' threshold.
    let workers = p.batch * p.outputChannels * p.outputSize * taps < 1 << 16 ? 1 : min(planes, kernelThreadCount)
    columnRange.withUnsafeBufferPointer { columns in
        parallelTasks(count: planes, workers: workers) { plane, _ in
            let splitStride = ow + 4
            let split = UnsafeMutablePointer<Float>.allocate(capacity: sw == 2 && fusedTaps ? 2 * splitStride : 1)
            defer { split.deallocate() }
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
                        let wrow = wc + ky * kw
                        // Edge columns (or every column when the row is not fused): tap by tap.
                        for kx in 0..<kw {
                            let weight = wrow[kx]
                            let (lo, hi, offset) = columns[kx]
                            @inline(__always) func taps(_ from: Int, _ to: Int) {
                                guard from < to else { return }
                                if sw == 1 {
                                    let source = xrow + offset
                                    for ox in from..<to { yrow[ox] += weight * source[ox] }
                                } else {
                                    for ox in from..<to { yrow[ox] += weight * xrow[ox * sw + offset] }
                                }
                            }
                            if fusedTaps {
                                taps(lo, min(hi, interiorLo))
                                taps(max(lo, interiorHi), hi)
                            } else {
                                taps(lo, hi)
                            }
                        }
                        if fusedTaps {
                            var source = UnsafePointer(xrow - pw), odd = source + 1
                            if sw == 2 {
                                // Even and odd input columns apart, so the taps read contiguous memory.
                                let needed = interiorHi + (kw + 1) / 2
                                for i in interiorLo..<needed {
                                    // (Columns past the input are never read by interior outputs; zeros keep the
                                    // reads in bounds.)
                                    split[i] = 2 * i < iw + pw ? source[2 * i] : 0
                                    split[splitStride + i] = 2 * i + 1 < iw + pw ? source[2 * i + 1] : 0
                                }
                                source = UnsafePointer(split)
                                odd = UnsafePointer(split + splitStride)
                            }
                            let step = sw == 2 ? 1 : sw
                            // Stride 1: tap k reads source[ox + k]. Stride 2: even taps read source (evens) at
                            // ox + k / 2, odd taps odd at ox + k / 2. Other strides: source[ox * sw + k].
                            let e = sw == 2 ? 1 : 2, o = sw == 2 ? 0 : 1
                            let evens = source, odds = sw == 2 ? odd : source
                            if kw == 3 {
                                let (w0, w1, w2) = (wrow[0], wrow[1], wrow[2])
                                for ox in interiorLo..<interiorHi {
                                    let i = ox * step
                                    yrow[ox] += w0 * evens[i] + w1 * odds[i + o] + w2 * evens[i + e]
                                }
                            } else {
                                let (w0, w1, w2, w3, w4) = (wrow[0], wrow[1], wrow[2], wrow[3], wrow[4])
                                for ox in interiorLo..<interiorHi {
                                    let i = ox * step
                                    yrow[ox] += w0 * evens[i] + w1 * odds[i + o] + w2 * evens[i + e]
                                        + w3 * odds[i + o + e] + w4 * evens[i + 2 * e]
                                }
                            }
                        }
                    }
                    activation?.apply(yrow, count: ow)
                }
            }
        }
    }
}
