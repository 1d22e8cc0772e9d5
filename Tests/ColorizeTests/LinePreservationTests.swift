import Testing
import Tensor
@testable import Colorize

/// Random colours, including saturated ones that fall out of gamut at other lightnesses.
private func randomColours(width: Int, height: Int, seed: UInt64) -> Image {
    var rng = SplitMix64(seed: seed)
    return Image(width: width, height: height, channels: 3,
                 pixels: (0 ..< 3 * width * height).map { _ in rng.chance(0.3) ? Float(rng.int(below: 2)) : Float(rng.nextDouble()) })
}

private func lightness(_ image: Image, _ i: Int) -> Double {
    let n = image.planeSize
    if image.channels == 1 { return lightnessOfGrey(Double(image.pixels[i])) }
    return rgbToLab(Double(image.pixels[i]), Double(image.pixels[n + i]), Double(image.pixels[2 * n + i])).l
}

@Test func keepLinesKeepsLightnessExactly() throws {
    let page = synthesizePage(width: 96, height: 80, seed: 11)
    for original in [page.lineArt, page.color.luminance(), page.color] {
        let generated = randomColours(width: 96, height: 80, seed: 5)
        let out = try keepLines(original: original, generated: generated)
        #expect(out.channels == 3)
        var worst = 0.0
        for i in 0 ..< out.planeSize { worst = max(worst, abs(lightness(out, i) - lightness(original, i))) }
        #expect(worst < 1e-3, "max |ΔL*| \(worst)")
        #expect(out.pixels.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}

@Test func keepLinesKeepsTheGeneratedHueWhereItFits() throws {
    // A mid-grey page and a mid-lightness colour: the colour comes through almost unchanged.
    let colour: [Float] = [0.7, 0.4, 0.3]
    let lab = rgbToLab(0.7, 0.4, 0.3)
    var lo = 0.0, hi = 1.0 // the grey with the colour's L*, by bisection
    for _ in 0 ..< 60 { let mid = (lo + hi) / 2; if lightnessOfGrey(mid) < lab.l { lo = mid } else { hi = mid } }
    let original = Image(width: 4, height: 4, channels: 1, fill: Float(lo))
    let generated = Image(width: 4, height: 4, channels: 3, pixels: colour.flatMap { [Float](repeating: $0, count: 16) })
    let out = try keepLines(original: original, generated: generated)
    #expect(maxDifference(out, generated) < 1e-4)
}

@Test func keepLinesRejectsMismatchedSizes() {
    #expect(throws: ImageError.self) {
        try keepLines(original: Image(width: 4, height: 4, channels: 1), generated: Image(width: 5, height: 4, channels: 3))
    }
}

@Test func colourPagesAreRecognised() {
    let page = synthesizePage(width: 96, height: 128, seed: 2)
    #expect((chromaStatistics(page.color).vividShare > 0.05))
    #expect(!(chromaStatistics(page.color.luminance()).vividShare > 0.05))
    #expect(!(chromaStatistics(page.color.luminance().rgb()).vividShare > 0.05))
    #expect(!(chromaStatistics(page.lineArt).vividShare > 0.05))
    // A yellowed paper scan (C*ab about 12 everywhere, a mean chroma above many colour pages' mean):
    // still black and white.
    var yellowed = page.color.luminance().rgb()
    for i in 0 ..< yellowed.planeSize { yellowed.pixels[2 * yellowed.planeSize + i] *= 0.88 }
    let stats = chromaStatistics(yellowed)
    #expect(stats.mean > 5 && stats.vividShare < 0.05 && !(chromaStatistics(yellowed).vividShare > 0.05), "\(stats)")
}
