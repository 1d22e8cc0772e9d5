import Foundation
import Testing
@testable import Colorize

@Test func jpegFixtureDecodes() throws {
    // Made by tools/make-jpeg-fixtures.c: two flat 16x16 blocks.
    let image = try readImage(path: Fixtures.image("rgb.jpg"))
    #expect(image.width == 32 && image.height == 16 && image.channels == 3)
    let left: [Float] = [200, 40, 40], right: [Float] = [30, 60, 220]
    var worst: Float = 0
    for y in 0 ..< 16 {
        // Chroma is upsampled smoothly across the block boundary: check away from it.
        for x in 0 ..< 32 where x < 12 || x > 19 {
            for c in 0 ..< 3 {
                worst = max(worst, abs(image[x, y, c] * 255 - (x < 16 ? left[c] : right[c])))
            }
        }
    }
    #expect(worst <= 6, "max difference \(worst) levels")
}

@Test func greyJPEGGivesOneChannel() throws {
    let image = try readImage(path: Fixtures.image("grey.jpg"))
    #expect(image.channels == 1 && image.width == 16 && image.height == 16)
    #expect(abs(image[2, 2, 0] * 255 - 50) <= 3)
    #expect(abs(image[13, 13, 0] * 255 - 210) <= 3)
}

@Test func jpegEncodeDecodeRoundTrip() throws {
    var image = Image(width: 24, height: 16, channels: 3, fill: 0.5)
    for y in 0 ..< 16 { for x in 0 ..< 24 { image[x, y, 0] = Float(x) / 23 } }
    let back = try decodeJPEG(try encodeJPEG(image, quality: 98), name: "memory")
    #expect(back.width == 24 && back.height == 16 && back.channels == 3)
    #expect(maxDifference(image, back) < 8 / 255)
}

@Test func corruptJPEGIsAnErrorNotACrash() throws {
    let truncated = Fixtures.image("truncated.jpg")
    #expect {
        _ = try readImage(path: truncated)
    } throws: { error in
        guard case ImageError.corrupt(let path, let reason) = error else { return false }
        return path == truncated && !reason.isEmpty
    }
    // A JPEG marker followed by garbage.
    var garbage: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
    garbage += (0 ..< 200).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) }
    #expect(throws: ImageError.self) { _ = try decodeJPEG(garbage, name: "garbage.jpg") }
    #expect(throws: ImageError.self) { _ = try decodeJPEG([], name: "empty.jpg") }
}

@Test func hugeJPEGIsRefusedBeforeDecoding() throws {
    // A small JPEG whose frame header (SOF0) is rewritten to claim 20000x20000 (400 Mpx).
    var bytes = try encodeJPEG(Image(width: 16, height: 16, channels: 1, fill: 0.5), quality: 50)
    let sof = try #require((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
    bytes[sof + 5] = 0x4E; bytes[sof + 6] = 0x20  // height 20000
    bytes[sof + 7] = 0x4E; bytes[sof + 8] = 0x20  // width 20000
    #expect(throws: ImageError.tooLarge(path: "big.jpg", width: 20000, height: 20000)) {
        _ = try decodeJPEG(bytes, name: "big.jpg")
    }
}

@Test func aJPEGClaimingMorePixelsThanItsBytesHoldIsRefused() throws {
    // A 16x16 JPEG (a few hundred bytes) whose frame header claims 9000x9000: within the pixel budget, but
    // no complete file that small holds 81 Mpx (at least a bit per 8x8 block). libjpeg would pad the
    // missing rows with grey and return an 81 Mpx page; found by the libFuzzer JPEG target (1.6 GB RSS).
    var bytes = try encodeJPEG(Image(width: 16, height: 16, channels: 1, fill: 0.5), quality: 50)
    let sof = try #require((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
    bytes[sof + 5] = 0x23; bytes[sof + 6] = 0x28  // height 9000
    bytes[sof + 7] = 0x23; bytes[sof + 8] = 0x28  // width 9000
    #expect { _ = try decodeJPEG(bytes, name: "bomb.jpg") } throws: { error in
        guard case ImageError.corrupt(let path, let reason) = error else { return false }
        return path == "bomb.jpg" && reason.contains("9000x9000") && reason.contains("truncated or crafted")
    }
    // The most compressible real page, blank paper, is far inside the bound.
    let blank = try encodeJPEG(Image(width: 1024, height: 1024, channels: 3, fill: 1), quality: 92)
    let page = try decodeJPEG(blank, name: "blank.jpg")
    #expect(page.width == 1024 && page.height == 1024)
}
