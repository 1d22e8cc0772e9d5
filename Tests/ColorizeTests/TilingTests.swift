import Tensor
import Testing
@testable import Colorize

/// 3x3 box blur with edge clamping: a local function of radius 1 that keeps the size ([1, C, H, W]).
private func boxBlur(_ t: Tensor) -> Tensor {
    let c = t.shape[1], h = t.shape[2], w = t.shape[3]
    let out = Tensor(uninitialized: t.shape, dtype: .float32)
    let src = t.floats, dst = out.floats
    for p in 0 ..< c {
        for y in 0 ..< h {
            for x in 0 ..< w {
                var s: Float = 0
                for dy in -1 ... 1 {
                    for dx in -1 ... 1 {
                        s += src[(p * h + min(max(y + dy, 0), h - 1)) * w + min(max(x + dx, 0), w - 1)]
                    }
                }
                dst[(p * h + y) * w + x] = s / 9
            }
        }
    }
    return out
}

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor(shape: shape, floats: (0 ..< shape.reduce(1, *)).map { _ in Float(rng.uniform(-1, 1)) })
}

private func maxAbs(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.floats, b.floats).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Test func reflectIndexMirrors() {
    #expect((-3 ... 7).map { reflectIndex($0, 4) } == [3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1])
    #expect(reflectIndex(5, 1) == 0)
}

@Test func paddingIsCroppedBack() throws {
    let input = randomTensor([1, 1, 37, 50], seed: 1)
    var seen: [Int] = []
    let out = try runTiled(input, options: TilingOptions(multiple: 16)) { t in
        seen = t.shape
        return t.copy()
    }
    #expect(seen == [1, 1, 48, 64])
    #expect(out.shape == [1, 1, 37, 50] && maxAbs(out, input) == 0)
}

@Test(arguments: [(97, 130, 3), (200, 64, 1), (64, 64, 3)])
func tilesEqualTheWholePageForALocalFunction(height: Int, width: Int, channels: Int) throws {
    let input = randomTensor([1, channels, height, width], seed: UInt64(height * width))
    let whole = try runTiled(input, options: TilingOptions(multiple: 16, tileSize: 4096)) { boxBlur($0) }
    var tiles = 0
    let tiled = try runTiled(input, options: TilingOptions(multiple: 16, tileSize: 48, overlap: 16)) { t in
        tiles += 1
        #expect(t.shape[2] <= 48 && t.shape[3] <= 48 && t.shape[2] % 16 == 0 && t.shape[3] % 16 == 0)
        return boxBlur(t)
    }
    #expect(tiled.shape == input.shape)
    #expect(width <= 48 && height <= 48 || tiles > 1)
    #expect(maxAbs(whole, tiled) < 1e-5, "max seam difference \(maxAbs(whole, tiled)) over \(tiles) tiles")
}

@Test func tileSeamsAreBoundedForAWiderFunction() throws {
    // A 7x7 blur sees farther than overlap/4: not exact, but the blend keeps the error small.
    func blur7(_ t: Tensor) -> Tensor { boxBlur(boxBlur(boxBlur(t))) }
    let input = randomTensor([1, 1, 120, 120], seed: 7)
    let whole = try runTiled(input, options: TilingOptions(multiple: 8, tileSize: 4096)) { blur7($0) }
    let tiled = try runTiled(input, options: TilingOptions(multiple: 8, tileSize: 48, overlap: 8)) { blur7($0) }
    #expect(maxAbs(whole, tiled) < 0.25)
}

@Test func channelCountMayChange() throws {
    let page = Image(width: 70, height: 90, channels: 1, fill: 0.5)
    let out = try runTiled(page, options: TilingOptions(multiple: 32, tileSize: 64, overlap: 16)) { t in
        let c = t.shape
        return Tensor(shape: [1, 3, c[2], c[3]], floats: [Float](repeating: 0.5, count: 3 * c[2] * c[3]))
    }
    #expect(out.channels == 3 && out.width == 70 && out.height == 90)
    #expect(out.pixels.allSatisfy { abs($0 - 0.75) < 1e-6 })
}

@Test func wrongModelOutputIsAnError() {
    let input = randomTensor([1, 1, 32, 32], seed: 2)
    #expect(throws: ImageError.self) {
        _ = try runTiled(input, options: TilingOptions(multiple: 32)) { _ in Tensor(zeros: [1, 3, 16, 16]) }
    }
}
