import Foundation
import Testing
@testable import Colorize
import Tensor

// Strips past the pixel budget, colorized in bands (Bands.swift, PNGRows.swift). Everything is small: the
// budget is lowered through `BandOptions.pagePixels` so that a few-hundred-row strip takes the band path
// with 64-row bands and 16-row margins.

/// Bands small enough for a 48 x 300 strip (14 400 px) to be banded: 64 + 2 x 16 rows of 48 px fit 5000.
private let tinyBands = BandOptions(rows: 64, margin: 16, pagePixels: 5000)

/// A continuous-tone grey strip (smooth mid grey: classified `.grey`), with a row-dependent pattern so that
/// misplaced rows show.
private func greyStrip(width: Int = 48, height: Int = 300) -> Image {
    var image = Image(width: width, height: height, channels: 1)
    for y in 0 ..< height {
        for x in 0 ..< width {
            image[x, y, 0] = Float(0.5 + 0.3 * sin(Double(x) / 6) * cos(Double(y) / 9) + 0.1 * Double(y % 17) / 17)
        }
    }
    return image
}

/// Grey noise: deflate cannot shrink it, so a cut file breaks rows well after the first band.
private func noiseStrip(width: Int = 48, height: Int = 300, seed: UInt64 = 7) -> Image {
    var rng = SplitMix64(seed: seed)
    var image = Image(width: width, height: height, channels: 1)
    for i in 0 ..< image.pixels.count { image.pixels[i] = Float(rng.next() % 256) / 255 }
    return image
}

/// Pointwise stand-in generator: grey to a fixed tint (as BatchTests), recording the heights it is given.
private func tint(_ x: Tensor) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    var out = [Float](repeating: 0, count: 3 * h * w)
    for i in 0 ..< h * w { out[i] = x.floats[i]; out[h * w + i] = x.floats[i] * 0.5; out[2 * h * w + i] = -0.5 }
    return Tensor(shape: [1, 3, h, w], floats: out)
}

/// Local stand-in generator: a 3x3 box blur of the grey into all three channels, tinted. Mirrored at the
/// edges as Tiling.swift pads, so that padding or not at a page's border gives the same result.
private func blurTint(_ x: Tensor) -> Tensor {
    let (h, w) = (x.shape[2], x.shape[3])
    let src = x.floats
    var out = [Float](repeating: 0, count: 3 * h * w)
    for y in 0 ..< h {
        for x in 0 ..< w {
            var sum: Float = 0
            for dy in -1 ... 1 {
                for dx in -1 ... 1 { sum += src[reflectIndex(y + dy, h) * w + reflectIndex(x + dx, w)] }
            }
            let v = sum / 9
            out[y * w + x] = v
            out[h * w + y * w + x] = v * 0.6 + 0.2
            out[2 * h * w + y * w + x] = -v * 0.4
        }
    }
    return Tensor(shape: [1, 3, h, w], floats: out)
}

/// The page as saved (8-bit PNG) colorized whole, written and read back.
private func wholePage(_ page: Image, options: ColorizeOptions, generator: (Tensor) throws -> Tensor) throws -> ColorizedPage {
    let saved = try decodePNG(encodePNG(page), name: "page")
    guard case .colorized(var result) = try colorizePageDetailed(saved, options: options, generator: generator) else {
        throw ImageError.mismatch("skipped")
    }
    result.image = try decodePNG(encodePNG(result.image), name: "whole")
    result.layers = try result.layers.map { ($0.name, try decodePNG(encodePNG($0.image), name: $0.name)) }
    return result
}

/// Colorizes `page` (saved as `strip.png`) with `colorizePages` into `out.png` and returns the written image and
/// the tallest generator input.
private func colorizeThroughBatch(_ page: Image, options: ColorizeOptions, folder: String,
                                  generator: @escaping (Tensor) -> Tensor) throws -> (outcome: BatchOutcome, tallest: Int) {
    try writePNG(page, path: folder + "/strip.png")
    var tallest = 0
    let outcome = try colorizePages([PageJob(source: folder + "/strip.png", relativeOutput: "out.png")],
                                    output: folder + "/out.png", options: options) { x in
        tallest = max(tallest, x.shape[2])
        return generator(x)
    }
    return (outcome, tallest)
}

