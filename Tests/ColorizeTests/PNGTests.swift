import Foundation
import Testing
@testable import Colorize

// Formulas shared with tools/make-image-fixtures.py.
private let width = 7, height = 5
private func v8(_ x: Int, _ y: Int, _ c: Int) -> Double { Double((37 * x + 53 * y + 91 * c) % 256) }
private func a8(_ x: Int, _ y: Int) -> Double { [0, 128, 255][(x + y) % 3] }
private func paletteEntry(_ i: Int) -> [Double] { [Double(16 * i), Double(255 - 16 * i), Double((77 * i) % 256)] }

/// Compositing onto the white background happens in linear light.
private func overWhite(_ v: Double, alpha: Double) -> Double {
    linearToSRGB(srgbToLinear(v) * alpha + (1 - alpha))
}

private func check(_ name: String, channels: Int, tolerance: Double = 0.5 / 255,
                   expected: (Int, Int, Int) -> Double) throws {
    let image = try readImage(path: Fixtures.image(name))
    #expect(image.width == width && image.height == height && image.channels == channels, "\(name)")
    var worst = 0.0, at = (0, 0, 0)
    for c in 0 ..< channels {
        for y in 0 ..< height {
            for x in 0 ..< width {
                let d = abs(Double(image[x, y, c]) - expected(x, y, c))
                if d > worst { worst = d; at = (x, y, c) }
            }
        }
    }
    #expect(worst <= tolerance, "\(name): max difference \(worst * 255)/255 at (x, y, c) = \(at), got \(image[at.0, at.1, at.2] * 255) want \(expected(at.0, at.1, at.2) * 255)")
}

@Test func pngGreyDepths() throws {
    try check("gray1.png", channels: 1) { x, y, _ in Double((x + y) % 2) }
    try check("gray8.png", channels: 1) { x, y, _ in v8(x, y, 0) / 255 }
    try check("gray8-interlaced.png", channels: 1) { x, y, _ in v8(x, y, 0) / 255 }
    // 16-bit files keep their precision (16-bit linear is coarse only next to black).
    try check("gray16.png", channels: 1, tolerance: 0.1 / 255) { x, y, _ in (v8(x, y, 0) * 256 + 17) / 65535 }
}

@Test func pngColourDepths() throws {
    try check("rgb8.png", channels: 3) { x, y, c in v8(x, y, c) / 255 }
    try check("rgb8-interlaced.png", channels: 3) { x, y, c in v8(x, y, c) / 255 }
    for name in ["rgb16.png", "rgb16-interlaced.png"] {
        try check(name, channels: 3, tolerance: 0.1 / 255) { x, y, c in (v8(x, y, c) * 256 + 17) / 65535 }
    }
}

@Test func pngAlphaCompositesOntoWhite() throws {
    let tolerance = 0.1 / 255
    try check("graya8.png", channels: 1, tolerance: tolerance) { x, y, _ in
        overWhite(v8(x, y, 0) / 255, alpha: a8(x, y) / 255)
    }
    try check("graya16.png", channels: 1, tolerance: tolerance) { x, y, _ in
        overWhite((v8(x, y, 0) * 256 + 17) / 65535, alpha: a8(x, y) / 255)
    }
    for name in ["rgba8.png", "rgba8-interlaced.png"] {
        try check(name, channels: 3, tolerance: tolerance) { x, y, c in
            overWhite(v8(x, y, c) / 255, alpha: a8(x, y) / 255)
        }
    }
    for name in ["rgba16.png", "rgba16-interlaced.png"] {
        try check(name, channels: 3, tolerance: tolerance) { x, y, c in
            overWhite((v8(x, y, c) * 256 + 17) / 65535, alpha: a8(x, y) / 255)
        }
    }
    // Fully transparent pixels are white paper exactly.
    let image = try readImage(path: Fixtures.image("rgba8.png"))
    #expect((0 ..< 3).allSatisfy { image[0, 0, $0] == 1 })
}

@Test func pngPalettes() throws {
    try check("pal8.png", channels: 3) { x, y, c in paletteEntry((x + 3 * y) % 16)[c] / 255 }
    try check("pal4trns.png", channels: 3, tolerance: 2.01 / 255) { x, y, c in
        let i = (x + 3 * y) % 16
        let alpha = i == 0 ? 0.0 : i == 5 ? 128.0 / 255 : 1
        return overWhite(paletteEntry(i)[c] / 255, alpha: alpha)
    }
}

@Test(arguments: [1, 3])
func pngWriteReadRoundTripIsExact(channels: Int) throws {
    // Every 8-bit level appears, so quantisation round-trips exactly.
    var image = Image(width: 37, height: 11, channels: channels)
    for i in 0 ..< image.pixels.count { image.pixels[i] = Float((i * 7) % 256) / 255 }
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/page.png"
    try writePNG(image, path: path)
    let back = try readImage(path: path)
    #expect(back.channels == channels && maxDifference(back, image) == 0)
    // Nothing but the target is left in the folder (the temporary name was renamed).
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["page.png"])
}

@Test func pngWriteClampsOutOfRange() throws {
    let image = Image(width: 2, height: 1, channels: 1, pixels: [-0.5, 1.7])
    let back = try decodePNG(try encodePNG(image), name: "memory")
    #expect(back.pixels == [0, 1])
}

