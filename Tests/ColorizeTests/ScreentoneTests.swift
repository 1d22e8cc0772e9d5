import Foundation
import Tensor
import Testing
@testable import Colorize

// Page analysis, descreening and manga compositing (PageAnalysis.swift, Descreen.swift,
// MangaCompositing.swift): on synthetic screens whose coverage is known, and through the pipeline with a
// test-double generator whose colour is known.

/// A uniform tone of darkness `darkness`, rendered with `screen` at `period` and `angle`: every pixel is
/// screen (no ink, no paper).
private func uniformScreen(_ screen: Screen, period: Double, angle: Double, darkness: Float, side: Int = 160) -> Image {
    let grey = Image(width: side, height: side, channels: 1, fill: 1 - darkness)
    return mangaStyle(grey, style: MangaStyle(inkBelow: 0, paperAbove: 1, period: period, angle: angle, toneSteps: 0,
                                              screen: screen))
}

/// Mean over the central square (a margin of `margin` pixels left out).
private func centralMean(_ image: Image, margin: Int) -> Double {
    var sum = 0.0, count = 0
    for y in margin ..< image.height - margin {
        for x in margin ..< image.width - margin {
            sum += Double(image.pixels[y * image.width + x])
            count += 1
        }
    }
    return sum / Double(count)
}

struct ScreenCase: CustomTestStringConvertible, Sendable {
    let screen: Screen
    let period: Double
    let angle: Double
    var testDescription: String { "\(screen) \(period) px \(angle)°" }
}

private let screenCases = [
    ScreenCase(screen: .dots, period: 4, angle: 45), ScreenCase(screen: .dots, period: 6, angle: 0),
    ScreenCase(screen: .dots, period: 9, angle: 30), ScreenCase(screen: .dots, period: 7, angle: 75),
    ScreenCase(screen: .lines, period: 5, angle: 60), ScreenCase(screen: .lines, period: 8, angle: 15),
]

@Test(arguments: screenCases)
func descreeningReturnsTheCoverage(_ c: ScreenCase) {
    for darkness: Float in [0.2, 0.45, 0.7] {
        let page = uniformScreen(c.screen, period: c.period, angle: c.angle, darkness: darkness)
        let coverage = 1 - centralMean(page, margin: 30)
        let analysis = analyzeScreentone(page)
        // Screen edges (the image border here) are the hardest: at most ~2 % of a line screen stays ink there.
        #expect(analysis.inkShare < 0.03, "\(c.testDescription) at \(darkness): \(analysis.inkShare) of the screen taken for ink")
        let fill = descreen(page, analysis: analysis).fill
        let got = 1 - centralMean(fill, margin: 30)
        #expect(abs(got - coverage) <= 0.05, "\(c.testDescription) at \(darkness): coverage \(coverage), descreened \(got)")
        // Flat, not just right on average: the screen's ripple is gone.
        var worst: Float = 0
        for y in 30 ..< 130 { for x in 30 ..< 130 { worst = max(worst, abs(fill.pixels[y * 160 + x] - Float(1 - coverage))) } }
        #expect(worst <= 0.1, "\(c.testDescription) at \(darkness): descreened tone varies by \(worst)")
    }
}

@Test func dotScreensPrintTheirStatedCoverage() {
    for darkness: Float in [0.1, 0.3, 0.5, 0.8] {
        let page = uniformScreen(.dots, period: 8, angle: 45, darkness: darkness, side: 256)
        #expect(abs((1 - centralMean(page, margin: 0)) - Double(darkness)) < 0.03)
    }
}

