// Public API (stable; the runtime's Conv operator and conv2dForward call these):
//   WinogradWeights(weight:)                                      OIHW 3x3 weights -> U = G g G^T (16, OC, C)
//   winogradApplies(inputShape:weightShape:geometry:)  -> Bool    the shape is one F(2x2, 3x3) computes
//   winogradPreferred(inputShape:weightShape:geometry:) -> Bool   ... and it is likely faster than im2col
//   conv2dForwardWinograd(x:weights:bias:geometry:)    -> Tensor  y (N, OC, OH, OW), as conv2dForward
//
// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
// Networks", 2015) for 2-D float32 convolutions with a 3x3 kernel, stride 1, dilation 1, group 1 and any
// non-negative padding. The output is cut into 2x2 tiles; tile (th, tw) reads the 4x4 input patch at rows
// 2th - padTop ..< +4 and columns 2tw - padLeft ..< +4 (zeros outside the input). Per tile and channel
//     V = B^T d B (4x4),   M_k = sum_c U_k[oc, c] V_k[c, tile] (16 GEMMs, k = 4i + j),   Y = A^T M A (2x2)
// so each output needs 16/4 = 4 multiplies per (oc, c) pair instead of 9: 2.25x fewer GEMM FLOPs, for the
// price of the input and output transforms (O(C + OC) per tile, against O(C * OC) for the GEMMs).
//     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
//     A^T = [1 1 1 0; 0 1 -1 -1]
// The transforms only add, subtract and halve, so the result stays within a few float32 ulps of the direct
// sum (WinogradTests.swift bounds it against the Double reference). F(4x4, 3x3) would save more FLOPs
// (36/16 multiplies per output) but its transforms use 1/4, 1/6, 1/24 and amplify rounding roughly 10x.
//
// Tiles are processed a chunk of tile rows at a time, sized so the chunk's V (16 x C x T) and M
// (16 x OC x T) stay near the im2col column-chunk size; a big image splits into chunks that run on
// `kernelThreadCount` workers (single-threaded sgemm each, via `parallelTasks`), a small one (deep layers)
// runs as one chunk whose GEMMs `sgemm` splits over the threads. The two never nest.
//
// Set MANGACOLOR_WINOGRAD=0 in the environment to route every convolution through im2col (benchmarks).

import Foundation

/// 3x3 convolution weights transformed for F(2x2, 3x3): `U[k][oc][c] = (G g[oc, c] G^T)[k / 4][k % 4]`,
/// stored as 16 row-major OC x C matrices (the GEMMs' A operands). Build once per weight tensor.
public struct WinogradWeights: @unchecked Sendable {
    public let outputChannels: Int
    public let inputChannels: Int
    /// (16, OC, C) float32; empty when `packed` holds them.
    let u: Tensor
    /// The 16 matrices packed for the AVX-512 GEMM once (every chunk of tiles multiplies by them), instead of
    /// `u`; nil where those kernels do not run.
    let packed: [PackedGemmMatrix]?