@Test func bandsCoverEveryRowOnceWithTheirMargins() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let page = noiseStrip(width: 5, height: 53)
    try writePNG(page, path: folder + "/p.png")
    for (rows, margin) in [(7, 3), (7, 0), (4, 9), (53, 5), (60, 2), (1, 1)] {
        let bands = try BandReader(PNGStrip(path: folder + "/p.png", width: 5, height: 53, bandRows: rows), margin: margin)
        var kept: [Image] = []
        while let band = try bands.next() {
            #expect(band.top == max(0, band.own.lowerBound - margin))
            #expect(band.top + band.image.height == min(53, band.own.upperBound + margin))
            #expect(band.image == page.cropped(x: 0, y: band.top, width: 5, height: band.image.height), "rows \(rows) margin \(margin)")
            kept.append(band.ownRows(of: band.image))
        }
        #expect(kept.count == (53 + rows - 1) / rows)
        #expect(Image(stackingRows: kept) == page, "rows \(rows) margin \(margin)")
    }
}

@Test func rowReaderRoundTripsEncodedPages() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for channels in [1, 3] {
        // Every 8-bit level appears, so quantisation round-trips exactly.
        var image = Image(width: 37, height: 23, channels: channels)
        for i in 0 ..< image.pixels.count { image.pixels[i] = Float((i * 7) % 256) / 255 }
        try writeAtomically(try encodePNG(image), path: folder + "/p\(channels).png")
        let reader = try PNGRowReader(path: folder + "/p\(channels).png")
        #expect(reader.width == 37 && reader.height == 23 && reader.channels == channels)
        var parts: [Image] = []
        for count in [1, 5, 0, 10, 7] { parts.append(try reader.readRows(count)) }
        #expect(reader.rowsRead == 23)
        #expect(Image(stackingRows: parts) == image)
    }
}

@Test func rowReaderReadsFilesAsTheWholePageDecodeDoes() throws {
    // 16-bit, alpha (composited onto white), tRNS, palettes and low bit depths: the same pixels as readImage
    // (which goes through libpng's simplified API), to within its own 16-bit and palette rounding.
    let cases: [(String, Float)] = [("gray1.png", 0), ("gray8.png", 0), ("rgb8.png", 0), ("pal8.png", 0),
                                    ("graya8.png", 0), ("rgba8.png", 0), ("gray16.png", 0.1 / 255),
                                    ("rgb16.png", 0.1 / 255), ("graya16.png", 0.1 / 255), ("rgba16.png", 0.1 / 255),
                                    ("pal4trns.png", 2.01 / 255)]
    for (name, tolerance) in cases {
        let whole = try readImage(path: Fixtures.image(name))
        let reader = try PNGRowReader(path: Fixtures.image(name))
        let rows = Image(stackingRows: [try reader.readRows(2), try reader.readRows(3)])
        #expect(rows.channels == whole.channels && rows.width == whole.width && rows.height == whole.height, "\(name)")
        #expect(maxDifference(rows, whole) <= tolerance, "\(name): \(maxDifference(rows, whole) * 255)/255")
    }
    // 16-bit samples come out exactly, (v * 256 + 17) / 65535 as tools/make-image-fixtures.py wrote them.
    let grey16 = try PNGRowReader(path: Fixtures.image("gray16.png")).readRows(5)
    #expect(abs(Double(grey16[3, 2, 0]) - Double(((37 * 3 + 53 * 2) % 256) * 256 + 17) / 65535) < 1e-6)
}

@Test func interlacedFilesAreRefusedForBandsWithAdvice() throws {
    let path = Fixtures.image("gray8-interlaced.png")
    #expect { _ = try PNGRowReader(path: path) } throws: { error in
        guard case ImageError.unsupported(let p, let reason) = error else { return false }
        return p == path && reason.contains("interlaced") && reason.contains("without interlacing")
    }
    // Past a (lowered) budget, an interlaced page is refused from its header; within it, it is read whole.
    #expect { _ = try bandedStrip(path: path, options: BandOptions(rows: 2, margin: 0, pagePixels: 20)) } throws: { error in
        guard case ImageError.unsupported(let p, let reason) = error else { return false }
        return p == path && "\(error)".contains("gray8-interlaced.png") && reason.contains("without interlacing")
    }
    #expect(try bandedStrip(path: path, options: BandOptions()) == nil)
}

