// Public API (stable; the trainer and the runtime call these):
//   conv2dForward(x:weight:bias:geometry:)                 x (N, C, H, W), weight (OC, C/group, KH, KW), bias (OC)?
//                                                          -> y (N, OC, OH, OW)
//   conv2dBackwardData(dY:weight:geometry:inputShape:)     dY (N, OC, OH, OW) -> dX of inputShape (N, C, H, W)
//   conv2dBackwardWeight(dY:x:geometry:weightShape:)       -> dW of weightShape (OC, C/group, KH, KW)
//   conv2dBackwardBias(dY:)                                -> dB (OC): dY summed over N and space
//
// All four also take 1-D (N, C, W) and 3-D (N, C, D, H, W) tensors: the spatial rank is the geometry's.
// Geometry (kernel, strides, dilations, pads, group) is `ConvolutionGeometry` (ConvolutionGeometry.swift).
// Oracle: ConvolutionReference.swift. Transposed convolution: ConvTranspose.swift.
// 3x3 stride-1 group-1 forward convolutions with >= 8 channels each side go to Winograd.swift instead;
// depthwise ones (one input channel per group, 1-D or 2-D) to DepthwiseConvolution.swift.
//
// Method: per image and group, y_g (OC/g x OH*OW) = W_g (OC/g x C/g*KH*KW) * col (C/g*KH*KW x OH*OW) with
// `col` = im2col(x_g), built a chunk of output rows at a time so it stays in cache; OIHW weights are already
// the row-major A matrix, so nothing needs packing. 1x1 stride-1 unpadded convolutions use x itself as col.
// The backward passes are the same GEMMs transposed: dX = col2im(W_g^T * dY_g), dW_g += dY_g * col^T.
// Threads: see the cores below.

// MARK: Cores (shared with ConvTranspose.swift)
//
// Threads: a big convolution is split into tasks (column chunks, or channel blocks for the adjoint) that run on
// `kernelThreadCount` workers, each calling single-threaded sgemm on its own scratch memory; a small one runs
// inline, its GEMMs split over the threads by `sgemm`. The two never nest (`parallelTasks`).

/// y = activation(conv(x, w) (+ bias)) for the convolution `plan`. y is written entirely; the activation is
/// applied to each task's part of y as soon as it is computed.
func convolutionForwardCore(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                            y: UnsafeMutablePointer<Float>, plan p: ConvolutionPlan, activation: FusedActivation? = nil) {
    if p.isDepthwise {
        // One channel per group: direct taps, no im2col (DepthwiseConvolution.swift).
        depthwiseConvolutionForward(x: x, w: w, bias: bias, y: y, plan: p, activation: activation)
        return
    }
    let (cg, ocg, rowsK, ow) = (p.cg, p.ocg, p.columnRows, p.output[2])
    let pointwise = p.isPointwise
    let chunkRows = p.rowsPerChunk
    let chunks = (p.outputRows + chunkRows - 1) / chunkRows
    let tasks = p.batch * p.group * chunks
    let workers = p.workers(tasks: tasks)
    let colSize = pointwise ? 0 : rowsK * chunkRows * ow
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, colSize * workers))
    defer { scratch.deallocate() }
    parallelTasks(count: tasks, workers: workers) { t, worker in
        let chunk = t % chunks, g = (t / chunks) % p.group, n = t / (chunks * p.group)
        let rows = chunk * chunkRows..<min((chunk + 1) * chunkRows, p.outputRows)
        let (first, columns) = (rows.lowerBound * ow, rows.count * ow)
        let xg = x + (n * p.inputChannels + g * cg) * p.inputSize
        let yg = y + (n * p.outputChannels + g * ocg) * p.outputSize
        let wg = w + g * ocg * rowsK
        if pointwise {
            // The column matrix is x itself (input and output positions coincide).
            sgemm(transposeA: false, transposeB: false, m: ocg, n: columns, k: cg, alpha: 1,
                  a: wg, lda: rowsK, b: xg + first, ldb: p.inputSize, beta: 0, c: yg + first, ldc: p.outputSize)
        } else {
            let col = scratch + worker * colSize
            im2col(xg, channels: cg, plan: p, rows: rows, col: col)
            sgemm(transposeA: false, transposeB: false, m: ocg, n: columns, k: rowsK, alpha: 1,
                  a: wg, lda: rowsK, b: col, ldb: columns, beta: 0, c: yg + first, ldc: p.outputSize)
        }
        if let bias {
            addBias(bias + g * ocg, to: yg, channels: ocg, positions: first..<first + columns,
                    channelStride: p.outputSize)
        }
        if let activation {
            for c in 0..<ocg { activation.apply(yg + c * p.outputSize + first, count: columns) }
        }
    }
}