    /// `weight` is (OC, C, 3, 3) float32 (OIHW, group 1).
    public init(weight: Tensor) {
        precondition(weight.dtype == .float32 && weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
                     "WinogradWeights: weight must be float32 (OC, C, 3, 3), got \(weight.dtype) \(weight.shape)")
        let (oc, c) = (weight.shape[0], weight.shape[1])
        outputChannels = oc
        inputChannels = c
        let transformed = Tensor(uninitialized: [16, oc, c])
        nonisolated(unsafe) let src = weight.pointer(as: Float.self), dst = transformed.pointer(as: Float.self)
        let plane = oc * c
        // t = G g (4x3), in Double so U is the correctly rounded transform; then U = t G^T (4x4). The trainer
        // transforms every 3x3 weight each step, so output channels are split over the threads when there are
        // many.
        func transform(_ o: Int) {
            for i in 0..<c {
                let g = src + (o * c + i) * 9, out = dst + o * c + i
                // Columns of g as vectors of its three rows; t's rows r = 0...3 as (column 0, 1, 2).
                let c0 = SIMD3<Double>(Double(g[0]), Double(g[3]), Double(g[6]))
                let c1 = SIMD3<Double>(Double(g[1]), Double(g[4]), Double(g[7]))
                let c2 = SIMD3<Double>(Double(g[2]), Double(g[5]), Double(g[8]))
                @inline(__always) func gRow(_ v: SIMD3<Double>) -> SIMD4<Double> {
                    SIMD4(v.x, 0.5 * (v.x + v.y + v.z), 0.5 * (v.x - v.y + v.z), v.z)
                }
                let (t0, t1, t2) = (gRow(c0), gRow(c1), gRow(c2))
                for r in 0..<4 {
                    let (a0, a1, a2) = (t0[r], t1[r], t2[r])
                    out[(4 * r) * plane] = Float(a0)
                    out[(4 * r + 1) * plane] = Float(0.5 * (a0 + a1 + a2))
                    out[(4 * r + 2) * plane] = Float(0.5 * (a0 - a1 + a2))
                    out[(4 * r + 3) * plane] = Float(a2)
                }
            }
        }
        if oc * c >= 4096 && oc >= 2 * kernelThreadCount {
            let blocks = 4 * kernelThreadCount, size = (oc + blocks - 1) / blocks
            concurrentFor((oc + size - 1) / size) { b in
                for o in b * size..<min(oc, (b + 1) * size) { transform(o) }
            }
        } else {
            for o in 0..<oc { transform(o) }
        }
        let matrices = (0..<16).map { k in PackedGemmMatrix(m: oc, k: c, a: dst + k * plane, lda: c) }
        packed = matrices.allSatisfy { $0 != nil } ? matrices.map { $0! } : nil
        // Packed, the plain matrices are not needed (a model's Winograd weights would be held twice).
        u = packed == nil ? transformed : Tensor(uninitialized: [0])
    }
}

/// Whether F(2x2, 3x3) computes this convolution: 2-D, kernel 3x3, stride 1, dilation 1, group 1,
/// non-negative pads, a non-empty output.
public func winogradApplies(inputShape x: [Int], weightShape w: [Int], geometry g: ConvolutionGeometry) -> Bool {
    guard x.count == 4, w.count == 4, g.spatialRank == 2, g.kernelShape == [3, 3], g.strides == [1, 1],
          g.dilations == [1, 1], g.group == 1, w[1] == x[1],
          g.padsBegin.allSatisfy({ $0 >= 0 }), g.padsEnd.allSatisfy({ $0 >= 0 }) else { return false }
    return !g.outputSpatialShape(inputSpatialShape: [x[2], x[3]]).contains(0) && x[0] > 0 && w[0] > 0 && x[1] > 0
}

/// Whether conv2dForward should take the Winograd path: it applies, and the channel counts and tile count
/// are large enough that the GEMMs dominate the transforms (MANGACOLOR_WINOGRAD=0 turns it off).
public func winogradPreferred(inputShape x: [Int], weightShape w: [Int], geometry g: ConvolutionGeometry) -> Bool {
    guard winogradEnabled, winogradApplies(inputShape: x, weightShape: w, geometry: g) else { return false }
    let out = g.outputSpatialShape(inputSpatialShape: [x[2], x[3]])
    let tiles = ((out[0] + 1) / 2) * ((out[1] + 1) / 2)
    return x[1] >= 8 && w[0] >= 8 && tiles >= winogradMinimumTiles
}

/// Fewer tiles than this per image make 16 GEMMs too narrow to beat one im2col GEMM.
let winogradMinimumTiles = 64

let winogradEnabled = ProcessInfo.processInfo.environment["MANGACOLOR_WINOGRAD"] != "0"

