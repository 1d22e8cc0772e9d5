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
    let path = Fixtures.image("huge.png")
    #expect(throws: ImageError.tooLarge(path: path, width: 40000, height: 8)) { try readImage(path: path) }
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