/// x += conv^T(dy, w) (the adjoint of `convolutionForwardCore`: its backward-data pass).
/// x must be initialised (usually zeros). Tasks own disjoint channel blocks of x, so they never collide.
func convolutionAdjointCore(dy: UnsafePointer<Float>, w: UnsafePointer<Float>, x: UnsafeMutablePointer<Float>,
                            plan p: ConvolutionPlan) {
    let (cg, ocg, rowsK, ow, kernel) = (p.cg, p.ocg, p.columnRows, p.output[2], p.kernelSize)
    let pointwise = p.isPointwise
    let chunkRows = p.rowsPerChunk
    let images = p.batch * p.group
    // Channel blocks (so one image still spreads over the cores) chosen per image, never by the batch: each
    // image's gradient then has the same bits in a batch of any size, which data-parallel training relies on
    // (GEMMs of other shapes round differently).
    let blocks = min(cg, kernelThreadCount)
    let blockChannels = (cg + blocks - 1) / blocks
    let tasks = images * blocks
    let workers = p.workers(tasks: tasks)
    let colSize = pointwise ? 0 : blockChannels * kernel * chunkRows * ow
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, colSize * workers))
    defer { scratch.deallocate() }
    parallelTasks(count: tasks, workers: workers) { t, worker in
        let block = t % blocks, g = (t / blocks) % p.group, n = t / (blocks * p.group)
        let c0 = block * blockChannels, c1 = min(cg, c0 + blockChannels)
        guard c0 < c1 else { return }
        let xb = x + (n * p.inputChannels + g * cg + c0) * p.inputSize
        let dyg = dy + (n * p.outputChannels + g * ocg) * p.outputSize
        let wb = w + g * ocg * rowsK + c0 * kernel
        if pointwise {
            sgemm(transposeA: true, transposeB: false, m: c1 - c0, n: p.inputSize, k: ocg, alpha: 1,
                  a: wb, lda: rowsK, b: dyg, ldb: p.outputSize, beta: 1, c: xb, ldc: p.inputSize)
            return
        }
        let col = scratch + worker * colSize
        for r0 in stride(from: 0, to: p.outputRows, by: chunkRows) {
            let rows = r0..<min(r0 + chunkRows, p.outputRows)
            let columns = rows.count * ow
            sgemm(transposeA: true, transposeB: false, m: (c1 - c0) * kernel, n: columns, k: ocg, alpha: 1,
                  a: wb, lda: rowsK, b: dyg + r0 * ow, ldb: p.outputSize, beta: 0, c: col, ldc: columns)
            col2im(col, channels: c1 - c0, plan: p, rows: rows, x: xb)
        }
    }
}