@Test func brokenFilesAreErrorsNamingTheFile() throws {
    for name in ["truncated.png", "badcrc.png"] {
        let path = Fixtures.image(name)
        #expect {
            _ = try readImage(path: path)
        } throws: { error in
            guard case ImageError.corrupt(let p, let reason) = error else { return false }
            return p == path && !reason.isEmpty && "\(error)".contains(name)
        }
    }
}

@Test func hugeHeaderIsRefusedBeforeDecoding() throws {
    // 40000x8 8-bit grey in 68 bytes: 320 kB of rows cannot fit in 68 compressed bytes.
    let path = Fixtures.image("huge.png")
    #expect { try readImage(path: path) } throws: { error in
        guard case ImageError.corrupt(let p, let reason) = error else { return false }
        return p == path && reason.contains("40000x8") && reason.contains("truncated or crafted")
    }
}

/// A PNG that is only a signature, an IHDR chunk and IEND: what a crafted file claims, in 45 bytes plus
/// `padding` zero bytes.
func pngHeader(width: UInt32, height: UInt32, depth: UInt8, colourType: UInt8, padding: Int = 0) -> [UInt8] {
    func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    bytes += be(13) + Array("IHDR".utf8) + be(width) + be(height) + [depth, colourType, 0, 0, 0] + be(0)
    bytes += [UInt8](repeating: 0, count: padding)
    bytes += be(0) + Array("IEND".utf8) + be(0xAE42_6082)
    return bytes
}

@Test func craftedHeadersAreRefusedBeforeAllocating() throws {
    // The issue's file: 69 bytes claiming 29000x6800 16-bit RGBA (1.6 GB of rows); over the pixel budget.
    let claim = pngHeader(width: 29000, height: 6800, depth: 16, colourType: 6, padding: 24)
    #expect(claim.count == 69)
    #expect(throws: ImageError.tooLarge(path: "claim.png", width: 29000, height: 6800)) {
        _ = try decodePNG(claim, name: "claim.png")
    }
    #expect("\(ImageError.tooLarge(path: "claim.png", width: 29000, height: 6800))".contains("197.2 Mpx"))
    // Within the pixel budget (81 Mpx) but 69 bytes cannot hold 81 MB of rows.
    #expect { _ = try decodePNG(pngHeader(width: 9000, height: 9000, depth: 8, colourType: 0, padding: 24), name: "small.png") }
        throws: { "\($0)".contains("more than a 69-byte file can hold") }
    // Sides past 2^31 and zero sides.
    #expect(throws: ImageError.self) { _ = try decodePNG(pngHeader(width: .max, height: .max, depth: 16, colourType: 6), name: "max.png") }
    #expect(throws: ImageError.self) { _ = try decodePNG(pngHeader(width: 0, height: 10, depth: 8, colourType: 0), name: "zero.png") }
    #expect(throws: ImageError.self) { _ = try decodePNG(Array(pngHeader(width: 1, height: 1, depth: 8, colourType: 0).prefix(20)), name: "short.png") }
}

@Test func webtoonStripIsWithinTheBudget() throws {
    // 800x31000 (25 Mpx) used to be refused by a 30000 px side limit; the pipeline tiles it.
    try ImageLimits.check(width: 800, height: 31000, path: "strip.png")
    #expect(throws: ImageError.self) { try ImageLimits.check(width: 14000, height: 14000, path: "big.png") }
}

@Test func missingAndForeignFiles() throws {
    #expect(throws: ImageError.unreadable(path: "/nonexistent/page.png", reason: "no such file")) {
        try readImage(path: "/nonexistent/page.png")
    }
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let text = folder + "/notes.png"
    try "hello".write(toFile: text, atomically: true, encoding: .utf8)
    #expect {
        _ = try readImage(path: text)
    } throws: { error in
        if case ImageError.unsupported = error { return true }
        return false
    }
    #expect(throws: ImageError.self) { try writePNG(Image(width: 1, height: 1, channels: 1), path: "/nonexistent/x.png") }
}

@Test func devicesAndFoldersAreNotReadAsPages() throws {
    #expect(throws: ImageError.unreadable(path: "/dev/zero", reason: "not a regular file")) { try readImage(path: "/dev/zero") }
    #expect(throws: ImageError.self) { try readImage(path: FileManager.default.temporaryDirectory.path) }
}

@Test func aLinkToAPageIsReadAsThePage() throws {
    let folder = try Fixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let page = Image(width: 3, height: 2, channels: 1, pixels: [0, 0.5, 1, 1, 0.5, 0])
    try writePNG(page, path: folder + "/page.png")
    try FileManager.default.createSymbolicLink(atPath: folder + "/link.png", withDestinationPath: folder + "/page.png")
    #expect(try readImage(path: folder + "/link.png").pixels == readImage(path: folder + "/page.png").pixels)
    try FileManager.default.createSymbolicLink(atPath: folder + "/zero.png", withDestinationPath: "/dev/zero")
    #expect(throws: ImageError.unreadable(path: folder + "/zero.png", reason: "not a regular file")) {
        try readImage(path: folder + "/zero.png")
    }
}