/// Convolution by F(2x2, 3x3): the same contract as `conv2dForward` for shapes where `winogradApplies`.
/// x (N, C, H, W) float32, `weights` from the (OC, C, 3, 3) weight, bias (OC) or nil -> (N, OC, OH, OW).
public func conv2dForwardWinograd(x: Tensor, weights: WinogradWeights, bias: Tensor?,
                                  geometry: ConvolutionGeometry) -> Tensor {
    let wShape = [weights.outputChannels, weights.inputChannels, 3, 3]
    precondition(winogradApplies(inputShape: x.shape, weightShape: wShape, geometry: geometry),
                 "conv2dForwardWinograd: input \(x.shape), weight \(wShape), \(geometry) is not a 3x3 stride-1 convolution")
    precondition(bias == nil || bias!.count == weights.outputChannels,
                 "conv2dForwardWinograd: bias must have \(weights.outputChannels) entries")
    let out = geometry.outputSpatialShape(inputSpatialShape: [x.shape[2], x.shape[3]])
    let y = Tensor(uninitialized: [x.shape[0], weights.outputChannels] + out)
    let problem = WinogradProblem(batch: x.shape[0], channels: x.shape[1], outputChannels: weights.outputChannels,
                                  height: x.shape[2], width: x.shape[3], outputHeight: out[0], outputWidth: out[1],
                                  padTop: geometry.padsBegin[0], padLeft: geometry.padsBegin[1])
    winogradForwardCore(x: x.pointer(as: Float.self), u: weights.u.pointer(as: Float.self), packed: weights.packed,
                        bias: bias.map { UnsafePointer($0.pointer(as: Float.self)) },
                        y: y.pointer(as: Float.self), problem: problem)
    return y
}

/// The sizes of one F(2x2, 3x3) convolution.
struct WinogradProblem {
    let batch, channels, outputChannels, height, width, outputHeight, outputWidth, padTop, padLeft: Int
    var tilesHigh: Int { (outputHeight + 1) / 2 }
    var tilesWide: Int { (outputWidth + 1) / 2 }
    /// The fewest tiles (GEMM columns) worth one chunk, unless the image has fewer.
    static let minimumChunkTiles = 256

    /// Multiply-adds of the 16 GEMMs.
    var multiplyAdds: Int { batch * tilesHigh * tilesWide * 16 * channels * outputChannels }

    /// Tile rows per chunk: V and M of a chunk stay near `chunkFloats`, and a big image splits into at least
    /// two chunks per core.
    func tileRowsPerChunk(chunkFloats: Int, parallelThreshold: Int, minimumChunkTiles: Int) -> Int {
        let rowFloats = 16 * (channels + outputChannels) * tilesWide
        // Narrow GEMMs starve: a chunk keeps at least `minimumChunkTiles` tiles even past the cache target.
        let wide = (minimumChunkTiles + tilesWide - 1) / tilesWide
        let byCache = max(1, chunkFloats / rowFloats, wide)
        let split = multiplyAdds >= parallelThreshold && batch < 2 * kernelThreadCount
            && tilesHigh * tilesWide >= minimumChunkTiles * 2 * kernelThreadCount
        let byCores = split ? max(1, tilesHigh / (2 * kernelThreadCount)) : tilesHigh
        return max(1, min(tilesHigh, byCache, byCores))
    }
}

/// y = conv(x, w) + bias by F(2x2, 3x3), `u` the transformed weights (16, OC, C). y is written entirely.
func winogradForwardCore(x: UnsafePointer<Float>, u: UnsafePointer<Float>, packed: [PackedGemmMatrix]? = nil,
                         bias: UnsafePointer<Float>?,
                         y: UnsafeMutablePointer<Float>, problem p: WinogradProblem,
                         chunkFloats: Int = defaultColumnChunkFloats, parallelThreshold: Int = 1 << 21,
                         minimumChunkTiles: Int = WinogradProblem.minimumChunkTiles) {
    let (C, OC, tilesW) = (p.channels, p.outputChannels, p.tilesWide)
    let chunkRows = p.tileRowsPerChunk(chunkFloats: chunkFloats, parallelThreshold: parallelThreshold,
                                       minimumChunkTiles: minimumChunkTiles)
    let chunks = (p.tilesHigh + chunkRows - 1) / chunkRows
    let tasks = p.batch * chunks
    let workers = p.multiplyAdds < parallelThreshold ? 1 : min(tasks, kernelThreadCount)
    let maxTiles = chunkRows * tilesW
    // Per worker: V (16 C T), M (16 OC T), four transformed input rows and a zero input row.
    let rowWidth = 2 * tilesW + 2
    let scratchSize = 16 * (C + OC) * maxTiles + 4 * rowWidth + p.width
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize * min(tasks, max(1, workers)))
    defer { scratch.deallocate() }
    parallelTasks(count: tasks, workers: workers) { t, worker in
        let chunk = t % chunks, n = t / chunks
        let rows = chunk * chunkRows..<min((chunk + 1) * chunkRows, p.tilesHigh)
        let tiles = rows.count * tilesW
        let v = scratch + worker * scratchSize
        let m = v + 16 * C * maxTiles
        let lines = m + 16 * OC * maxTiles
        let zeros = lines + 4 * rowWidth
        zeros.update(repeating: 0, count: p.width)
        winogradInputTransform(x + n * C * p.height * p.width, problem: p, tileRows: rows, v: v, tiles: tiles,
                               lines: lines, zeros: zeros)
        for k in 0..<16 {
            if let packed {
                sgemm(packedA: packed[k], transposeB: false, n: tiles, alpha: 1, b: v + k * C * tiles, ldb: tiles,
                      beta: 0, c: m + k * OC * tiles, ldc: tiles)
            } else {
                sgemm(transposeA: false, transposeB: false, m: OC, n: tiles, k: C, alpha: 1,
                      a: u + k * OC * C, lda: C, b: v + k * C * tiles, ldb: tiles,
                      beta: 0, c: m + k * OC * tiles, ldc: tiles)
            }
        }
        winogradOutputTransform(m, tiles: tiles, problem: p, tileRows: rows, bias: bias,
                                y: y + n * OC * p.outputHeight * p.outputWidth)
    }
}

