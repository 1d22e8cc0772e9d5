import Foundation
import Tensor
import Testing
@testable import Colorize

private func randomImage(width: Int, height: Int, channels: Int, seed: UInt64) -> Image {
    var rng = SplitMix64(seed: seed)
    return Image(width: width, height: height, channels: channels,
                 pixels: (0 ..< width * height * channels).map { _ in Float(rng.uniform(0, 1)) })
}

@Test func areaResizingAveragesTheCoveredPixels() {
    let image = randomImage(width: 6, height: 4, channels: 2, seed: 1)
    // Halving: exact 2x2 block means.
    let half = image.areaResized(width: 3, height: 2)
    for c in 0 ..< 2 {
        for y in 0 ..< 2 {
            for x in 0 ..< 3 {
                let block = [image[2 * x, 2 * y, c], image[2 * x + 1, 2 * y, c], image[2 * x, 2 * y + 1, c], image[2 * x + 1, 2 * y + 1, c]]
                #expect(abs(half[x, y, c] - block.reduce(0, +) / 4) < 1e-6)
            }
        }
    }
    // A fractional ratio keeps the mean (every source pixel counted once in all).
    let odd = image.areaResized(width: 4, height: 3)
    for c in 0 ..< 2 {
        let n = image.planeSize, m = odd.planeSize
        let before = image.pixels[c * n ..< (c + 1) * n].reduce(0, +) / Float(n)
        let after = odd.pixels[c * m ..< (c + 1) * m].reduce(0, +) / Float(m)
        #expect(abs(before - after) < 1e-5)
    }
    // A one-pixel checkerboard halves to flat grey: no aliasing.
    let checker = Image(width: 8, height: 8, channels: 1, pixels: (0 ..< 64).map { Float(($0 % 8 + $0 / 8) % 2) })
    #expect(checker.areaResized(width: 4, height: 4).pixels.allSatisfy { abs($0 - 0.5) < 1e-6 })
}

@Test func boxMeanMatchesTheClippedWindowMean() {
    let w = 7, h = 5, r = 2
    let plane = randomImage(width: w, height: h, channels: 1, seed: 2).pixels
    let fast = boxMean(plane, width: w, height: h, radius: r)
    for y in 0 ..< h {
        for x in 0 ..< w {
            var sum: Float = 0, count: Float = 0
            for j in max(0, y - r) ... min(h - 1, y + r) {
                for i in max(0, x - r) ... min(w - 1, x + r) { sum += plane[j * w + i]; count += 1 }
            }
            #expect(abs(fast[y * w + x] - sum / count) < 1e-5)
        }
    }
}

@Test func guidedUpsamplingPutsColourEdgesOnThePagesEdges() throws {
    // A page: dark left half, light right half, edge at x = 33 (not on the 2x grid). The colour is red on the
    // dark side, blue on the light one: a colour edge on the lightness edge, as a coloured region against paper.
    let side = 64, edge = 33
    var guide = Image(width: side, height: side, channels: 1)
    var truth = Image(width: side, height: side, channels: 2)
    for y in 0 ..< side {
        for x in 0 ..< side {
            let left = x < edge
            guide[x, y, 0] = left ? 0.2 : 0.9
            truth[x, y, 0] = left ? 60 : -20
            truth[x, y, 1] = left ? 40 : -50
        }
    }
    let lowGuide = guide.areaResized(width: 32, height: 32), low = truth.areaResized(width: 32, height: 32)
    let guided = try guidedUpsample(low, lowGuide: lowGuide, guide: guide, radius: 2, epsilon: 1e-3)
    let bilinear = low.resized(width: side, height: side)
    func worst(_ image: Image) -> Float { zip(image.pixels, truth.pixels).map { abs($0 - $1) }.max()! }
    // Bilinear smears the edge over several pixels (errors of tens of a*b* units); the guided filter
    // steps with the page.
    #expect(worst(bilinear) > 20)
    #expect(worst(guided) < 2)
    // A flat colour stays flat whatever the page does.
    let flat = Image(width: 32, height: 32, channels: 1, fill: 7)
    let out = try guidedUpsample(flat, lowGuide: lowGuide, guide: guide, radius: 2, epsilon: 1e-3)
    #expect(out.pixels.allSatisfy { abs($0 - 7) < 1e-3 })
    #expect(throws: ImageError.self) { try guidedUpsample(flat, lowGuide: guide, guide: guide, radius: 2, epsilon: 1e-3) }
}

@Test func theGeneratorRunsAtTheReducedScaleAndThePageKeepsItsSize() throws {
    let page = synthesizePage(width: 150, height: 130, seed: 3).color.luminance()
    var seen: [[Int]] = []
    // A generator that colours by lightness: dark red, light blue (RGB in [-1, 1]).
    let generator: (Tensor) throws -> Tensor = { x in
        seen.append(x.shape)
        let v = Array(x.floats)
        return Tensor(shape: [1, 3, x.shape[2], x.shape[3]], floats: v.map { $0 < 0 ? 0.6 : -0.6 } + v.map { _ in -0.6 }
            + v.map { $0 < 0 ? -0.6 : 0.6 })
    }
    // The raw output (no keep-lines), so the colour seen is the upsampled model colour.
    var options = ColorizeOptions(keepLines: false)
    options.pageKind = .grey
    options.reducedScale.scale = 0.5
    guard case .colorized(let out) = try colorizePage(page, options: options, generator: generator) else {
        Issue.record("the page was skipped"); return
    }
    #expect(out.width == 150 && out.height == 130 && out.channels == 3)
    // 75x65 padded to the multiple of 64.
    #expect(seen == [[1, 1, 128, 128]])
    // The colour follows the page: dark pixels red (b* > 0), light ones blue (b* < 0).
    let lab = out.lab(), n = out.planeSize
    var agree = 0
    for i in 0 ..< n where abs(page.pixels[i] - 0.5) > 0.2 {
        if (page.pixels[i] < 0.5) == (lab.pixels[2 * n + i] > 0) { agree += 1 }
    }
    #expect(Double(agree) > 0.95 * Double(page.pixels.filter { abs($0 - 0.5) > 0.2 }.count))
    options.reducedScale.scale = 0
    #expect(throws: ImageError.self) { try colorizePage(page, options: options, generator: generator) }
}

@Test func pairsAtAReducedPageScaleCoverMorePageAndAreAreaReduced() {
    // A one-pixel checkerboard page: at page scale 0.5 the 32x32 pair covers 64x64 page pixels, area-reduced
    // to flat grey; at scale 1 the checkerboard survives (up to the scale jitter's resampling).
    var checker = Image(width: 200, height: 200, channels: 3)
    for i in checker.pixels.indices {
        let x = i % 200, y = (i / 200) % 200
        checker.pixels[i] = Float((x + y) % 2)
    }
    var rng = SplitMix64(seed: 5)
    var options = AugmentOptions(size: 32, scale: 1 ... 1, flip: false, input: .grey, toneGamma: nil)
    options.pageScale = 0.5
    let half = makeTrainingPair(from: checker, options: options, rng: &rng)
    #expect(half.input.width == 32 && half.target.width == 32)
    #expect(half.input.pixels.allSatisfy { abs($0 - 0.5) < 1e-5 })
    options.pageScale = 1
    let full = makeTrainingPair(from: checker, options: options, rng: &rng)
    #expect(full.input.pixels.contains { $0 < 0.01 } && full.input.pixels.contains { $0 > 0.99 })
}
