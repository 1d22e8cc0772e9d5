import Colorize

// libFuzzer target: JPEG decode (Sources/Colorize/JPEG.swift and the libjpeg shim in
// Sources/CImageCodecs, the path `colorize` reads pages through), then the decoded image's invariants, then
// an encode and decode of it when it is small.
//
// A thrown ImageError is a correct outcome. A trap, a signal, an allocation past -rss_limit_mb, a unit past
// -timeout, or a decoded image that breaks its invariants (sample count, values in [0, 1], 1 or 3 channels,
// within ImageLimits) is a finding.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let start else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let image = try? decodeJPEG(bytes, name: "fuzz.jpg") else { return 0 }
    checkInvariants(image)
    if image.width * image.height <= 1 << 18 {
        guard let again = try? decodeJPEG(encodeJPEG(image), name: "re-encoded.jpg") else {
            fatalError("a decoded \(image.width)x\(image.height)x\(image.channels) image did not survive encodeJPEG")
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