@Test func pageKindSeparatesGreyFromScreentone() {
    let page = synthesizePage(width: 200, height: 280, seed: 3)
    #expect(classifyPage(page.lineArt).kind == .manga)
    #expect(classifyPage(page.color).kind == .grey)
    // A smooth grey gradient (a greyscale render) and the same page blurred like a soft scan of it.
    var gradient = Image(width: 120, height: 90, channels: 1)
    for y in 0 ..< 90 { for x in 0 ..< 120 { gradient.pixels[y * 120 + x] = 0.1 + 0.8 * Float(x) / 119 } }
    #expect(classifyPage(gradient).kind == .grey)
    #expect(classifyPage(gaussianBlurred(page.lineArt, sigma: 0.6)).kind == .manga)
}

@Test func lineScreensAreFoundAndInkIsNot() {
    // Left: a line screen; right: paper with three isolated ink strokes and a small "glyph" (a 田 shape).
    var grey = Image(width: 200, height: 120, channels: 1, fill: 1)
    for y in 0 ..< 120 { for x in 0 ..< 100 { grey.pixels[y * 200 + x] = 0.6 } }
    var page = mangaStyle(grey, style: MangaStyle(inkBelow: 0, paperAbove: 0.99, period: 6, angle: 30, toneSteps: 0, screen: .lines))
    for y in 10 ..< 110 { for x in [120, 140, 141, 160] { page.pixels[y * 200 + x] = 0 } }
    for y in 40 ..< 57 { for x in 170 ..< 187 where (y - 40) % 8 == 0 || (x - 170) % 8 == 0 { page.pixels[y * 200 + x] = 0 } }
    let analysis = analyzeScreentone(page)
    for y in 10 ..< 110 { for x in [120, 140, 141, 160] { #expect(analysis.ink[y * 200 + x]) } }
    // A 田 is three strokes and two counters — regular runs — but it is glyph-sized and borders paper.
    for y in 40 ..< 57 { for x in 170 ..< 187 where page.pixels[y * 200 + x] == 0 { #expect(analysis.ink[y * 200 + x]) } }
    var screenInk = 0
    for y in 20 ..< 100 { for x in 20 ..< 80 where analysis.ink[y * 200 + x] { screenInk += 1 } }
    #expect(screenInk == 0)
}

/// A test double: the same colour everywhere, whatever the input ([-1, 1] RGB out).
private func constantColour(_ rgb: (Float, Float, Float)) -> (Tensor) throws -> Tensor {
    { t in
        let h = t.shape[2], w = t.shape[3], n = h * w
        let out = Tensor(uninitialized: [1, 3, h, w], dtype: .float32)
        let dst = out.floats
        for i in 0 ..< n { dst[i] = rgb.0 * 2 - 1; dst[n + i] = rgb.1 * 2 - 1; dst[2 * n + i] = rgb.2 * 2 - 1 }
        return out
    }
}

private func lab(_ image: Image, _ i: Int) -> (l: Double, a: Double, b: Double) {
    let n = image.planeSize, p = image.pixels
    return rgbToLab(Double(p[i]), Double(p[n + i]), Double(p[2 * n + i]))
}

@Test func mangaPageTakesTheColourInToneAndPaperAndKeepsInkBlack() throws {
    // Left: a 40 % dot screen; an ink line; right: white paper.
    var grey = Image(width: 192, height: 128, channels: 1, fill: 1)
    for y in 0 ..< 128 { for x in 0 ..< 90 { grey.pixels[y * 192 + x] = 0.6 } }
    var page = mangaStyle(grey, style: MangaStyle(inkBelow: 0, paperAbove: 0.99, period: 6, angle: 45, toneSteps: 0))
    for y in 0 ..< 128 { for x in 92 ..< 96 { page.pixels[y * 192 + x] = 0 } }
    // A panel border: paper outside it is the page's margin, which stays white (MangaCompositing.swift).
    for y in 0 ..< 128 { for x in 0 ..< 192 where (x >= 3 && x < 5 && y >= 3 && y < 125) || (x >= 187 && x < 189 && y >= 3 && y < 125)
        || ((y >= 3 && y < 5 || y >= 123 && y < 125) && x >= 3 && x < 189) { page.pixels[y * 192 + x] = 0 } }
    let orange = (Float(0.95), Float(0.55), Float(0.2))
    let want = rgbToLab(Double(orange.0), Double(orange.1), Double(orange.2))
    let options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 16))
    guard case .colorized(let result) = try colorizePageDetailed(page, options: options, generator: constantColour(orange))
    else { Issue.record("skipped"); return }
    #expect(result.kind == .manga)
    let out = result.image
    func hue(_ c: (l: Double, a: Double, b: Double)) -> Double { atan2(c.b, c.a) * 180 / .pi }
    for (x, y) in [(40, 60), (20, 100), (150, 60), (180, 20)] {
        let got = lab(out, y * 192 + x)
        #expect(abs(hue(got) - hue(want)) < 8, "(\(x), \(y)): hue \(hue(got)) vs \(hue(want))")
        #expect((got.a * got.a + got.b * got.b).squareRoot() > 20, "(\(x), \(y)): no colour")
    }
    // Tone at its descreened lightness (40 % coverage ~ grey 0.6), paper at the model's.
    #expect(abs(lab(out, 60 * 192 + 40).l - lightnessOfGrey(0.6)) < 5)
    #expect(abs(lab(out, 60 * 192 + 150).l - want.l) < 2)
    for y in 0 ..< 128 { for x in 92 ..< 96 { #expect(lab(out, y * 192 + x).l <= 20) } }
}

@Test func inkOfASyntheticPageStaysBlack() throws {
    let page = synthesizePage(width: 256, height: 320, seed: 11)
    let options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 32))
    guard case .colorized(let result) = try colorizePageDetailed(page.lineArt, options: options,
                                                                 generator: constantColour((0.3, 0.6, 0.9)))
    else { Issue.record("skipped"); return }
    var ink = 0, dark = 0
    for i in 0 ..< page.labels.count where page.labels[i] < 0 {
        ink += 1
        if lab(result.image, i).l <= 20 { dark += 1 }
    }
    #expect(ink > 0)
    // Known gap: outlines as thin as the dots, inside ~50 % screens, are read as screen (regular runs) or
    // as the net of a dark tone and descreened with it: measured 67 % of this page's ink pixels stay at
    // L* <= 20 (the E20 renders' solid ink: mean L* 17).
    #expect(Double(dark) / Double(ink) > 0.6, "\(dark) of \(ink) ink pixels at L* <= 20")
    withKnownIssue("outlines inside dark or ~50 % screens are descreened with them") {
        #expect(Double(dark) / Double(ink) > 0.97, "\(dark) of \(ink) ink pixels at L* <= 20")
    }
}

@Test func greyPagesKeepTheirLightnessExactly() throws {
    var grey = Image(width: 96, height: 64, channels: 1)
    for y in 0 ..< 64 { for x in 0 ..< 96 { grey.pixels[y * 96 + x] = 0.05 + 0.9 * Float(x + y) / 158 } }
    let options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 16))
    guard case .colorized(let result) = try colorizePageDetailed(grey, options: options, generator: constantColour((0.9, 0.5, 0.3)))
    else { Issue.record("skipped"); return }
    #expect(result.kind == .grey)
    for i in 0 ..< grey.planeSize {
        #expect(abs(lab(result.image, i).l - lightnessOfGrey(Double(grey.pixels[i]))) < 1e-3)
    }
}

