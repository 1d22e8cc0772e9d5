import Testing
import Tensor
@testable import Colorize

/// The inked line art of a synthetic page: black ink, white everywhere else.
private func inkedLines(_ page: SynthPage) -> Image {
    Image(width: page.color.width, height: page.color.height, channels: 1,
          pixels: page.labels.map { $0 < 0 ? 0 : 1 })
}

@Test func flatGivesOneColourPerClosedRegion() throws {
    let w = 160, h = 120
    let page = synthesizePage(width: w, height: h, seed: 21)
    let lines = inkedLines(page)
    // The generator's output: truth plus blotchy noise.
    var rng = SplitMix64(seed: 4)
    var generated = page.color
    for i in 0 ..< generated.pixels.count {
        generated.pixels[i] = min(max(generated.pixels[i] + Float(rng.uniform(-0.15, 0.15)), 0), 1)
    }
    let options = FlatOptions()
    let segmentation = segmentRegions(page: lines, options: options)
    let out = try flatten(generated: generated, page: lines, options: options)
    #expect(segmentation.count > 3)

    var colourOf: [Int32: [Float]] = [:]
    var syntheticLabelOf: [Int32: Int32] = [:]
    for y in 0 ..< h {
        for x in 0 ..< w {
            let i = y * w + x, r = segmentation.labels[i]
            let rgb = (0 ..< 3).map { out[x, y, $0] }
            if r < 0 {
                #expect(page.labels[i] == -1)
                #expect(rgb == (0 ..< 3).map { generated[x, y, $0] }, "ink keeps the generated colour")
                continue
            }
            // Segmented regions never cross the drawn ink (short strokes, below `maxSpeck` pixels, are specks
            // and belong to the region around them).
            if page.labels[i] != -1 {
                if let known = syntheticLabelOf[r] { #expect(known == page.labels[i]) } else { syntheticLabelOf[r] = page.labels[i] }
            }
            guard segmentation.sizes[Int(r)] >= options.minRegion else { continue }
            if let known = colourOf[r] { #expect(known == rgb, "region \(r) has two colours") } else { colourOf[r] = rgb }
        }
    }
    #expect(colourOf.count > 3)
    // Flat regions get back close to their true colour (the noise is symmetric, the median robust).
    let paper = colourOf[segmentation.labels[0]]!
    #expect(paper.allSatisfy { $0 > 0.93 })
}

@Test func screentoneDotsDoNotCutRegions() {
    // A white square outlined in ink, with isolated 2x2 dots inside: one region, not many.
    let w = 40
    var page = Image(width: w, height: w, channels: 1, fill: 1)
    for i in 0 ..< w {
        for t in 0 ..< 2 { page[i, t, 0] = 0; page[i, w - 1 - t, 0] = 0; page[t, i, 0] = 0; page[w - 1 - t, i, 0] = 0 }
    }
    for y in stride(from: 6, to: 34, by: 6) {
        for x in stride(from: 6, to: 34, by: 6) {
            page[x, y, 0] = 0; page[x + 1, y, 0] = 0; page[x, y + 1, 0] = 0; page[x + 1, y + 1, 0] = 0
        }
    }
    let segmentation = segmentRegions(page: page)
    #expect(segmentation.count == 1)
    #expect(segmentation.sizes[0] == (w - 4) * (w - 4))
}

@Test func connectedComponentsCountsBothConnectivities() {
    // Diagonal pair: one 8-connected component, two 4-connected ones.
    let member = [true, false, false, true]
    #expect(connectedComponents(width: 2, height: 2, eightConnected: true, member: member).sizes == [2])
    #expect(connectedComponents(width: 2, height: 2, eightConnected: false, member: member).sizes == [1, 1])
}
