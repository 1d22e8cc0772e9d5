import Foundation

/// softmax((x - max) / temperature) along the middle axis of an (outer, n, inner) float32 array, as the
/// channels of an [N, C, H, W] image are: the runtime's Softmax on a long inner axis and the trainer's
/// a*b*-class decoding both run this. Tiles of up to 512 contiguous inner positions, each pass a contiguous
/// loop the compiler vectorises (a per-position loop strides by `inner` and misses the cache on every read),
/// tiles spread over the cores, `FastFloat.exp`.
public func softmaxAlongMiddleAxis(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int,
                                   inner: Int, temperature: Float = 1) {
    let tile = 512
    let tilesPerRow = (inner + tile - 1) / tile
    nonisolated(unsafe) let x = x, y = y
    parallelTasks(count: outer * tilesPerRow, workers: kernelThreadCount) { task, _ in
        let o = task / tilesPerRow, start = (task % tilesPerRow) * tile, count = min(tile, inner - start)
        let base = o * n * inner + start
        var top = [Float](repeating: -.infinity, count: count), sum = [Float](repeating: 0, count: count)
        top.withUnsafeMutableBufferPointer { m in
            sum.withUnsafeMutableBufferPointer { s in
                exponentiateTile(x + base, n: n, inner: inner, count: count, temperature: temperature,
                                 into: y + base, stride: inner, max: m.baseAddress!, reciprocalSum: s.baseAddress!)
                for t in 0..<n {
                    let out = y + base + t * inner
                    for i in 0..<count { out[i] *= s[i] }
                }
            }
        }
    }
}

/// softmax along the middle axis of an (outer, n, inner) array, then projected onto `m` outputs:
/// y[o, c, i] = bias[c] + sum_t weights[c * n + t] * softmax(x[o, :, i])[t] — a Softmax over channels followed by
/// a 1x1 convolution (the a*b*-class decoding: probabilities onto bin centres), without writing the n
/// probabilities out. Same tiling, threads and exp as `softmaxAlongMiddleAxis`.
public func softmaxProjectedAlongMiddleAxis(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int,
                                            n: Int, inner: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                            m: Int) {
    let tile = 512
    let tilesPerRow = (inner + tile - 1) / tile
    nonisolated(unsafe) let x = x, y = y, weights = weights, bias = bias
    parallelTasks(count: outer * tilesPerRow, workers: kernelThreadCount) { task, _ in
        let o = task / tilesPerRow, start = (task % tilesPerRow) * tile, count = min(tile, inner - start)
        let base = o * n * inner + start
        var top = [Float](repeating: -.infinity, count: count), sum = [Float](repeating: 0, count: count)
        var e = [Float](repeating: 0, count: n * count), acc = [Float](repeating: 0, count: count)
        top.withUnsafeMutableBufferPointer { mx in
            sum.withUnsafeMutableBufferPointer { s in
                e.withUnsafeMutableBufferPointer { ex in
                    acc.withUnsafeMutableBufferPointer { a in
                        exponentiateTile(x + base, n: n, inner: inner, count: count, temperature: 1, into: ex.baseAddress!,
                                         stride: count, max: mx.baseAddress!, reciprocalSum: s.baseAddress!)
                        for c in 0..<m {
                            for i in 0..<count { a[i] = 0 }
                            for t in 0..<n {
                                let w = weights[c * n + t], row = ex.baseAddress! + t * count
                                for i in 0..<count { a[i] += w * row[i] }
                            }
                            let b = bias?[c] ?? 0, out = y + (o * m + c) * inner + start
                            for i in 0..<count { out[i] = a[i] * s[i] + b }
                        }
                    }
                }
            }
        }
    }
}

/// One tile of `count` positions: exp((x - max) / temperature) of each of the n rows (row t at x + t * inner)
/// into `destination` (row t at destination + t * stride), the per-position max into `max` (filled with
/// -infinity by the caller) and 1 / sum into `reciprocalSum` (zeros from the caller). Contiguous loops.
@inline(__always)
private func exponentiateTile(_ x: UnsafePointer<Float>, n: Int, inner: Int, count: Int, temperature: Float,
                              into destination: UnsafeMutablePointer<Float>, stride: Int,
                              max m: UnsafeMutablePointer<Float>, reciprocalSum s: UnsafeMutablePointer<Float>) {
    for t in 0..<n {
        let row = x + t * inner
        for i in 0..<count { m[i] = max(m[i], row[i]) }
    }
    for t in 0..<n {
        let row = x + t * inner, out = destination + t * stride
        for i in 0..<count {
            let e = FastFloat.exp((row[i] - m[i]) / temperature)
            out[i] = e
            s[i] += e
        }
    }
    for i in 0..<count { s[i] = 1 / s[i] }
}