@Test func stripsThatCannotStreamAreRefusedFromTheHeader() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
    // 20 000 x 6000 (120 Mpx) is too wide for a band: refused, with the advice to cut it.
    let wide = try file("wide.png", pngHeader(width: 20_000, height: 6000, depth: 8, colourType: 0, padding: 200_000))
    #expect(throws: ImageError.tooLarge(path: wide, width: 20_000, height: 6000)) { _ = try bandedStrip(path: wide, options: BandOptions()) }
    #expect("\(ImageError.tooLarge(path: wide, width: 20_000, height: 6000))".contains("cut it into parts"))
    // A 70-byte file claiming a 1000 x 200 000 strip is still crafted or truncated.
    let crafted = try file("crafted.png", pngHeader(width: 1000, height: 200_000, depth: 8, colourType: 0, padding: 25))
    #expect { _ = try bandedStrip(path: crafted, options: BandOptions()) } throws: { error in
        guard case ImageError.corrupt(let p, let reason) = error else { return false }
        return p == crafted && reason.contains("truncated or crafted")
    }
    // Within the budget, a side over 65 500 still bands; pages within both are decoded whole.
    let tall = try file("tall.png", pngHeader(width: 100, height: 70_000, depth: 8, colourType: 0, padding: 7000))
    #expect(try bandedStrip(path: tall, options: BandOptions()) == PNGStrip(path: tall, width: 100, height: 70_000, bandRows: 4096))
    #expect(try bandedStrip(path: Fixtures.image("rgb8.png"), options: BandOptions()) == nil)
    #expect(try bandedStrip(path: Fixtures.image("rgb.jpg"), options: BandOptions(pagePixels: 1)) == nil)
    // A band with its margins never passes the budget: a wide strip gets shorter bands.
    let strip = try file("strip.png", pngHeader(width: 16_000, height: 20_000, depth: 8, colourType: 0, padding: 400_000))
    let rows = try #require(try bandedStrip(path: strip, options: BandOptions())).bandRows
    #expect(rows == 4096 && (rows + 512) * 16_000 <= ImageLimits.maxPixels)
    #expect(try bandedStrip(path: strip, options: BandOptions(rows: 9000)).map(\.bandRows) == 100_000_000 / 16_000 - 512)
}

@Test func batchColorizesAStripPastTheBudgetInBands() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let page = greyStrip()
    for keepLines in [false, true] {
        var options = ColorizeOptions(keepLines: keepLines)
        options.bands = tinyBands
        let (outcome, tallest) = try colorizeThroughBatch(page, options: options, folder: folder, generator: tint)
        #expect(outcome.written == [folder + "/out.png"] && outcome.failed.isEmpty, "\(outcome.failed)")
        #expect(outcome.kinds == [.grey])
        // Bands of 64 + 2 x 16 rows, padded to 128; the whole page would have gone in at 320.
        #expect(tallest <= 128)
        let banded = try readImage(path: folder + "/out.png")
        #expect(banded.width == 48 && banded.height == 300 && banded.channels == 3)
        // A pointwise generator on the grey path: exactly the whole page's output.
        let whole = try wholePage(page, options: ColorizeOptions(keepLines: keepLines), generator: tint)
        #expect(maxDifference(banded, whole.image) == 0, "keepLines \(keepLines)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["out.png", "strip.png"])
    }
}

@Test func aLocalGeneratorGivesTheWholePageResult() throws {
    // A 3x3 blur reaches 1 row, well inside the 16-row margins: banding changes nothing.
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let page = greyStrip(width: 40, height: 257)
    var options = ColorizeOptions(keepLines: true)
    options.bands = tinyBands
    let (outcome, tallest) = try colorizeThroughBatch(page, options: options, folder: folder, generator: blurTint)
    #expect(outcome.written.count == 1 && tallest <= 128)
    let whole = try wholePage(page, options: ColorizeOptions(keepLines: true), generator: blurTint)
    #expect(maxDifference(try readImage(path: folder + "/out.png"), whole.image) == 0)
}