@Test func layersAndForcedKindsAreReported() throws {
    let page = synthesizePage(width: 96, height: 128, seed: 5).lineArt
    var options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 32))
    options.keepLayers = true
    guard case .colorized(let manga) = try colorizePageDetailed(page, options: options, generator: constantColour((0.5, 0.5, 0.5)))
    else { Issue.record("skipped"); return }
    #expect(manga.layers.map(\.name) == ["ink", "tone", "descreened", "model"])
    #expect(manga.smoothMidShare != nil)
    options.pageKind = .grey
    guard case .colorized(let grey) = try colorizePageDetailed(page, options: options, generator: constantColour((0.5, 0.5, 0.5)))
    else { Issue.record("skipped"); return }
    #expect(grey.kind == .grey && grey.smoothMidShare == nil && grey.layers.map(\.name) == ["model"])
}

@Test func mangaEvaluationScoresAgainstBothBaselines() throws {
    let page = synthesizePage(width: 128, height: 128, seed: 2).color
    let options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 32))
    let (quality, output) = try evaluateOnManga(page, options: options, generator: constantColour((0.6, 0.6, 0.6)))
    #expect(output.width == 128 && output.channels == 3)
    #expect(quality.mangaShare == 1)
    #expect(quality.model.ciede2000.isFinite && quality.binary.ciede2000 > 0 && quality.descreened.ciede2000 > 0)
    #expect(quality.inkLightness <= 20)
}

