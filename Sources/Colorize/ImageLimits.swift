import Foundation

// The pixel budget, checked from a file's header before any pixel buffer is allocated.
//
// Two checks, both before decoding:
// - the size: at most `maxSide` pixels per side (JPEG's own limit) and `maxPixels` in all. A decoded page
//   costs about 20 bytes a pixel (16-bit RGBA buffer plus float planes) before the pipeline's own planes,
//   so 100 Mpx is ~2 GB; a 800x31000 webtoon strip (25 Mpx) passes, and the pipeline tiles it.
// - for PNG, what the file can hold: deflate expands at most ~1032:1, so a file of B bytes decodes to at
//   most ~1032 B bytes of rows. A 69-byte file claiming 29000x6800 16-bit RGBA (1.6 GB of rows) is refused
//   as crafted or truncated without allocating anything.
//
// API:
//   ImageLimits.maxSide, ImageLimits.maxPixels
//   ImageLimits.check(width:height:path:) throws       ImageError.tooLarge / .corrupt
//   ImageLimits.checkPNGHeader(_ bytes:, path:) throws  the IHDR size against the budget and the file's bytes

/// Size limits checked before any pixel buffer is allocated.
public enum ImageLimits {
    public static let maxSide = 65_500
    public static let maxPixels = 100_000_000
    /// A 100 Mpx 16-bit RGBA PNG of noise is ~800 MB; no page file needs more.
    public static let maxFileBytes = 1 << 30
    /// deflate's largest expansion is 1032:1; a little slack for zlib headers and chunk overhead.
    static let deflateExpansion = 1040

    static func check(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw ImageError.corrupt(path: path, reason: "size \(width)x\(height) is empty")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if width > maxSide || height > maxSide || overflow || pixels > maxPixels {
            throw ImageError.tooLarge(path: path, width: width, height: height)
        }
    }

    /// Reads width, height, bit depth and colour type from a PNG's IHDR chunk (which must come first) and
    /// refuses sizes past the budget, and rows that the file's bytes cannot hold even at deflate's best.
    static func checkPNGHeader(_ bytes: [UInt8], path: String) throws {
        // signature (8), chunk length (4), "IHDR" (4), width (4), height (4), bit depth (1), colour type (1)
        guard bytes.count >= 26, bytes[12...15].elementsEqual("IHDR".utf8) else {
            throw ImageError.corrupt(path: path, reason: "the PNG does not start with its IHDR header")
        }
        func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let width = u32(16), height = u32(20)
        try check(width: width, height: height, path: path)
        let depth = Int(bytes[24])
        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(bytes[25])] ?? 1
        // Each row: a filter byte plus ceil(width * bits per pixel / 8).
        let rowBytes = 1 + (width * depth * samples + 7) / 8
        let rows = rowBytes * height
        if rows > deflateExpansion * bytes.count {
            throw ImageError.corrupt(path: path, reason:
                "its header claims \(width)x\(height) pixels (\(rows) bytes of rows), more than a \(bytes.count)-byte "
                + "file can hold; the file is truncated or crafted")
        }
    }
}
