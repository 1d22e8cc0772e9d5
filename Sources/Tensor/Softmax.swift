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
                for t in 0..<n {
                    let row = x + base + t * inner
                    for i in 0..<count { m[i] = max(m[i], row[i]) }
                }
                for t in 0..<n {
                    let row = x + base + t * inner, out = y + base + t * inner
                    for i in 0..<count {
                        let e = FastFloat.exp((row[i] - m[i]) / temperature)
                        out[i] = e
                        s[i] += e
                    }
                }
                for i in 0..<count { s[i] = 1 / s[i] }
                for t in 0..<n {
                    let out = y + base + t * inner
                    for i in 0..<count { out[i] *= s[i] }
                }
            }
        }
    }
}
