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
// Past the size budget, a PNG strip is not decoded whole but streamed in bands of rows (Bands.swift), so
// memory follows the band, not the strip: allowed when it is at most `maxBandWidth` (16 384) px wide and
// `maxStripHeight` (2^31 - 1, PNG's own limit) tall, is not Adam7-interlaced (its rows only exist after the
// seventh pass), and one band with its margins fits the budget. The deflate check applies to strips too.
// What cannot stream (JPEG, interlaced or too wide PNG) stays refused, with advice.
//
// API:
//   ImageLimits.maxSide, ImageLimits.maxPixels, maxBandWidth, maxStripHeight
//   ImageLimits.check(width:height:path:) throws       ImageError.tooLarge / .corrupt
//   ImageLimits.checkPNGHeader(_ bytes:, path:) throws  the IHDR size against the budget and the file's bytes
//   ImageLimits.pngHeader(_ bytes:, path:) throws -> PNGHeader   IHDR's fields
//   ImageLimits.fitsWhole(width:height:pixels:) -> Bool          within the budget for decoding whole
//   ImageLimits.checkPNGStrip(_:fileBytes:path:bands:) throws -> Int   rows a band of a strip may keep

/// Size limits checked before any pixel buffer is allocated.
public enum ImageLimits {
    public static let maxSide = 65_500
    public static let maxPixels = 100_000_000
    /// A 100 Mpx 16-bit RGBA PNG of noise is ~800 MB; no page file needs more (read whole; strips stream).
    public static let maxFileBytes = 1 << 30
    /// Widest PNG strip processed in bands: 16 384 px (the widest a band of 4096 rows plus 2 x 256 rows of
    /// margin keeps within the 100 Mpx budget: 75 Mpx). Wider pages are cut, not banded.
    public static let maxBandWidth = 16_384
    /// Tallest PNG strip processed in bands: PNG's own limit on a side.
    public static let maxStripHeight = Int(Int32.max)
    /// deflate's largest expansion is 1032:1; a little slack for zlib headers and chunk overhead.
    static let deflateExpansion = 1040

    /// The fields of a PNG's IHDR chunk this package looks at.
    struct PNGHeader: Equatable {
        var width: Int, height: Int, depth: Int, colourType: Int
        var interlaced: Bool
    }

    static func check(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw ImageError.corrupt(path: path, reason: "size \(width)x\(height) is empty")
        }
        if !fitsWhole(width: width, height: height) {
            throw ImageError.tooLarge(path: path, width: width, height: height)
        }
    }

    /// True when a width x height page is within `maxSide` a side and `pixels` (at most `maxPixels`) in all.
    static func fitsWhole(width: Int, height: Int, pixels budget: Int = maxPixels) -> Bool {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        return width <= maxSide && height <= maxSide && !overflow && pixels <= min(budget, maxPixels)
    }

    /// Reads width, height, bit depth, colour type and interlacing from a PNG's IHDR chunk (which must
    /// come first; `bytes` may be only the file's start, 29 bytes or more).
    static func pngHeader(_ bytes: [UInt8], path: String) throws -> PNGHeader {
        // signature (8), chunk length (4), "IHDR" (4), width (4), height (4), bit depth (1), colour type (1),
        // compression (1), filter (1), interlace (1)
        guard bytes.count >= 26, bytes[12...15].elementsEqual("IHDR".utf8) else {
            throw ImageError.corrupt(path: path, reason: "the PNG does not start with its IHDR header")
        }
        func u32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return PNGHeader(width: u32(16), height: u32(20), depth: Int(bytes[24]), colourType: Int(bytes[25]),
                         interlaced: bytes.count > 28 && bytes[28] != 0)
    }

    /// Refuses sizes past the budget, and rows that the file's bytes cannot hold even at deflate's best.
    static func checkPNGHeader(_ bytes: [UInt8], path: String) throws {
        let header = try pngHeader(bytes, path: path)
        try check(width: header.width, height: header.height, path: path)
        try checkPNGRows(header, fileBytes: bytes.count, path: path)
    }

    /// Refuses a header whose rows a file of `fileBytes` cannot hold (sides must be below 2^31).
    static func checkPNGRows(_ header: PNGHeader, fileBytes: Int, path: String) throws {
        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][header.colourType] ?? 1
        // Each row: a filter byte plus ceil(width * bits per pixel / 8).
        let rowBytes = 1 + (header.width * header.depth * samples + 7) / 8
        let rows = rowBytes * header.height
        if rows > deflateExpansion * fileBytes {
            throw ImageError.corrupt(path: path, reason:
                "its header claims \(header.width)x\(header.height) pixels (\(rows) bytes of rows), more than a "
                + "\(fileBytes)-byte file can hold; the file is truncated or crafted")
        }
    }

    /// For a PNG past the whole-page budget: refuses it unless it can stream in bands (see the file header)
    /// and returns how many rows a band keeps, `bands.rows` or fewer so that a band with its margins stays
    /// within the budget.
    static func checkPNGStrip(_ header: PNGHeader, fileBytes: Int, path: String, bands: BandOptions) throws -> Int {
        let width = header.width, height = header.height
        guard width > 0, height > 0 else {
            throw ImageError.corrupt(path: path, reason: "size \(width)x\(height) is empty")
        }
        guard width <= maxBandWidth, height <= maxStripHeight else {
            throw ImageError.tooLarge(path: path, width: width, height: height)
        }
        try checkPNGRows(header, fileBytes: fileBytes, path: path)
        if header.interlaced {
            throw ImageError.unsupported(path: path, reason: "\(width)x\(height) pixels is more than this tool "
                + "decodes whole, and the file is Adam7-interlaced, so its rows cannot be read one band at a "
                + "time; save it again without interlacing (e.g. `magick IN.png -interlace none OUT.png`) or "
                + "cut it into parts first")
        }
        let rows = min(bands.rows, min(bands.pagePixels, maxPixels) / width - 2 * bands.margin)
        guard rows >= 1 else { throw ImageError.tooLarge(path: path, width: width, height: height) }
        return rows
    }
}