/// V[k][c][t] = (B^T d B)[k] for the tiles of `tileRows` of one image x (C, H, W): t = (th - first) * tilesW + tw.
/// `lines` holds 4 rows of `2 * tilesW + 2` floats, `zeros` W zeros (scratch).
@inline(__always)
private func winogradInputTransform(_ x: UnsafePointer<Float>, problem p: WinogradProblem, tileRows: Range<Int>,
                                    v: UnsafeMutablePointer<Float>, tiles: Int,
                                    lines: UnsafeMutablePointer<Float>, zeros: UnsafePointer<Float>) {
    let (H, W, tilesW) = (p.height, p.width, p.tilesWide)
    let rowWidth = 2 * tilesW + 2
    // Columns xp of a line read input column xp - padLeft; those in lo..<hi are inside the input.
    let lo = min(rowWidth, p.padLeft), hi = max(lo, min(rowWidth, p.padLeft + W))
    let (s0, s1, s2, s3) = (lines, lines + rowWidth, lines + 2 * rowWidth, lines + 3 * rowWidth)
    for i in 0..<4 {
        let line = lines + i * rowWidth
        line.update(repeating: 0, count: lo)
        (line + hi).update(repeating: 0, count: rowWidth - hi)
    }
    let plane = p.channels * tiles
    for c in 0..<p.channels {
        let xc = x + c * H * W
        for th in tileRows {
            let top = 2 * th - p.padTop
            @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> {
                let iy = top + r
                return (iy >= 0 && iy < H ? xc + iy * W : zeros) - p.padLeft
            }
            // Rows of B^T d across the whole line: t0 = d0 - d2, t1 = d1 + d2, t2 = d2 - d1, t3 = d1 - d3.
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3))
            for xp in lo..<hi {
                let (a, b, c2, d) = (r0[xp], r1[xp], r2[xp], r3[xp])
                s0[xp] = a - c2
                s1[xp] = b + c2
                s2[xp] = c2 - b
                s3[xp] = b - d
            }
            // Columns: (t B)[i] = (t0 - t2, t1 + t2, t2 - t1, t1 - t3) of each line's 4 columns at 2tw.
            let first = c * tiles + (th - tileRows.lowerBound) * tilesW
            for i in 0..<4 {
                let s = lines + i * rowWidth
                let o0 = v + 4 * i * plane + first, o1 = o0 + plane, o2 = o1 + plane, o3 = o2 + plane
                for tw in 0..<tilesW {
                    let q = 2 &* tw
                    let (a, b, c2, d) = (s[q], s[q &+ 1], s[q &+ 2], s[q &+ 3])
                    o0[tw] = a - c2
                    o1[tw] = b + c2
                    o2[tw] = c2 - b
                    o3[tw] = b - d
                }
            }
        }
    }
}