@Test func thePageKindIsDecidedOnceForTheWholeStrip() throws {
    // The top 80 rows are black-and-white line art (alone: a manga band), the rest continuous grey: the
    // strip as a whole is grey, and every band must take the grey path, the first one included.
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var page = greyStrip()
    let art = synthesizePage(width: 48, height: 80, seed: 3).lineArt.luminance()
    for y in 0 ..< 80 { for x in 0 ..< 48 { page[x, y, 0] = art[x, y, 0] < 0.5 ? 0 : 1 } }
    page = try decodePNG(encodePNG(page), name: "page")
    #expect(classifyPage(page.cropped(x: 0, y: 0, width: 48, height: 80)).kind == .manga)
    let whole = classifyPage(page)
    #expect(whole.kind == .grey)
    var options = ColorizeOptions(keepLines: true)
    options.bands = tinyBands
    try writePNG(page, path: folder + "/strip.png")
    let strip = try #require(try bandedStrip(path: folder + "/strip.png", options: tinyBands))
    let outcome = try colorizeStrip(strip, to: folder + "/out.png", options: options, generator: tint)
    // The same share of flat mid grey as over the whole page, counted band by band.
    #expect(outcome == .colorized(kind: .grey, smoothMidShare: whole.smoothMidShare, bands: 5))
    let expected = try wholePage(page, options: ColorizeOptions(keepLines: true), generator: tint)
    #expect(maxDifference(try readImage(path: folder + "/out.png"), expected.image) == 0)
}

@Test func mangaStripsInBandsGiveTheWholePageWhereTheScreenIsTheSame() throws {
    // The manga path reaches further than a blur (screen lattices, the recursive descreening filter) and
    // takes the screen period from the band's own screen elements. With margins wider than that reach and
    // bands that find the page's period, banding changes nothing, layers included; dropped, misplaced or
    // badly stitched rows would.
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let part = synthesizePage(width: 64, height: 100, seed: 10).lineArt.luminance()
    let page = try decodePNG(encodePNG(Image(stackingRows: [part, part, part, part])), name: "page")
    let period = try #require(analyzeScreentone(page).period)
    for (top, bottom) in [(0, 164), (36, 264), (136, 364), (236, 400)] {
        #expect(analyzeScreentone(page.cropped(x: 0, y: top, width: 64, height: bottom - top)).period == period)
    }
    var options = ColorizeOptions(keepLines: true)
    options.bands = BandOptions(rows: 100, margin: 64, pagePixels: 14_600)
    options.keepLayers = true
    let (outcome, tallest) = try colorizeThroughBatch(page, options: options, folder: folder, generator: blurTint)
    #expect(outcome.kinds == [.manga] && tallest <= 256, "\(outcome.failed)")
    var wholeOptions = ColorizeOptions(keepLines: true)
    wholeOptions.keepLayers = true
    let whole = try wholePage(page, options: wholeOptions, generator: blurTint)
    #expect(maxDifference(try readImage(path: folder + "/out.png"), whole.image) == 0)
    // Layers are streamed too, one file each.
    #expect(whole.layers.map(\.name) == PageLayer.all)
    for (name, layer) in whole.layers {
        #expect(maxDifference(try readImage(path: layerPath(folder + "/out.png", name)), layer) == 0, "\(name)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 2 + PageLayer.all.count)
}

@Test func aBrokenStripFailsNamingItAndLeavesNothingBehind() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let bytes = try encodePNG(noiseStrip())
    #expect(bytes.count > 12_000)
    // Cut at 60 %, and one byte flipped in the compressed rows (a CRC error) at 70 %.
    var flipped = bytes
    flipped[bytes.count * 7 / 10] ^= 0x55
    for (name, broken) in [("cut.png", Array(bytes.prefix(bytes.count * 6 / 10))), ("flipped.png", flipped)] {
        let out = folder + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: out) }
        let source = folder + "/" + name
        try Data(broken).write(to: URL(fileURLWithPath: source))
        // Forced kind, grey file: no first pass, so the error comes after bands were already written.
        for forced in [PageKind.grey, nil] {
            var options = ColorizeOptions()
            options.bands = tinyBands
            options.pageKind = forced
            options.keepLayers = true
            var calls = 0
            let outcome = try colorizePages([PageJob(source: source, relativeOutput: "p.png")], output: out,
                                            options: options) { x in calls += 1; return tint(x) }
            #expect(outcome.written.isEmpty && outcome.failed.count == 1)
            #expect(outcome.failed.first?.reason.contains(source) == true, "\(outcome.failed)")
            #expect(outcome.failed.first?.reason.contains("not a valid image") == true, "\(outcome.failed)")
            #expect(forced == nil ? calls == 0 : calls >= 2, "\(name): \(calls) generator calls")
            #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [], "\(name)")
        }
    }
}

