import Foundation
import Testing
@testable import Colorize

/// A 40x40 page: white paper with two closed ink frames (panels) and the paper around them (margin, gutter).
private func framedPaper() -> DescreenedPage {
    let side = 40
    var layer = [Float](repeating: 1, count: side * side)
    for (x0, x1) in [(4, 30), (33, 37)] {
        for y in 4 ..< 36 {
            for x in x0 ... x1 where x == x0 || x == x1 || y == 4 || y == 35 { layer[y * side + x] = 0 }
        }
    }
    let fill = Image(width: side, height: side, channels: 1, fill: 1)
    let page = Image(width: side, height: side, channels: 1, pixels: layer)
    return DescreenedPage(fill: fill, page: page, inkLayer: layer)
}

@Test func paperTakesPaintPerRegionAndMarginsStayWhite() throws {
    let descreened = framedPaper(), side = 40
    // The model's colour on paper flickers around the vivid threshold: a vivid orange on every other pixel,
    // a near-grey beige on the rest — everywhere, inside the panel and in the margin.
    var generated = Image(width: side, height: side, channels: 3)
    for i in 0 ..< side * side {
        let vivid = (i % side + i / side) % 2 == 0
        let rgb: [Float] = vivid ? [0.95, 0.6, 0.3] : [0.82, 0.8, 0.77]
        for c in 0 ..< 3 { generated.pixels[c * side * side + i] = rgb[c] }
    }
    var pixelOptions = MangaCompositeOptions()
    pixelOptions.paintByRegion = false
    let regionPaint = paperPaint(fill: descreened.fill, inkLayer: descreened.inkLayer, lab: generated.lab().pixels, options: MangaCompositeOptions())
    let byRegion = regionPaint.weight
    let byPixel = paperPaint(fill: descreened.fill, inkLayer: descreened.inkLayer, lab: generated.lab().pixels, options: pixelOptions).weight
    // Inside the big panel: one paint weight for the whole region (no blotches), between none and full.
    var inside: [Float] = [], flicker: [Float] = []
    for y in 6 ..< 34 { for x in 6 ..< 29 { inside.append(byRegion[y * side + x]); flicker.append(byPixel[y * side + x]) } }
    #expect(inside.max()! - inside.min()! < 1e-6)
    #expect(inside[0] > 0.2 && inside[0] < 0.8)
    // ... at one lightness: the region's, not each pixel's model L*; so the composite is flat there.
    let composite = try composeManga(descreened: descreened, generated: generated).lab()
    var compositeL: [Float] = []
    for y in 6 ..< 34 { for x in 6 ..< 29 { compositeL.append(composite.pixels[y * side + x]) } }
    #expect(compositeL.max()! - compositeL.min()! < 0.5)
    #expect(regionPaint.lightness != nil)
    // Per pixel, the same paper alternates between painted and white.
    #expect(flicker.max()! > 0.9 && flicker.min()! < 0.1)
    // The margin and the gutter between the panels reach the page's edge as a thin frame: they stay white,
    // in the composite too.
    for (x, y) in [(1, 1), (31, 20), (20, 38), (39, 10)] {
        #expect(byRegion[y * side + x] == 0)
        #expect(composite.pixels[y * side + x] > 99.5)
    }
}