/// The real Black Jack scans (inputs only, never committed: see the workspace's data/SOURCES.md), when this
/// checkout sits beside the workspace's shared/ folder; skipped elsewhere (CI).
private let blackJack = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/black-jack-bw").path

@Test(.enabled(if: FileManager.default.fileExists(atPath: blackJack)),
      arguments: ["bj_v01_pdf021.png", "bj_v01_pdf145.png"])
func blackJackPagesAreMangaAndDescreenSmoothly(_ name: String) throws {
    let page = try readImage(path: (blackJack as NSString).appendingPathComponent(name)).luminance()
    let (kind, share) = classifyPage(page)
    #expect(kind == .manga && share < 0.01, "\(name): \(kind), flat mid-grey share \(share)")
    let analysis = analyzeScreentone(page)
    #expect(analysis.inkShare > 0.02 && analysis.inkShare < 0.3, "\(name): ink share \(analysis.inkShare)")
    #expect(analysis.toneShare > 0.1, "\(name): tone share \(analysis.toneShare)")
    // No moiré: in toned areas away from ink, the descreened page's 3x3 variation is a small fraction of
    // the screen's (edges between tones and paper remain, so this compares medians).
    let fill = descreen(page, analysis: analysis).fill
    func variation(_ values: [Float]) -> [Float] {
        let high = slidingExtreme(values, width: page.width, height: page.height, radius: 1, maximum: true)
        let low = slidingExtreme(values, width: page.width, height: page.height, radius: 1, maximum: false)
        return zip(high, low).map { $0 - $1 }
    }
    let before = variation(page.pixels), after = variation(fill.pixels)
    let toInk = chamferDistance(to: analysis.ink, width: page.width, height: page.height)
    var screen: [Double] = [], descreened: [Double] = []
    for i in 0 ..< page.planeSize where analysis.tone[i] && toInk[i] > 3 {
        screen.append(Double(before[i]))
        descreened.append(Double(after[i]))
    }
    #expect(screen.count > page.planeSize / 20)
    let ratio = median(descreened) / max(median(screen), 1e-6)
    #expect(ratio < 0.25, "\(name): toned areas vary \(median(screen)) across 3x3 on the page, \(median(descreened)) descreened")
}

@Test func degeneratePagesGoThroughTheMangaPath() throws {
    var options = ColorizeOptions(keepLines: true, tiling: TilingOptions(multiple: 8))
    options.pageKind = .manga
    let pages = [Image(width: 1, height: 1, channels: 1, fill: 0), Image(width: 3, height: 200, channels: 1, fill: 1),
                 Image(width: 64, height: 64, channels: 1, fill: 0), Image(width: 64, height: 64, channels: 1, fill: 1),
                 uniformScreen(.dots, period: 12, angle: 10, darkness: 0.95, side: 40)]
    for page in pages {
        guard case .colorized(let result) = try colorizePageDetailed(page, options: options, generator: constantColour((0.2, 0.7, 0.4)))
        else { Issue.record("skipped"); continue }
        #expect(result.image.width == page.width && result.image.height == page.height)
        #expect(result.image.pixels.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
    }
}