@Test func rowWriterShowsNothingUntilFinished() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let page = noiseStrip(width: 9, height: 10)
    let target = folder + "/p.png"
    do {
        let writer = try PNGRowWriter(path: target, width: 9, height: 10, channels: 1)
        try writer.write(page.cropped(x: 0, y: 0, width: 9, height: 4))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(names.count == 1 && names[0].hasPrefix(".p.png.tmp-"))
        // Rows missing: finish refuses, and the temporary goes.
        #expect { try writer.finish() } throws: { "\($0)".contains("only 4 of 10 rows") && "\($0)".contains(target) }
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [])
    do {
        // Dropped half way (an error elsewhere): nothing left.
        let writer = try PNGRowWriter(path: target, width: 9, height: 10, channels: 1)
        try writer.write(page.cropped(x: 0, y: 0, width: 9, height: 4))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == [])
    let writer = try PNGRowWriter(path: target, width: 9, height: 10, channels: 1)
    try writer.write(page.cropped(x: 0, y: 0, width: 9, height: 4))
    try writer.write(page.cropped(x: 0, y: 4, width: 9, height: 6))
    try writer.finish()
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["p.png"])
    #expect(try readImage(path: target) == page)
    #expect(throws: ImageError.self) { _ = try PNGRowWriter(path: folder + "/missing/p.png", width: 9, height: 10, channels: 1) }
}

@Test func seamsAreBlendedFromOneBandToTheNext() throws {
    // A generator that gives each band its own flat colour (the k-th call: 0.1 + 0.1 k once mapped from
    // [-1, 1]): away from seams each band's value, and across each seam a linear ramp over `margin` rows
    // (half of it, 8 rows, on each side), not a step.
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var options = ColorizeOptions()
    options.bands = tinyBands
    var calls = 0
    try writePNG(greyStrip(), path: folder + "/strip.png")
    let strip = try #require(try bandedStrip(path: folder + "/strip.png", options: tinyBands))
    _ = try colorizeStrip(strip, to: folder + "/out.png", options: options) { x in
        defer { calls += 1 }
        return Tensor(shape: [1, 3, x.shape[2], x.shape[3]], floats: [Float](repeating: Float(calls) * 0.2 - 0.8, count: 3 * x.shape[2] * x.shape[3]))
    }
    #expect(calls == 5)
    let out = try readImage(path: folder + "/out.png")
    func value(_ band: Int) -> Double { 0.1 + 0.1 * Double(band) }
    var worst = 0.0
    for y in 0 ..< 300 {
        let band = min(y / 64, 4)
        var expected = value(band)
        let seamAbove = band * 64, seamBelow = (band + 1) * 64
        if band > 0 && y < seamAbove + 8 {
            expected = value(band - 1) + (value(band) - value(band - 1)) * (Double(y - (seamAbove - 8)) + 0.5) / 16
        } else if band < 4 && y >= seamBelow - 8 {
            expected = value(band) + (value(band + 1) - value(band)) * (Double(y - (seamBelow - 8)) + 0.5) / 16
        }
        for c in 0 ..< 3 { for x in [0, 47] { worst = max(worst, abs(Double(out[x, y, c]) - expected)) } }
    }
    #expect(worst <= 0.51 / 255, "worst \(worst * 255)/255")
    #expect(seamHalfWidth(own: 64, next: 44, margin: 16) == 8)
    #expect(seamHalfWidth(own: 64, next: 3, margin: 16) == 1)
    #expect(seamHalfWidth(own: 64, next: 0, margin: 16) == 0)
}
