// im2col and its adjoint col2im over the lifted (D, H, W) geometry: the data movement around the GEMMs of
// Convolution.swift and ConvTranspose.swift. Internal to the Tensor module.

/// The sizes of one convolution from x (N, C, ID, IH, IW) to y (N, OC, OD, OH, OW) with OIHW weights
/// (OC, C/group, KD, KH, KW): the shared description that the three convolution cores run on.
/// A transposed convolution is described by its mirrored convolution (input and output swapped).
struct ConvolutionPlan {
    let batch: Int
    let inputChannels: Int
    let outputChannels: Int
    /// (ID, IH, IW) and (OD, OH, OW).
    let input: [Int]
    let output: [Int]
    let geometry: LiftedGeometry
    /// Upper bound on the floats of one column chunk (tests shrink it to exercise chunking).
    let columnChunkFloats: Int
    /// Below this many multiply-adds a convolution runs on one thread (OpenBLAS may still use its own).
    let parallelThreshold: Int

    init(batch: Int, inputChannels: Int, outputChannels: Int, inputSpatial: [Int], outputSpatial: [Int],
         geometry: ConvolutionGeometry, columnChunkFloats: Int = defaultColumnChunkFloats,
         parallelThreshold: Int = 1 << 21) {
        self.columnChunkFloats = columnChunkFloats
        self.parallelThreshold = parallelThreshold
        self.batch = batch
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.input = LiftedGeometry.lift(inputSpatial)
        self.output = LiftedGeometry.lift(outputSpatial)
        self.geometry = LiftedGeometry(geometry)
    }

    var group: Int { geometry.group }
    /// Channels per group on each side.
    var cg: Int { inputChannels / group }
    var ocg: Int { outputChannels / group }
    var inputSize: Int { input[0] * input[1] * input[2] }
    var outputSize: Int { output[0] * output[1] * output[2] }
    var kernelSize: Int { geometry.kernel[0] * geometry.kernel[1] * geometry.kernel[2] }
    /// Rows of the column matrix of one group: (c, kd, kh, kw).
    var columnRows: Int { cg * kernelSize }
    /// Output rows (od, oh); each holds OW positions.
    var outputRows: Int { output[0] * output[1] }

    /// A 1x1 convolution with stride 1 and no padding: the column matrix is the input itself.
    var isPointwise: Bool {
        kernelSize == 1 && geometry.strides == [1, 1, 1] && geometry.padsBegin == [0, 0, 0] && input == output
    }

    /// Multiply-adds of the whole convolution.
    var multiplyAdds: Int { batch * outputChannels * columnRows * outputSize }


    /// Output rows per column chunk: a chunk of the column matrix stays near cache size, and a big image
    /// splits into at least two chunks per core so every core gets work. Small images (deep layers: 8x8 to
    /// 32x32 with hundreds of channels) stay whole: column chunks that narrow starve the GEMM, so one GEMM
    /// runs, split over the threads by `sgemm` itself.
    var rowsPerChunk: Int {
        let rowFloats = max(1, columnRows * output[2])
        // Every GEMM call repacks the weights (M x K) for the chunk's N columns: a relative cost of about
        // 16 / N, so chunks get at least `minimumChunkColumns` columns when that keeps them under 4x the
        // cache target (deep layers, K in the thousands, have the FLOPs per column to afford it).
        let wide = min((Self.minimumChunkColumns + output[2] - 1) / output[2], 4 * columnChunkFloats / rowFloats)
        let byCache = max(1, columnChunkFloats / rowFloats, wide)
        let split = multiplyAdds >= parallelThreshold && batch * group < 2 * kernelThreadCount
            && outputSize >= Self.minimumTaskColumns * 2 * kernelThreadCount
        let byCores = split ? max(1, outputRows / (2 * kernelThreadCount)) : outputRows
        return max(1, min(outputRows, byCache, byCores))
    }

    /// The narrowest column chunk worth one GEMM call when the cache target would give fewer.
    static let minimumChunkColumns = 1024

    /// The narrowest column chunk worth a task of its own when an image is split across cores.
    static let minimumTaskColumns = 1024

    /// How many workers to split `tasks` tasks over.
    func workers(tasks: Int) -> Int {
        return multiplyAdds < parallelThreshold ? 1 : min(tasks, kernelThreadCount)
    }
}

/// 4 MiB of columns per chunk.
let defaultColumnChunkFloats = 1 << 20

