import CPNG
import Foundation

// PNG decode and encode through libpng's "simplified API" (png_image): no setjmp needed, and libpng does
// every conversion (bit depths 1-16, grey, grey+alpha, RGB, RGBA, palette with or without tRNS, Adam7
// interlacing, gAMA/sRGB/cHRM) into one of two output formats:
//
//   - files whose colour type has no colour (grey, grey+alpha) -> 1-channel Image;
//   - everything else (RGB, RGBA, palette) -> 3-channel Image.
//
// Alpha is composited onto white paper, in linear light (done here, not by libpng: see compositeOntoWhite). 16-bit files are read as
// sRGB-encoded (PNG_IMAGE_FLAG_16BIT_sRGB; libpng would otherwise assume a gAMA-less 16-bit file is
// linear) at full precision.
// Sizes past `ImageLimits` are refused from the header, before the pixel buffer is allocated.
//
// API:
//   decodePNG(_ bytes: [UInt8], name: String) throws -> Image       name appears in error messages
//   encodePNG(_ image: Image, name: String) throws -> [UInt8]       8-bit grey or RGB
//   isPNG(_ bytes: [UInt8]) -> Bool                                 signature check
// (Reading and writing files: ImageFile.swift; rows a band at a time, for strips: PNGRows.swift.)

private let formatFlagAlpha: UInt32 = 0x01      // PNG_FORMAT_FLAG_ALPHA
private let formatFlagColor: UInt32 = 0x02      // PNG_FORMAT_FLAG_COLOR
private let formatFlagLinear: UInt32 = 0x04     // PNG_FORMAT_FLAG_LINEAR (16-bit)
private let imageFlag16BitSRGB: UInt32 = 0x04   // PNG_IMAGE_FLAG_16BIT_sRGB
private let imageVersion: UInt32 = 1            // PNG_IMAGE_VERSION

/// True when `bytes` start with the 8-byte PNG signature.
public func isPNG(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 8 && bytes[0 ..< 8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
}

/// The message libpng left in a png_image (a NUL-terminated char[64]).
private func pngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Decodes a whole PNG held in memory. `name` (usually the path) is used in error messages.
public func decodePNG(_ bytes: [UInt8], name: String) throws -> Image {
    guard isPNG(bytes) else {
        throw ImageError.corrupt(path: name, reason: "no PNG signature")
    }
    try ImageLimits.checkPNGHeader(bytes, path: name)
    var png = png_image()
    png.version = imageVersion
    let began = bytes.withUnsafeBytes { raw in
        png_image_begin_read_from_memory(&png, raw.baseAddress, raw.count)
    }
    guard began != 0 else {
        let message = pngMessage(&png)
        png_image_free(&png)
        throw ImageError.corrupt(path: name, reason: message)
    }
    let width = Int(png.width), height = Int(png.height)
    do {
        try ImageLimits.check(width: width, height: height, path: name)
    } catch {
        png_image_free(&png)
        throw error
    }
    let channels = (png.format & formatFlagColor) != 0 ? 3 : 1
    let hasAlpha = (png.format & formatFlagAlpha) != 0
    let sixteenBit = (png.format & formatFlagLinear) != 0
    let stored = channels + (hasAlpha ? 1 : 0)
    // GRAY, GA, RGB or RGBA (alpha last); 8-bit sRGB, or for 16-bit files 16-bit linear with premultiplied
    // alpha. NOTE: libpng 1.6.39 scrambles the rows of 16-bit Adam7 files read into an 8-bit format, so
    // 16-bit files take the linear path (which also keeps their precision).
    png.format = (channels == 3 ? formatFlagColor : 0) | (hasAlpha ? formatFlagAlpha : 0)
        | (sixteenBit ? formatFlagLinear : 0)
    png.flags |= imageFlag16BitSRGB
    if sixteenBit {
        var buffer = [UInt16](repeating: 0, count: width * height * stored)
        let finished = buffer.withUnsafeMutableBytes { raw in
            png_image_finish_read(&png, nil, raw.baseAddress, Int32(width * stored), nil)
        }
        guard finished != 0 else {
            let message = pngMessage(&png)
            png_image_free(&png)
            throw ImageError.corrupt(path: name, reason: message)
        }
        return fromLinear16(buffer, width: width, height: height, channels: channels, hasAlpha: hasAlpha)
    }
    var buffer = [UInt8](repeating: 0, count: width * height * stored)
    let finished = buffer.withUnsafeMutableBytes { raw in
        png_image_finish_read(&png, nil, raw.baseAddress, Int32(width * stored), nil)
    }
    guard finished != 0 else {
        let message = pngMessage(&png)
        png_image_free(&png)
        throw ImageError.corrupt(path: name, reason: message)
    }
    if !hasAlpha { return Image(interleaved8: buffer, width: width, height: height, channels: channels) }
    return compositeOntoWhite(buffer, width: width, height: height, channels: channels)
}

/// 16-bit linear samples (premultiplied when there is alpha) back to sRGB, composited over white.
// NOTE: libpng linearises 16-bit sRGB with a pure 2.2 power (PNG_GAMMA_sRGB_INVERSE), not the sRGB curve,
// so its exact inverse, v = linear^(1/2.2), recovers the file's encoded values.
private func fromLinear16(_ buffer: [UInt16], width: Int, height: Int, channels: Int, hasAlpha: Bool) -> Image {
    var out = Image(width: width, height: height, channels: channels)
    let plane = width * height, stored = channels + (hasAlpha ? 1 : 0)
    let encode = 0.45455
    buffer.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0 ..< plane {
                let a = hasAlpha ? Double(src[i * stored + channels]) / 65535 : 1
                for c in 0 ..< channels {
                    // Un-premultiplied (nothing to undo where a is 0: white).
                    let premultiplied = Double(src[i * stored + c]) / 65535
                    dst[c * plane + i] = a == 0 ? 1 : Float(overWhite(pow(min(premultiplied / a, 1), encode), alpha: a))
                }
            }
        }
    }
    return out
}

