import Foundation
import Tensor
import Testing
@testable import Colorize

/// A white page with ink-outlined rectangles filled with `colours`, each at `boxes[i]` (x0, y0, x1, y1 as shares
/// of the side).
private func outlinedPage(side: Int, boxes: [(Double, Double, Double, Double)], colours: [[Float]]) -> Image {
    var page = Image(width: side, height: side, channels: 3, fill: 1)
    for (box, colour) in zip(boxes, colours) {
        let x0 = Int(box.0 * Double(side)), y0 = Int(box.1 * Double(side)), x1 = Int(box.2 * Double(side)), y1 = Int(box.3 * Double(side))
        for y in y0..<y1 {
            for x in x0..<x1 {
                let border = x < x0 + 3 || x >= x1 - 3 || y < y0 + 3 || y >= y1 - 3
                for c in 0..<3 { page.pixels[(c * side + y) * side + x] = border ? 0 : colour[c] }
            }
        }
    }
    return page
}

@Test func regionsTakeTheColoursOfTheReferenceRegionsTheyLookLike() throws {
    // Four pastel-to-mid colours of distinct lightness (what a series' palette looks like in grey).
    let colours: [[Float]] = [[0.85, 0.35, 0.35], [0.35, 0.6, 0.35], [0.55, 0.7, 0.95], [0.98, 0.9, 0.55]]
    // Objects of 4-6 % of the page each (larger regions are gutters and backgrounds, left alone).
    let reference = outlinedPage(side: 200, boxes: [(0.05, 0.05, 0.25, 0.25), (0.55, 0.08, 0.78, 0.3),
                                                    (0.08, 0.55, 0.28, 0.78), (0.55, 0.55, 0.76, 0.76)], colours: colours)
    // The same shapes on another page, moved and rescaled, in grey.
    let boxes = [(0.1, 0.1, 0.27, 0.27), (0.6, 0.05, 0.85, 0.28), (0.05, 0.6, 0.22, 0.8), (0.5, 0.62, 0.74, 0.86)]
    let truth = outlinedPage(side: 240, boxes: boxes, colours: colours)
    let page = truth.luminance()
    var options = ColorizeOptions(keepLines: true)
    options.pageKind = .grey
    options.palette = try ReferencePalette(references: [reference])
    // A generator that knows nothing: beige everywhere.
    let beige: (Tensor) throws -> Tensor = { x in
        let plane = x.shape[2] * x.shape[3]
        return Tensor(shape: [1, 3, x.shape[2], x.shape[3]], floats: [Float](repeating: 0.6, count: plane)
            + [Float](repeating: 0.4, count: plane) + [Float](repeating: 0.1, count: plane))
    }
    guard case .colorized(let out) = try colorizePage(page, options: options, generator: beige) else { Issue.record("skipped"); return }
    let n = out.planeSize
    for (box, colour) in zip(boxes, colours) {
        // The centre of each box.
        let x = Int((box.0 + box.2) / 2 * 240), y = Int((box.1 + box.3) / 2 * 240), i = y * 240 + x
        let got = rgbToLab(Double(out.pixels[i]), Double(out.pixels[n + i]), Double(out.pixels[2 * n + i]))
        let want = rgbToLab(Double(colour[0]), Double(colour[1]), Double(colour[2]))
        let difference = ciede2000(got, want)
        #expect(difference < 5, "region of \(colour): ΔE2000 \(difference)")
    }
    // Without the reference the beige stays.
    options.palette = nil
    guard case .colorized(let plain) = try colorizePage(page, options: options, generator: beige) else { return }
    let i = 44 * 240 + 44
    let lab = rgbToLab(Double(plain.pixels[i]), Double(plain.pixels[n + i]), Double(plain.pixels[2 * n + i]))
    #expect(lab.b > 20)
}

@Test func aGreyReferenceOrOneWithoutRegionsIsRefused() {
    #expect(throws: ImageError.self) { try ReferencePalette(references: [Image(width: 8, height: 8, channels: 1, fill: 0.5)]) }
    // All ink: no region.
    #expect(throws: ImageError.self) { try ReferencePalette(references: [Image(width: 16, height: 16, channels: 3, fill: 0)]) }
}

@Test func farAndHugeRegionsKeepTheModelsColour() throws {
    let reference = outlinedPage(side: 100, boxes: [(0.3, 0.3, 0.5, 0.5)], colours: [[0.9, 0.3, 0.3]])
    var options = PaletteOptions()
    options.maxDistance = 0.01
    let palette = try ReferencePalette(references: [reference], options: options)
    let page = outlinedPage(side: 100, boxes: [(0.3, 0.3, 0.52, 0.52)], colours: [[0.2, 0.2, 0.8]]).luminance()
    let generated = Image(width: 100, height: 100, channels: 3, fill: 0.5)
    #expect(try palette.recolour(generated: generated, page: page) == labImageToRGB(generated.lab()))
}

@Test func pageSizedRegionsAreNotRecoloured() throws {
    // The reference's one object and the page's one object match, but the page's paper (most of the page)
    // must keep the model's colour although the reference's paper is white.
    let reference = outlinedPage(side: 100, boxes: [(0.3, 0.3, 0.5, 0.5)], colours: [[0.9, 0.3, 0.3]])
    let palette = try ReferencePalette(references: [reference])
    #expect(palette.regions.count == 1)
    let page = outlinedPage(side: 100, boxes: [(0.4, 0.4, 0.6, 0.6)], colours: [[0.9, 0.3, 0.3]]).luminance()
    let generated = Image(width: 100, height: 100, channels: 3, fill: 0.5)
    let out = try palette.recolour(generated: generated, page: page)
    let n = 10_000, paper = 5 * 100 + 5, object = 50 * 100 + 50
    #expect(abs(out.pixels[paper] - out.pixels[n + paper]) < 1e-4)
    #expect(out.pixels[object] > out.pixels[n + object] + 0.2)
}