/// dw += dy * im2col(x)^T summed over images (the weight gradient of `convolutionForwardCore`).
/// dw (OC, C/group * kernel) is accumulated into; parallel workers sum into private copies first.
func convolutionWeightGradientCore(dy: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                   dw: UnsafeMutablePointer<Float>, plan p: ConvolutionPlan) {
    let (cg, ocg, rowsK, ow) = (p.cg, p.ocg, p.columnRows, p.output[2])
    let pointwise = p.isPointwise
    let chunkRows = p.rowsPerChunk
    let chunks = (p.outputRows + chunkRows - 1) / chunkRows
    let tasks = p.batch * p.group * chunks
    let workers = p.workers(tasks: tasks)
    let colSize = pointwise ? 0 : rowsK * chunkRows * ow
    let weightCount = p.outputChannels * rowsK
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, colSize * workers))
    defer { scratch.deallocate() }
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers > 1 ? weightCount * workers : 1)
    defer { partials.deallocate() }
    if workers > 1 { partials.initialize(repeating: 0, count: weightCount * workers) }
    // Worker w takes tasks w, w + workers, ... (not the next free task): each partial sum, and so the gradient,
    // has the same bits on every run — training runs repeat exactly, and N processes match one.
    parallelTasks(count: workers, workers: workers) { worker, _ in
        for t in stride(from: worker, to: tasks, by: workers) {
            let chunk = t % chunks, g = (t / chunks) % p.group, n = t / (chunks * p.group)
            let rows = chunk * chunkRows..<min((chunk + 1) * chunkRows, p.outputRows)
            let (first, columns) = (rows.lowerBound * ow, rows.count * ow)
            let xg = x + (n * p.inputChannels + g * cg) * p.inputSize
            let dyg = dy + (n * p.outputChannels + g * ocg) * p.outputSize
            let dwg = (workers > 1 ? partials + worker * weightCount : dw) + g * ocg * rowsK
            if pointwise {
                sgemm(transposeA: false, transposeB: true, m: ocg, n: cg, k: columns, alpha: 1,
                      a: dyg + first, lda: p.outputSize, b: xg + first, ldb: p.inputSize, beta: 1, c: dwg, ldc: rowsK)
            } else {
                let col = scratch + worker * colSize
                im2col(xg, channels: cg, plan: p, rows: rows, col: col)
                sgemm(transposeA: false, transposeB: true, m: ocg, n: rowsK, k: columns, alpha: 1,
                      a: dyg + first, lda: p.outputSize, b: col, ldb: columns, beta: 1, c: dwg, ldc: rowsK)
            }
        }
    }
    if workers > 1 {
        for worker in 0..<workers {
            let partial = partials + worker * weightCount
            for i in 0..<weightCount { dw[i] += partial[i] }
        }
    }
}

/// y[c, p] += bias[c] for the positions `positions` of `channels` channels.
@inline(__always)
func addBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, channels: Int, positions: Range<Int>,
             channelStride: Int) {
    for c in 0..<channels {
        let b = bias[c]
        let row = y + c * channelStride
        for i in positions { row[i] += b }
    }
}

// MARK: Convolution

/// Convolution. x (N, C, H, W), weight (OC, C/group, KH, KW), bias (OC) or nil -> (N, OC, OH, OW),
/// OH = floor((H + pb + pe - dk) / s) + 1. Also 1-D and 3-D, following the geometry's spatial rank.
/// `activation`, if given, is applied to the output as it is made (a fused epilogue).
public func conv2dForward(x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                          activation: FusedActivation? = nil) -> Tensor {
    if let problem = geometry.convolutionShapeProblem(inputShape: x.shape, weightShape: weight.shape) {
        preconditionFailure("conv2dForward: \(problem)")
    }
    precondition(bias == nil || bias!.count == weight.shape[0], "conv2dForward: bias must have \(weight.shape[0]) entries")
    let inputSpatial = Array(x.shape[2...])
    let outputSpatial = geometry.outputSpatialShape(inputSpatialShape: inputSpatial)
    let y = Tensor(uninitialized: [x.shape[0], weight.shape[0]] + outputSpatial)
    guard y.count > 0 else { return y }
    if x.dtype == .float32, winogradPreferred(inputShape: x.shape, weightShape: weight.shape, geometry: geometry) {
        // 3x3 stride 1 with enough channels: F(2x2, 3x3), 2.25x fewer multiplies (Winograd.swift).
        let y = conv2dForwardWinograd(x: x, weights: WinogradWeights(weight: weight), bias: bias, geometry: geometry)
        activation?.apply(y.pointer(as: Float.self), count: y.count)
        return y
    }
    let plan = ConvolutionPlan(batch: x.shape[0], inputChannels: x.shape[1], outputChannels: weight.shape[0],
                               inputSpatial: inputSpatial, outputSpatial: outputSpatial, geometry: geometry)
    convolutionForwardCore(x: x.pointer(as: Float.self), w: weight.pointer(as: Float.self),
                           bias: bias.map { UnsafePointer($0.pointer(as: Float.self)) }, y: y.pointer(as: Float.self),
                           plan: plan, activation: activation)
    return y
}

