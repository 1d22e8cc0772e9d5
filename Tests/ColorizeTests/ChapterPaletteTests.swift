import Foundation
import Tensor
import Testing
@testable import Colorize

/// A white grey page with ink-outlined boxes of the given grey levels at `boxes[i]` (x0, y0, x1, y1 as shares).
private func boxesPage(side: Int, boxes: [(Double, Double, Double, Double)], greys: [Float]) -> Image {
    var page = Image(width: side, height: side, channels: 1, fill: 1)
    for (box, grey) in zip(boxes, greys) {
        let x0 = Int(box.0 * Double(side)), y0 = Int(box.1 * Double(side)), x1 = Int(box.2 * Double(side)), y1 = Int(box.3 * Double(side))
        for y in y0..<y1 {
            for x in x0..<x1 {
                page.pixels[y * side + x] = x < x0 + 3 || x >= x1 - 3 || y < y0 + 3 || y >= y1 - 3 ? 0 : grey
            }
        }
    }
    return page
}

/// Median a*, b* of the output over the inside of a box.
private func boxColour(_ image: Image, _ box: (Double, Double, Double, Double)) -> (a: Double, b: Double) {
    let lab = image.lab(), side = image.width, n = image.planeSize
    var a: [Float] = [], b: [Float] = []
    for y in Int(box.1 * Double(side)) + 6 ..< Int(box.3 * Double(side)) - 6 {
        for x in Int(box.0 * Double(side)) + 6 ..< Int(box.2 * Double(side)) - 6 {
            a.append(lab.pixels[n + y * side + x]); b.append(lab.pixels[2 * n + y * side + x])
        }
    }
    return (Double(a.sorted()[a.count / 2]), Double(b.sorted()[b.count / 2]))
}

@Test func regionsThatLookAlikeGetOneColourOnEveryPage() throws {
    // Two pages with the same two objects (a dark one and a light one) in other places and sizes.
    let first = [(0.1, 0.1, 0.3, 0.3), (0.6, 0.6, 0.8, 0.82)]
    let second = [(0.55, 0.15, 0.77, 0.36), (0.1, 0.55, 0.31, 0.75)]
    let greys: [Float] = [0.45, 0.75]
    let pages = [boxesPage(side: 160, boxes: first, greys: greys), boxesPage(side: 160, boxes: second, greys: greys)]
    // A model that colours by place: warmer on the left, redder at the top — so the same object gets
    // another colour on each page.
    let byPlace: (Tensor) throws -> Tensor = { x in
        let h = x.shape[2], w = x.shape[3]
        var out = [Float](repeating: 0, count: 3 * h * w)
        for y in 0..<h {
            for i in 0..<w {
                let left = Float(w - i) / Float(w), top = Float(h - y) / Float(h)
                out[y * w + i] = 0.8 * top - 0.1
                out[h * w + y * w + i] = 0.5 * left - 0.2
                out[2 * h * w + y * w + i] = -0.3
            }
        }
        return Tensor(shape: [1, 3, h, w], floats: out)
    }
    var options = ColorizeOptions(keepLines: true)
    options.pageKind = .grey
    func colourise(_ page: Image) throws -> Image {
        guard case .colorized(let out) = try colorizePage(page, options: options, generator: byPlace) else { throw ImageError.mismatch("skipped") }
        return out
    }
    let before = try pages.map(colourise)
    func gap(_ outputs: [Image], object k: Int) -> Double {
        let p = boxColour(outputs[0], first[k]), q = boxColour(outputs[1], second[k])
        return hypot(p.a - q.a, p.b - q.b)
    }
    #expect(gap(before, object: 0) > 10 && gap(before, object: 1) > 10)
    var palette = ChapterPalette()
    for (k, page) in pages.enumerated() {
        let (generated, modelInput) = try #require(try modelColours(of: page, options: options, generator: byPlace))
        try palette.collect(generated: generated, page: modelInput, pageIndex: k)
    }
    palette.finish()
    options.chapterPalette = palette
    let after = try pages.map(colourise)
    #expect(gap(after, object: 0) < 2 && gap(after, object: 1) < 2)
    // The two objects look different in grey: they keep different colours.
    let dark = boxColour(after[0], first[0]), light = boxColour(after[0], first[1])
    #expect(hypot(dark.a - light.a, dark.b - light.b) > 3)
}

@Test func weightedMedianFollowsTheWeights() {
    #expect(weightedMedian([(1, 1), (5, 3), (9, 1)]) == 5)
    #expect(weightedMedian([(1, 10), (5, 1), (9, 1)]) == 1)
}