/// Gathers the column matrix of output rows `rows` for one group:
/// `col[(c, kd, kh, kw), j * OW + ow] = x[c, od*sd + kd*dd - pd, oh*sh + kh*dh - ph, ow*sw + kw*dw - pw]`
/// with `rows.lowerBound + j = od * OH + oh`, and 0 where the tap reads padding.
/// x points at the group's first channel (`channels` channels of ID*IH*IW); col is `columnRows x rows.count*OW`.
func im2col(_ x: UnsafePointer<Float>, channels: Int, plan: ConvolutionPlan, rows: Range<Int>,
            col: UnsafeMutablePointer<Float>) {
    let (ID, IH, IW) = (plan.input[0], plan.input[1], plan.input[2])
    let (OH, OW) = (plan.output[1], plan.output[2])
    let g = plan.geometry
    let (KD, KH, KW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (sd, sh, sw) = (g.strides[0], g.strides[1], g.strides[2])
    let (dd, dh, dw) = (g.dilations[0], g.dilations[1], g.dilations[2])
    let (pd, ph, pw) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    let ld = rows.count * OW
    var line = col
    for c in 0..<channels {
        let xc = x + c * ID * IH * IW
        for kd in 0..<KD { for kh in 0..<KH { for kw in 0..<KW {
            let offset = kw * dw - pw
            let (lo, hi) = validRange(offset: offset, stride: sw, inputLength: IW, outputLength: OW)
            var od = rows.lowerBound / OH, oh = rows.lowerBound - od * OH
            for _ in rows {
                let id = od * sd + kd * dd - pd, ih = oh * sh + kh * dh - ph
                if id < 0 || id >= ID || ih < 0 || ih >= IH {
                    line.update(repeating: 0, count: OW)
                } else {
                    let src = xc + (id * IH + ih) * IW + offset
                    if lo > 0 { line.update(repeating: 0, count: lo) }
                    if sw == 1 {
                        (line + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        for ow in lo..<hi { line[ow] = src[ow * sw] }
                    }
                    if hi < OW { (line + hi).update(repeating: 0, count: OW - hi) }
                }
                line += OW
                oh += 1
                if oh == OH { oh = 0; od += 1 }
            }
        } } }
    }
    assert(line == col + channels * KD * KH * KW * ld)
}

/// The adjoint of `im2col`: adds every column entry into the input position it was gathered from
/// (entries that came from padding are dropped). x must be initialised (usually zeros).
func col2im(_ col: UnsafePointer<Float>, channels: Int, plan: ConvolutionPlan, rows: Range<Int>,
            x: UnsafeMutablePointer<Float>) {
    let (ID, IH, IW) = (plan.input[0], plan.input[1], plan.input[2])
    let (OH, OW) = (plan.output[1], plan.output[2])
    let g = plan.geometry
    let (KD, KH, KW) = (g.kernel[0], g.kernel[1], g.kernel[2])
    let (sd, sh, sw) = (g.strides[0], g.strides[1], g.strides[2])
    let (dd, dh, dw) = (g.dilations[0], g.dilations[1], g.dilations[2])
    let (pd, ph, pw) = (g.padsBegin[0], g.padsBegin[1], g.padsBegin[2])
    var line = col
    for c in 0..<channels {
        let xc = x + c * ID * IH * IW
        for kd in 0..<KD { for kh in 0..<KH { for kw in 0..<KW {
            let offset = kw * dw - pw
            let (lo, hi) = validRange(offset: offset, stride: sw, inputLength: IW, outputLength: OW)
            var od = rows.lowerBound / OH, oh = rows.lowerBound - od * OH
            for _ in rows {
                let id = od * sd + kd * dd - pd, ih = oh * sh + kh * dh - ph
                if id >= 0 && id < ID && ih >= 0 && ih < IH {
                    let dst = xc + (id * IH + ih) * IW + offset
                    if sw == 1 {
                        for ow in lo..<hi { dst[ow] += line[ow] }
                    } else {
                        for ow in lo..<hi { dst[ow * sw] += line[ow] }
                    }
                }
                line += OW
                oh += 1
                if oh == OH { oh = 0; od += 1 }
            }
        } } }
    }
}

/// The output columns `lo..<hi` whose tap `ow * stride + offset` lands inside `0..<inputLength`.
@inline(__always)
private func validRange(offset: Int, stride: Int, inputLength: Int, outputLength: Int) -> (Int, Int) {
    let lo = min(outputLength, max(0, ceilDivide(-offset, stride)))
    let hi = max(lo, min(outputLength, floorDivide(inputLength - 1 - offset, stride) + 1))
    return (lo, hi)
}
