import Testing
@testable import Colorize

@Test func synthIsDeterministicPerSeed() {
    let a = synthesizePage(width: 120, height: 90, seed: 42)
    let b = synthesizePage(width: 120, height: 90, seed: 42)
    let c = synthesizePage(width: 120, height: 90, seed: 43)
    #expect(a.color == b.color && a.lineArt == b.lineArt && a.labels == b.labels)
    #expect(a.color != c.color)
}

@Test(arguments: [UInt64(1), 2, 3, 4])
func synthRegionsAreClosedByInk(seed: UInt64) {
    let w = 160, h = 120
    let page = synthesizePage(width: w, height: h, seed: seed)
    #expect(page.color.width == w && page.color.height == h && page.color.channels == 3)
    #expect(page.lineArt.channels == 1)
    // Ink is black in both images; 4-neighbours that are not ink share their label (ink closes regions).
    var inkPixels = 0
    for y in 0 ..< h {
        for x in 0 ..< w {
            let l = page.labels[y * w + x]
            if l == -1 {
                inkPixels += 1
                #expect(page.color[x, y, 0] == 0 && page.color[x, y, 1] == 0 && page.color[x, y, 2] == 0)
                #expect(page.lineArt[x, y, 0] == 0)
                continue
            }
            if x + 1 < w, page.labels[y * w + x + 1] != -1 { #expect(page.labels[y * w + x + 1] == l) }
            if y + 1 < h, page.labels[(y + 1) * w + x] != -1 { #expect(page.labels[(y + 1) * w + x] == l) }
        }
    }
    #expect(inkPixels > 0 && inkPixels < w * h / 2)
    #expect(page.regionCount > 3)
    // Paper stays white; the page is colourful.
    #expect(page.color[0, 0, 0] == 1 && page.color[0, 0, 2] == 1)
    #expect(colourfulness(page.color) > 10)
}

@Test func mangaStyleTonesFollowDarkness() {
    // Flat greys: the share of black pixels rises with darkness; ink and paper are solid.
    var previous: Float = -1
    for level: Float in [0.1, 0.3, 0.45, 0.6, 0.75, 0.95] {
        let grey = Image(width: 60, height: 60, channels: 1, fill: level)
        let manga = mangaStyle(grey, style: MangaStyle(toneSteps: 0))
        #expect(manga.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        let black = Float(manga.pixels.filter { $0 == 0 }.count) / Float(manga.pixels.count)
        if level < 0.2 { #expect(black == 1) }
        if level > 0.85 { #expect(black == 0) }
        if level > 0.2 && level < 0.85 { #expect(abs(black - (1 - level)) < 0.12, "level \(level): \(black) black") }
        #expect(1 - black >= previous)
        previous = 1 - black
    }
}
