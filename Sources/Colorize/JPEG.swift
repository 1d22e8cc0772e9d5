import CImageCodecs

// JPEG decode and encode through libjpeg, via the C shim in Sources/CImageCodecs (libjpeg reports errors
// by longjmp, which only C can catch). Grey JPEGs give 1-channel images, everything else (YCbCr, RGB,
// CMYK, YCCK) 3-channel sRGB. Corrupt or truncated data is an `ImageError.corrupt` naming the file and
// carrying libjpeg's message; sizes past `ImageLimits` are refused from the header, and so are headers
// claiming more pixels than the file's bytes can hold (at least one bit per 8x8 block; see the shim).
//
// API:
//   decodeJPEG(_ bytes: [UInt8], name: String) throws -> Image
//   encodeJPEG(_ image: Image, quality: Int = 92, name: String) throws -> [UInt8]
//   isJPEG(_ bytes: [UInt8]) -> Bool                                 SOI marker check

/// True when `bytes` start with the JPEG start-of-image marker FF D8 FF.
public func isJPEG(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
}

private func errorString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Decodes a whole JPEG held in memory. `name` (usually the path) is used in error messages.
public func decodeJPEG(_ bytes: [UInt8], name: String) throws -> Image {
    var decoded = mc_image8()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { src in
        message.withUnsafeMutableBufferPointer { msg in
            mc_jpeg_decode(src.baseAddress, src.count, ImageLimits.maxSide, ImageLimits.maxPixels,
                           &decoded, msg.baseAddress, msg.count)
        }
    }
    if status == 2 { // refused by size before allocation
        throw ImageError.tooLarge(path: name, width: Int(decoded.width), height: Int(decoded.height))
    }
    guard status == 0, let pixels = decoded.pixels else {
        throw ImageError.corrupt(path: name, reason: errorString(message))
    }
    defer { mc_free(pixels) }
    let w = Int(decoded.width), h = Int(decoded.height), c = Int(decoded.channels)
    let bytes = Array(UnsafeBufferPointer(start: pixels, count: w * h * c))
    return Image(interleaved8: bytes, width: w, height: h, channels: c)
}

/// Encodes a 1- or 3-channel image as a baseline JPEG (quality 1...100).
public func encodeJPEG(_ image: Image, quality: Int = 92, name: String = "image") throws -> [UInt8] {
    guard image.channels == 1 || image.channels == 3 else {
        throw ImageError.writeFailed(path: name, reason: "JPEG output needs 1 or 3 channels, got \(image.channels)")
    }
    guard image.width > 0, image.height > 0, image.width <= 65_500, image.height <= 65_500 else {
        throw ImageError.writeFailed(path: name, reason: "JPEG cannot hold a \(image.width)x\(image.height) image")
    }
    let samples = image.interleaved8()
    var data: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = samples.withUnsafeBufferPointer { src in
        message.withUnsafeMutableBufferPointer { msg in
            mc_jpeg_encode(src.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                           Int32(min(max(quality, 1), 100)), &data, &size, msg.baseAddress, msg.count)
        }
    }
    guard status == 0, let data else {
        throw ImageError.writeFailed(path: name, reason: errorString(message))
    }
    defer { mc_free(data) }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
