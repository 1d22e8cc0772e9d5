import Foundation
import Testing
import Tensor
@testable import Colorize

@Test func pairsHaveTheRequestedShapeAndMatch() {
    let page = synthesizePage(width: 200, height: 150, seed: 8).color
    var rng = SplitMix64(seed: 1)
    for style in [InputStyle.grey, .manga, .mixed(mangaShare: 0.5)] {
        let pair = makeTrainingPair(from: page, options: AugmentOptions(size: 64, input: style, toneGamma: nil), rng: &rng)
        #expect(pair.input.width == 64 && pair.input.height == 64 && pair.input.channels == 1)
        #expect(pair.target.width == 64 && pair.target.height == 64 && pair.target.channels == 3)
        if style == .grey { #expect(maxDifference(pair.input, pair.target.luminance()) == 0) }
        if style == .manga {
            // Rendered as manga, then descreened as colorize does: values in [0, 1], and no longer the
            // plain luma of the target.
            #expect(pair.input.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(maxDifference(pair.input, pair.target.luminance()) > 0.05)
        }
    }
}

@Test func greyInputsGetAToneCurveAndTheTargetKeepsItsColours() {
    let page = synthesizePage(width: 200, height: 150, seed: 8).color
    var plainRng = SplitMix64(seed: 4), jitterRng = SplitMix64(seed: 4)
    let plain = makeTrainingPair(from: page, options: AugmentOptions(size: 64, input: .grey, toneGamma: nil), rng: &plainRng)
    let jittered = makeTrainingPair(from: page, options: AugmentOptions(size: 64, input: .grey, toneGamma: 0.5 ... 0.5), rng: &jitterRng)
    #expect(jittered.target == plain.target)
    for (a, b) in zip(jittered.input.pixels, plain.input.pixels) { #expect(abs(a - b.squareRoot()) < 1e-5) }
}

@Test func cropWithoutScaleOrFlipIsAPlainCrop() {
    let page = synthesizePage(width: 120, height: 100, seed: 3).color
    var rng = SplitMix64(seed: 2)
    let pair = makeTrainingPair(from: page, options: AugmentOptions(size: 40, scale: 1 ... 1, flip: false, input: .grey),
                                rng: &rng)
    // Find the crop in the page: some offset must match exactly.
    var found = false
    for y in 0 ... 60 where !found {
        for x in 0 ... 80 where !found {
            let corners = (0 ..< 3).allSatisfy { c in
                page[x, y, c] == pair.target[0, 0, c] && page[x + 39, y + 39, c] == pair.target[39, 39, c]
            }
            if corners { found = maxDifference(page.cropped(x: x, y: y, width: 40, height: 40), pair.target) == 0 }
        }
    }
    #expect(found)
}

@Test func smallPagesAreScaledUpToTheCropSize() {
    let page = Image(width: 30, height: 20, channels: 3, fill: 0.25)
    var rng = SplitMix64(seed: 5)
    let pair = makeTrainingPair(from: page, options: AugmentOptions(size: 64, input: .grey), rng: &rng)
    #expect(pair.target.width == 64 && pair.target.pixels.allSatisfy { abs($0 - 0.25) < 1e-6 })
}

@Test func resizeAndFlipBasics() {
    let image = Image(width: 3, height: 1, channels: 1, pixels: [0, 0.5, 1])
    #expect(image.flippedHorizontally().pixels == [1, 0.5, 0])
    #expect(image.resized(width: 3, height: 1) == image)
    let up = image.resized(width: 6, height: 2)
    #expect(up.pixels[0] == 0 && up.pixels[5] == 1 && up.pixels[6] == 0)
    // Half-pixel centres: output pixel 1 samples x = 0.25 between 0 and 0.5.
    #expect(abs(up.pixels[1] - 0.125) < 1e-6)
}

@Test func batchTensorsStackPairs() {
    let page = synthesizePage(width: 90, height: 90, seed: 1).color
    var rng = SplitMix64(seed: 9)
    let pairs = (0 ..< 3).map { _ in makeTrainingPair(from: page, options: AugmentOptions(size: 32), rng: &rng) }
    let (x, y) = batchTensors(pairs)
    #expect(x.shape == [3, 1, 32, 32] && y.shape == [3, 3, 32, 32])
    #expect(x.floats[32 * 32 + 5] == pairs[1].input.pixels[5] * 2 - 1)
    #expect(y.floats.allSatisfy { $0 >= -1 && $0 <= 1 })
}

@Test func loaderIsDeterministicWhateverTheWorkers() throws {
    let pages: [PageSource] = [.image(synthesizePage(width: 100, height: 80, seed: 1).color),
                               .image(synthesizePage(width: 80, height: 100, seed: 2).color),
                               .synthetic(width: 64, height: 64)]
    let options = AugmentOptions(size: 32)
    let one = PairLoader(pages: pages, options: options, seed: 77, capacity: 2, workers: 1)
    let three = PairLoader(pages: pages, options: options, seed: 77, capacity: 4, workers: 3)
    for _ in 0 ..< 9 {
        let a = try one.next(), b = try three.next()
        #expect(a.input == b.input && a.target == b.target)
    }
    one.stop()
    three.stop()
}

@Test func loaderReportsBadFilesAndGoesOn() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let good = folder + "/good.png", bad = folder + "/bad.png"
    try writePNG(synthesizePage(width: 48, height: 48, seed: 1).color, path: good)
    try Data("not a png".utf8).write(to: URL(fileURLWithPath: bad))
    let loader = PairLoader(pages: [.file(good), .file(bad)], options: AugmentOptions(size: 16), seed: 1, workers: 2)
    var failures = 0, successes = 0
    for _ in 0 ..< 6 {
        do { _ = try loader.next(); successes += 1 } catch { failures += 1; #expect("\(error)".contains("bad.png")) }
    }
    // Epochs visit each page once: 3 of each.
    #expect(failures == 3 && successes == 3)
}
