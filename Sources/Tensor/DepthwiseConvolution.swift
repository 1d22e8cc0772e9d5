import CKernels

// Depthwise convolution: every input channel convolved with its own filters (group == input channels, each
// group 1 channel in and `multiplier` out), the building block of MobileNet, ShuffleNet and YOLOX-style
// detectors. Through im2col each group is a GEMM of M = multiplier, K = kernel taps: a copy of the input per
// tap for a handful of multiply-adds, and per-call GEMM overhead per channel. Here each plane goes to
// `mc_depthwise_plane` (Sources/CKernels/depthwise.c, built for AVX-512, AVX2 and baseline x86-64): the padded
// plane split into polyphase sub-planes so that every tap, at any stride and dilation, is one shifted
// contiguous row added into blocks of 64 outputs held in vector registers. Tasks are (image, channel)
// planes, spread over `kernelThreadCount` workers, each with its own scratch.
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
/// activation applied to each output plane once its taps are summed.
func depthwiseConvolutionForward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 y: UnsafeMutablePointer<Float>, plan p: ConvolutionPlan,
                                 activation: FusedActivation? = nil) {
    let multiplier = p.ocg
    var geometry = mc_depthwise_geometry(
        ih: p.input[1], iw: p.input[2], oh: p.output[1], ow: p.output[2],
        kh: p.geometry.kernel[1], kw: p.geometry.kernel[2], sh: p.geometry.strides[1], sw: p.geometry.strides[2],
        dh: p.geometry.dilations[1], dw: p.geometry.dilations[2], ph: p.geometry.padsBegin[1], pw: p.geometry.padsBegin[2])
    let scratchFloats = mc_depthwise_scratch_floats(&geometry)
    let (kind, alpha, beta) = activation?.cKernelArguments ?? (MC_ACT_NONE, 0, 0)
    let planes = p.batch * p.inputChannels
    let taps = geometry.kh * geometry.kw
    // Planes are independent and cheap to split: threads pay off well below the GEMM paths' threshold.
    let workers = p.batch * p.outputChannels * p.outputSize * taps < 1 << 16 ? 1 : min(planes, kernelThreadCount)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats * workers)
    defer { scratch.deallocate() }
    withUnsafePointer(to: &geometry) { g in
        parallelTasks(count: planes, workers: workers) { plane, worker in
            let n = plane / p.inputChannels, c = plane % p.inputChannels
            let oc = c * multiplier
            mc_depthwise_plane(x + plane * p.inputSize, w + oc * taps, bias.map { $0 + oc }, multiplier,
                               y + (n * p.outputChannels + oc) * p.outputSize, p.outputSize, g,
                               scratch + worker * scratchFloats, Int32(kind.rawValue), alpha, beta)
        }
    }
}