/// y[oc, 2th + a, 2tw + b] = (A^T M A)[a][b] + bias[oc] for the tiles of `tileRows`, M[k][oc][t] from the GEMMs.
@inline(__always)
private func winogradOutputTransform(_ m: UnsafePointer<Float>, tiles: Int, problem p: WinogradProblem,
                                     tileRows: Range<Int>, bias: UnsafePointer<Float>?,
                                     y: UnsafeMutablePointer<Float>) {
    let (OH, OW, tilesW) = (p.outputHeight, p.outputWidth, p.tilesWide)
    let plane = p.outputChannels * tiles
    let fullTiles = OW / 2
    for oc in 0..<p.outputChannels {
        let b = bias?[oc] ?? 0
        let yc = y + oc * OH * OW
        for th in tileRows {
            let mt = m + oc * tiles + (th - tileRows.lowerBound) * tilesW
            let y0 = yc + 2 * th * OW
            let secondRow = 2 * th + 1 < OH
            let y1 = secondRow ? y0 + OW : y0  // written first, then overwritten by row 0 when absent
            let (q0, q1, q2, q3) = (mt, mt + plane, mt + 2 * plane, mt + 3 * plane)
            let (q4, q5, q6, q7) = (mt + 4 * plane, mt + 5 * plane, mt + 6 * plane, mt + 7 * plane)
            let (q8, q9, q10, q11) = (mt + 8 * plane, mt + 9 * plane, mt + 10 * plane, mt + 11 * plane)
            let (q12, q13, q14, q15) = (mt + 12 * plane, mt + 13 * plane, mt + 14 * plane, mt + 15 * plane)
            @inline(__always) func tile(_ tw: Int) -> (Float, Float, Float, Float) {
                let (t00, t01) = (q0[tw] + q4[tw] + q8[tw], q1[tw] + q5[tw] + q9[tw])
                let (t02, t03) = (q2[tw] + q6[tw] + q10[tw], q3[tw] + q7[tw] + q11[tw])
                let (t10, t11) = (q4[tw] - q8[tw] - q12[tw], q5[tw] - q9[tw] - q13[tw])
                let (t12, t13) = (q6[tw] - q10[tw] - q14[tw], q7[tw] - q11[tw] - q15[tw])
                return (t00 + t01 + t02 + b, t01 - t02 - t03 + b, t10 + t11 + t12 + b, t11 - t12 - t13 + b)
            }
            // Eight tiles at a time in SIMD, the two output rows interleaved from the even and odd columns.
            var tw = 0
            let bv = SIMD8<Float>(repeating: b)
            while tw + 8 <= fullTiles {
                @inline(__always) func load(_ q: UnsafePointer<Float>) -> SIMD8<Float> {
                    UnsafeRawPointer(q + tw).loadUnaligned(as: SIMD8<Float>.self)
                }
                let (t00, t01) = (load(q0) + load(q4) + load(q8), load(q1) + load(q5) + load(q9))
                let (t02, t03) = (load(q2) + load(q6) + load(q10), load(q3) + load(q7) + load(q11))
                let (t10, t11) = (load(q4) - load(q8) - load(q12), load(q5) - load(q9) - load(q13))
                let (t12, t13) = (load(q6) - load(q10) - load(q14), load(q7) - load(q11) - load(q15))
                let (a, bb) = (t00 + t01 + t02 + bv, t01 - t02 - t03 + bv)
                let (c, d) = (t10 + t11 + t12 + bv, t11 - t12 - t13 + bv)
                let e = 2 * tw
                UnsafeMutableRawPointer(y1 + e).storeBytes(of: interleave(c, d), as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(y0 + e).storeBytes(of: interleave(a, bb), as: SIMD16<Float>.self)
                tw += 8
            }
            for tw in tw..<fullTiles {
                let (a, bb, c, d) = tile(tw)
                let e = 2 &* tw
                y1[e] = c
                y1[e &+ 1] = d
                y0[e] = a
                y0[e &+ 1] = bb
            }
            if fullTiles < tilesW {
                let (a, _, c, _) = tile(fullTiles)
                y1[2 * fullTiles] = c
                y0[2 * fullTiles] = a
            }
        }
    }
}

/// (a0, b0, a1, b1, ..., a7, b7).
@inline(__always)
private func interleave(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD16<Float> {
    SIMD16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}
