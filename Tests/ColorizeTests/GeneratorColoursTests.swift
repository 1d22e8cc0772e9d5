import Foundation
import Tensor
import Testing
import Training
@testable import Colorize

@Test func labTargetsAndLabOutputsRoundTrip() throws {
    let page = Image(width: 3, height: 1, channels: 3, pixels: [0.9, 0.2, 0.5, 0.3, 0.7, 0.5, 0.1, 0.2, 0.5])
    let lab = labTarget(page.tensor())
    let first = rgbToLab(0.9, 0.3, 0.1)
    #expect(abs(Double(lab.floats[0]) - (first.l / 50 - 1)) < 1e-5)
    #expect(abs(Double(lab.floats[3]) - first.a / 110) < 1e-5 && abs(Double(lab.floats[6]) - first.b / 110) < 1e-5)
    let back = try image(fromGeneratorOutput: lab, colour: .lab)
    for (a, b) in zip(back.pixels, page.pixels) { #expect(abs(a - b) < 1e-4) }
    // RGB output is read as before.
    #expect(try image(fromGeneratorOutput: page.tensor(), colour: .rgb).pixels == Image(tensor: page.tensor()).pixels)
    // Out-of-gamut Lab keeps its lightness; NaN does not travel on.
    let wild = Tensor(shape: [1, 3, 1, 2], floats: [0.2, .nan, 1, .nan, -1, 0])
    let out = try image(fromGeneratorOutput: wild, colour: .lab)
    #expect(out.pixels.allSatisfy { $0.isFinite && (0...1).contains($0) })
    let l = rgbToLab(Double(out.pixels[0]), Double(out.pixels[2]), Double(out.pixels[4])).l
    #expect(abs(l - 60) < 0.01)
    #expect(throws: ImageError.self) { try image(fromGeneratorOutput: Tensor(zeros: [1, 2, 1, 1]), colour: .lab) }
}

@Test func inGamutBinsCoverTheSRGBGamutAndNoMore() {
    let bins = inGamutABBins(binSize: 10)
    // Zhang et al. count 313 in-gamut bins of size 10; our probe of each cell finds about as many.
    #expect((250...360).contains(bins.count), "\(bins.count) bins")
    #expect(bins.contains([0, 0]))
    // Saturated yellow (b* ~ +90) is in the gamut, strong blue-green (a* -100, b* -100) is not.
    #expect(bins.contains([0, 90]) && !bins.contains([-100, -100]))
}

@Test func rebalancingWeighsRareColoursUpAndAveragesOneOverTheData() {
    // A page that is 90 % grey and 10 % vivid red.
    var page = Image(width: 20, height: 10, channels: 3, fill: 0.5)
    for y in 0..<10 { for x in 0..<2 { page.pixels[y * 20 + x] = 0.9; page.pixels[200 + y * 20 + x] = 0.1; page.pixels[400 + y * 20 + x] = 0.1 } }
    let bins = inGamutABBins(binSize: 20)
    let weights = rebalancingWeights(pages: [page], bins: bins, sigma: 5, mix: 0.5)
    let grey = bins.firstIndex(of: [0, 0])!
    let redLab = rgbToLab(0.9, 0.1, 0.1)
    let red = bins.indices.min { hypot(Double(bins[$0][0]) - redLab.a, Double(bins[$0][1]) - redLab.b) < hypot(Double(bins[$1][0]) - redLab.a, Double(bins[$1][1]) - redLab.b) }!
    #expect(weights[red] > 5 * weights[grey])
    let expected = 0.9 * Double(weights[grey]) + 0.1 * Double(weights[red])
    #expect(abs(expected - 1) < 1e-3)
    // mix 1: no rebalancing.
    #expect(rebalancingWeights(pages: [page], bins: bins, sigma: 5, mix: 1).allSatisfy { abs($0 - 1) < 1e-4 })
}

@Test func aLabGeneratorColoursTheGreyPipeline() throws {
    // A constant Lab generator: a* = +40 (red-ish) everywhere; keep-lines keeps the page's lightness.
    let page = Image(width: 64, height: 64, channels: 1, fill: 0.6)
    var options = ColorizeOptions(keepLines: true)
    options.outputColour = .lab
    options.pageKind = .grey
    let outcome = try colorizePage(page, options: options) { x in
        let plane = x.shape[2] * x.shape[3]
        return Tensor(shape: [1, 3, x.shape[2], x.shape[3]],
                      floats: Array(repeating: 0, count: plane) + Array(repeating: 40 / 110, count: plane) + Array(repeating: 0, count: plane))
    }
    guard case .colorized(let out) = outcome else { Issue.record("skipped"); return }
    let lab = rgbToLab(Double(out.pixels[100]), Double(out.pixels[4096 + 100]), Double(out.pixels[8192 + 100]))
    #expect(abs(lab.a - 40) < 1 && abs(lab.b) < 1)
    #expect(abs(lab.l - lightnessOfGrey(0.6)) < 1e-3)
}