/// Gradient of `conv2dForward` with respect to x. dY (N, OC, OH, OW), weight (OC, C/group, KH, KW)
/// -> dX of `inputShape` (N, C, H, W).
public func conv2dBackwardData(dY: Tensor, weight: Tensor, geometry: ConvolutionGeometry,
                               inputShape: [Int]) -> Tensor {
    if let problem = geometry.convolutionShapeProblem(inputShape: inputShape, weightShape: weight.shape) {
        preconditionFailure("conv2dBackwardData: \(problem)")
    }
    let inputSpatial = Array(inputShape[2...])
    let outputSpatial = geometry.outputSpatialShape(inputSpatialShape: inputSpatial)
    precondition(dY.shape == [inputShape[0], weight.shape[0]] + outputSpatial,
                 "conv2dBackwardData: dY is \(dY.shape), the convolution's output is \([inputShape[0], weight.shape[0]] + outputSpatial)")
    let dX = Tensor(zeros: inputShape)
    guard dX.count > 0, dY.count > 0 else { return dX }
    let plan = ConvolutionPlan(batch: inputShape[0], inputChannels: inputShape[1], outputChannels: weight.shape[0],
                               inputSpatial: inputSpatial, outputSpatial: outputSpatial, geometry: geometry)
    convolutionAdjointCore(dy: dY.pointer(as: Float.self), w: weight.pointer(as: Float.self),
                           x: dX.pointer(as: Float.self), plan: plan)
    return dX
}

/// Gradient of `conv2dForward` with respect to the weight. dY (N, OC, OH, OW), x (N, C, H, W)
/// -> dW of `weightShape` (OC, C/group, KH, KW), summed over the batch.
public func conv2dBackwardWeight(dY: Tensor, x: Tensor, geometry: ConvolutionGeometry,
                                 weightShape: [Int]) -> Tensor {
    if let problem = geometry.convolutionShapeProblem(inputShape: x.shape, weightShape: weightShape) {
        preconditionFailure("conv2dBackwardWeight: \(problem)")
    }
    let inputSpatial = Array(x.shape[2...])
    let outputSpatial = geometry.outputSpatialShape(inputSpatialShape: inputSpatial)
    precondition(dY.shape == [x.shape[0], weightShape[0]] + outputSpatial,
                 "conv2dBackwardWeight: dY is \(dY.shape), the convolution's output is \([x.shape[0], weightShape[0]] + outputSpatial)")
    let dW = Tensor(zeros: weightShape)
    guard dW.count > 0, dY.count > 0 else { return dW }
    let plan = ConvolutionPlan(batch: x.shape[0], inputChannels: x.shape[1], outputChannels: weightShape[0],
                               inputSpatial: inputSpatial, outputSpatial: outputSpatial, geometry: geometry)
    convolutionWeightGradientCore(dy: dY.pointer(as: Float.self), x: x.pointer(as: Float.self),
                                  dw: dW.pointer(as: Float.self), plan: plan)
    return dW
}

/// Gradient of a per-channel bias. dY (N, C, spatial...) -> (C): dY summed over images and positions.
/// (Used by Conv and ConvTranspose alike.)
public func conv2dBackwardBias(dY: Tensor) -> Tensor {
    precondition(dY.rank >= 2, "conv2dBackwardBias: dY must be (N, C, ...), got \(dY.shape)")
    let (n, c) = (dY.shape[0], dY.shape[1])
    let size = dY.shape[2...].reduce(1, *)
    let src = dY.pointer(as: Float.self)
    let out = Tensor(uninitialized: [c], dtype: .float32)
    let sums = out.pointer(as: Float.self)
    // One task per channel (disjoint outputs); each image's plane summed by `relaxedChunkedSum`, the images
    // added in order, so a channel's bits depend neither on the threads nor on the batch split.
    let workers = n * c * size >= 1 << 16 ? kernelThreadCount : 1
    parallelTasks(count: c, workers: workers) { j, _ in
        var total = 0.0
        for i in 0..<n {
            let plane = src + (i * c + j) * size
            total += relaxedChunkedSum(size) { plane[$0] }
        }
        sums[j] = Float(total)
    }
    return out
}
