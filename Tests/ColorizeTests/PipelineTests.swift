import Foundation
import Tensor
import Testing
@testable import Colorize

/// A stand-in generator: tints grey toward orange, keeps the size ([1, 1, H, W] -> [1, 3, H, W], [-1, 1]).
private func tint(_ t: Tensor) -> Tensor {
    let h = t.shape[2], w = t.shape[3], n = h * w
    let out = Tensor(uninitialized: [1, 3, h, w], dtype: .float32)
    let src = t.floats, dst = out.floats
    for i in 0 ..< n {
        dst[i] = min(src[i] + 0.3, 1)
        dst[n + i] = src[i]
        dst[2 * n + i] = max(src[i] - 0.3, -1)
    }
    return out
}

@Test func pipelineColorizesGreyAndSkipsColour() throws {
    let page = synthesizePage(width: 100, height: 140, seed: 6)
    guard case .colorized(let out) = try colorizePage(page.lineArt, generator: tint) else {
        Issue.record("a black-and-white page was skipped")
        return
    }
    #expect(out.width == 100 && out.height == 140 && out.channels == 3)
    #expect((chromaStatistics(out).vividShare > 0.05) || colourfulness(out) > 5)
    guard case .alreadyColor(let share) = try colorizePage(page.color, generator: tint) else {
        Issue.record("a colour page was not skipped")
        return
    }
    #expect(share > 0.05)
}

@Test func pipelineOptionsCompose() throws {
    let page = synthesizePage(width: 80, height: 96, seed: 12)
    let lines = Image(width: 80, height: 96, channels: 1, pixels: page.labels.map { $0 < 0 ? 0 : 1 })
    let options = ColorizeOptions(keepLines: true, flat: true, tiling: TilingOptions(multiple: 16, tileSize: 32, overlap: 8))
    guard case .colorized(let out) = try colorizePage(lines, options: options, generator: tint) else {
        Issue.record("skipped")
        return
    }
    #expect(out.width == 80 && out.height == 96)
    // Ink stays black: keep-lines took L* = 0 from the page.
    for i in 0 ..< out.planeSize where lines.pixels[i] == 0 { #expect(out.pixels[i] == 0) }
}

@Test func pipelineFeedsThreeChannelZeroToOneModels() throws {
    let page = Image(width: 20, height: 20, channels: 1, fill: 0.5)
    var seen: [Int] = []
    let options = ColorizeOptions(tiling: TilingOptions(multiple: 8), inputChannels: 3, range: .zeroToOne)
    guard case .colorized(let out) = try colorizePage(page, options: options, generator: { t in
        seen = t.shape
        #expect(t.floats.allSatisfy { $0 == 0.5 })
        return t.copy()
    }) else { Issue.record("skipped"); return }
    #expect(seen == [1, 3, 24, 24])
    #expect(out.pixels.allSatisfy { $0 == 0.5 })
}

@Test func evaluationReportOfIdenticalPages() throws {
    let page = synthesizePage(width: 64, height: 64, seed: 2).color
    let report = try evaluate(generated: page, reference: page)
    #expect(report.psnr == .infinity && report.ssim == 1 && report.ciede2000 == 0)
    #expect(report.colourfulness == report.referenceColourfulness)
}

@Test func syntheticPagesAreWrittenInPairs() throws {
    let folder = try Fixtures.scratchFolder() + "/synth"
    defer { try? FileManager.default.removeItem(atPath: (folder as NSString).deletingLastPathComponent) }
    let paths = try writeSyntheticPages(folder: folder, count: 2, width: 48, height: 64, seed: 3)
    #expect(paths.count == 2)
    #expect(try listImages(in: folder).map { ($0 as NSString).lastPathComponent }
        == ["synth_00000_color.png", "synth_00000_manga.png", "synth_00001_color.png", "synth_00001_manga.png"])
    let colour = try readImage(path: paths[0]), manga = try readImage(path: folder + "/synth_00000_manga.png")
    #expect(colour.channels == 3 && manga.channels == 1 && colour.width == 48 && manga.height == 64)
}

@Test func evaluatingAColorizerColorizesTheGreyVersion() throws {
    let page = synthesizePage(width: 64, height: 64, seed: 4).color
    let options = ColorizeOptions(tiling: TilingOptions(multiple: 16))
    let (report, output) = try evaluateColorizer(on: page, options: options, generator: tint)
    #expect(output.channels == 3 && output.width == 64)
    #expect(report.psnr.isFinite && report.ssim < 1 && report.ciede2000 > 0)
}
