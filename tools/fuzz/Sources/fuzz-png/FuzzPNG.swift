import Colorize

// libFuzzer target: PNG decode (Sources/Colorize/PNG.swift, the path `colorize` reads pages through), then
// the decoded image's invariants, then an encode and decode of it when it is small.
//
// libpng rejects a chunk whose CRC is wrong, so almost every mutation would stop at the first CRC check.
// Inputs of even length have their chunks' CRCs recomputed first (the mutated bytes then reach the chunk
// parsers and inflate); odd-length inputs are decoded as they are, CRC errors included.
//
// A thrown ImageError is a correct outcome. A trap, a signal, an allocation past -rss_limit_mb, a unit past
// -timeout, or a decoded image that breaks its invariants (sample count, values in [0, 1], 1 or 3 channels,
// within ImageLimits) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let start else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: start, count: count))
    if count % 2 == 0 { fixChunkCRCs(&bytes) }
    guard let image = try? decodePNG(bytes, name: "fuzz.png") else { return 0 }
    checkInvariants(image)
    // The encoder on what the decoder gave (8-bit grey or RGB): it must read back to the same size.
    if image.width * image.height <= 1 << 18 {
        guard let again = try? decodePNG(encodePNG(image), name: "re-encoded.png") else {
            fatalError("a decoded \(image.width)x\(image.height)x\(image.channels) image did not survive encodePNG")
        }
        precondition(again.width == image.width && again.height == image.height && again.channels == image.channels)
    }
    return 0
}

func checkInvariants(_ image: Image) {
    precondition(image.channels == 1 || image.channels == 3, "\(image.channels) channels")
    precondition(image.width > 0 && image.height > 0 && image.width <= ImageLimits.maxSide
                 && image.height <= ImageLimits.maxSide && image.width * image.height <= ImageLimits.maxPixels)
    precondition(image.pixels.count == image.width * image.height * image.channels)
    // NOTE: written as contains() so that NaN fails too.
    precondition(image.pixels.allSatisfy { (0 ... 1).contains($0) }, "a sample outside [0, 1]")
}

/// Recomputes each chunk's CRC (over type and data) after the 8-byte signature, as far as the chunks fit.
func fixChunkCRCs(_ bytes: inout [UInt8]) {
    var at = 8
    while at + 12 <= bytes.count {
        let length = bytes[at ..< at + 4].reduce(0) { $0 << 8 | Int($1) }
        guard length <= bytes.count - at - 12 else { return }
        let end = at + 8 + length
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes[(at + 4) ..< end] { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        crc ^= 0xFFFF_FFFF
        for k in 0 ..< 4 { bytes[end + k] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * k)) }
        at = end + 4
    }
}

/// CRC-32 (polynomial 0xEDB88320, reflected), as PNG uses.
let crcTable: [UInt32] = (0 ..< 256).map { n in
    var c = UInt32(n)
    for _ in 0 ..< 8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}