/// An sRGB-encoded sample `v` of coverage `alpha` over white paper, blended in linear light (the rule of
/// `compositeOntoWhite`, which tables it for 8-bit samples).
@inline(__always)
func overWhite(_ v: Double, alpha a: Double) -> Double {
    a == 1 ? v : a == 0 ? 1 : linearToSRGB(srgbToLinear(v) * a + (1 - a))
}

/// Interleaved 8-bit colour + alpha composited over white paper in linear light.
// NOTE: libpng can composite itself (finish_read's background argument), but libpng 1.6.39 gets
// 16-bit interlaced files with alpha wrong that way (transparent pixels come out dark), and its
// table-driven blend is ~2 levels off; this is exact and as fast.
func compositeOntoWhite(_ buffer: [UInt8], width: Int, height: Int, channels: Int) -> Image {
    let toLinear = (0 ..< 256).map { srgbToLinear(Double($0) / 255) }
    var out = Image(width: width, height: height, channels: channels)
    let plane = width * height, stored = channels + 1
    buffer.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0 ..< plane {
                let alpha = Int(src[i * stored + channels])
                for c in 0 ..< channels {
                    let v = Int(src[i * stored + c])
                    if alpha == 255 {
                        dst[c * plane + i] = Float(v) / 255
                    } else if alpha == 0 {
                        dst[c * plane + i] = 1
                    } else {
                        let a = Double(alpha) / 255
                        dst[c * plane + i] = Float(linearToSRGB(toLinear[v] * a + (1 - a)))
                    }
                }
            }
        }
    }
    return out
}

/// Encodes an image (1 or 3 channels, values clamped to [0, 1]) as an 8-bit grey or RGB PNG.
public func encodePNG(_ image: Image, name: String = "image") throws -> [UInt8] {
    guard image.channels == 1 || image.channels == 3 else {
        throw ImageError.writeFailed(path: name, reason: "PNG output needs 1 or 3 channels, got \(image.channels)")
    }
    guard image.width > 0, image.height > 0 else {
        throw ImageError.writeFailed(path: name, reason: "image is empty (\(image.width)x\(image.height))")
    }
    let buffer = image.interleaved8()
    var png = png_image()
    png.version = imageVersion
    png.width = UInt32(image.width)
    png.height = UInt32(image.height)
    png.format = image.channels == 3 ? formatFlagColor : 0
    let stride = Int32(image.width * image.channels)
    var size: png_alloc_size_t = 0
    // First call measures, second writes.
    var ok = buffer.withUnsafeBytes { raw in
        png_image_write_to_memory(&png, nil, &size, 0, raw.baseAddress, stride, nil)
    }
    guard ok != 0 else {
        let message = pngMessage(&png)
        png_image_free(&png)
        throw ImageError.writeFailed(path: name, reason: message)
    }
    var out = [UInt8](repeating: 0, count: Int(size))
    ok = out.withUnsafeMutableBytes { dst in
        buffer.withUnsafeBytes { raw in
            png_image_write_to_memory(&png, dst.baseAddress, &size, 0, raw.baseAddress, stride, nil)
        }
    }
    guard ok != 0 else {
        let message = pngMessage(&png)
        png_image_free(&png)
        throw ImageError.writeFailed(path: name, reason: message)
    }
    out.removeLast(out.count - Int(size))
    return out
}

extension Image {
    /// From interleaved 8-bit samples (RGBRGB... or grey), each divided by 255.
    public init(interleaved8 bytes: [UInt8], width: Int, height: Int, channels: Int) {
        precondition(bytes.count == width * height * channels)
        var px = [Float](repeating: 0, count: bytes.count)
        let plane = width * height
        bytes.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< plane {
                    for c in 0 ..< channels {
                        dst[c * plane + i] = Float(src[i * channels + c]) / 255
                    }
                }
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: px)
    }

    /// Interleaved 8-bit samples, round(clamp(v, 0, 1) * 255).
    public func interleaved8() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let plane = planeSize, ch = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0 ..< plane {
                    for c in 0 ..< ch {
                        let v = src[c * plane + i]
                        let q = v.isNaN ? 0 : min(max(v, 0), 1) * 255 + 0.5
                        dst[i * ch + c] = UInt8(q)
                    }
                }
            }
        }
        return out
    }
}
