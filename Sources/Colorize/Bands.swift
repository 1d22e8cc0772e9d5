import Foundation
import Tensor

// Webtoon strips past the pixel budget (ImageLimits.swift: 100 Mpx decoded whole), colorized in horizontal
// bands with memory bounded by the band, not the strip: a 1000 x 110 000 PNG (110 Mpx) is read, colorized
// and written 4096 rows at a time.
//
//   strip.png ──rows──> band = own rows + margin above and below (clipped at the ends)
//             ──> colorizePageDetailed (the one-page pipeline, same options)
//             ──> own rows kept, seams blended ──rows──> out.png
//
// - The margins (256 rows by default) give every band's own rows the context the pipeline looks at:
//   screentone lattices, the generator's receptive field (the tiles of Tiling.swift overlap inside each
//   band), the guided upsampling of a reduced model scale. A pointwise stage gives exactly the whole-page
//   result; a local one whose reach is below half the margin does too (the tests check both).
// - What the pipeline decides for a whole page is decided once for the strip, in a first pass over all of
//   its rows (bands again, nothing kept): whether it is already in colour (the vivid share over every
//   band's own rows) and its page kind (`classifyPage`'s share of flat mid grey, counted band by band with
//   the 5x5 window's context: the same share as over the whole strip). Every band is then forced onto that
//   kind, so bands never flip between the grey and manga paths.
// - Still per band (a region or statistic that spans a seam can come out differently on its two sides):
//   the screen period of manga descreening (the median of the band's screen elements), `--flat`'s
//   ink-bounded regions and a reference palette's region matching. With 4096-row bands on a page-wide strip
//   these see whole panels.
// - Seams are blended: around each one, over `margin` rows (the middle half of the two bands' overlap, so
//   each band's weight ends half a margin inside its context), the output goes linearly from the upper
//   band's to the lower band's, as Tiling.swift blends its tiles. Where the two agree (a pointwise stage,
//   or one that reaches less than half a margin) that is exactly the whole-page result. A U-Net's receptive
//   field reaches farther than a margin, so two bands' colours can differ slightly; the blend keeps that
//   from showing as a step.
// - Rows are read and written through libpng's row API (PNGRows.swift); the output is renamed into place
//   only after its last row, so a strip that breaks half way (a truncated file) leaves nothing behind.
//   `--layers` are streamed the same way, one writer each.
// - Which pages take this path (`bandedStrip`): PNG files past the whole-page budget (`BandOptions.pagePixels`,
//   at most ImageLimits.maxPixels, or a side over ImageLimits.maxSide) that can stream (non-interlaced,
//   at most ImageLimits.maxBandWidth wide); bands shrink below `rows` if a wide one would pass the budget.
//
// API: BandOptions, PNGStrip, bandedStrip(path:options:) throws -> PNGStrip?,
//      StripOutcome, colorizeStrip(_:to:options:generator:) throws -> StripOutcome
//      (internal: BandReader, Band, seamHalfWidth, blendAcrossSeam, Image(stackingRows:))

/// How strips are cut into bands.
public struct BandOptions: Sendable, Equatable {
    /// Rows each band keeps (fewer when a band and its margins would pass `pagePixels`).
    public var rows = 4096
    /// Rows of context read above and below each band and dropped after colorizing (the middle half of each
    /// two bands' overlap, `margin` rows, is blended).
    public var margin = 256
    /// PNG pages with more pixels than this (at most ImageLimits.maxPixels) are processed in bands; it also
    /// caps a band's area with its margins.
    public var pagePixels = ImageLimits.maxPixels

    public init(rows: Int = 4096, margin: Int = 256, pagePixels: Int = ImageLimits.maxPixels) {
        self.rows = rows
        self.margin = margin
        self.pagePixels = pagePixels
    }
}

/// A PNG file to colorize in bands, as its header describes it.
public struct PNGStrip: Sendable, Equatable {
    public let path: String
    public let width: Int
    public let height: Int
    /// Rows each band keeps (`BandOptions.rows`, or fewer for a wide strip).
    public let bandRows: Int
}

/// The strip at `path` when it is a PNG to process in bands (see the file header); nil when the page is
/// to be decoded whole (`readImage` then reads it, or refuses it: not a PNG, not a regular file, JPEG past
/// the budget). Throws for a PNG past the budget that cannot stream (interlaced, too wide), or whose size
/// its bytes cannot hold (crafted or truncated), reading nothing but its first bytes.
public func bandedStrip(path: String, options: BandOptions) throws -> PNGStrip? {
    guard options.rows >= 1, options.margin >= 0 else {
        throw ImageError.mismatch("bands need at least 1 row and a margin of 0 or more rows, not \(options.rows) and \(options.margin)")
    }
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: resolved),
          attributes[.type] as? FileAttributeType == .typeRegular,
          let fileBytes = attributes[.size] as? Int,
          let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let start = try? handle.read(upToCount: 33), isPNG([UInt8](start)) else { return nil }
    let header = try ImageLimits.pngHeader([UInt8](start), path: path)
    if ImageLimits.fitsWhole(width: header.width, height: header.height, pixels: options.pagePixels) { return nil }
    if header.width <= 0 || header.height <= 0 { return nil }
    let rows = try ImageLimits.checkPNGStrip(header, fileBytes: fileBytes, path: path, bands: options)
    return PNGStrip(path: path, width: header.width, height: header.height, bandRows: rows)
}

public enum StripOutcome: Sendable, Equatable {
    /// Written, as `kind` (with the share of flat mid grey behind an automatic choice), in `bands` bands.
    case colorized(kind: PageKind, smoothMidShare: Double?, bands: Int)
    /// Skipped: the share of vivid pixels found over the whole strip.
    case alreadyColor(vividShare: Double)
}

/// Colorizes `strip` band by band into `target` (a PNG, written atomically; with `options.keepLayers` also
/// its layers, `layerPath(target, name)`), as `colorizePageDetailed` would colorize it whole (see the
/// file header for what is decided once and what per band).
public func colorizeStrip(_ strip: PNGStrip, to target: String, options: ColorizeOptions,
                          generator: (Tensor) throws -> Tensor) throws -> StripOutcome {
    let decision = try decideStrip(strip, options: options)
    if let vivid = decision.vividShare, vivid > options.colorShare { return .alreadyColor(vividShare: vivid) }
    var bandOptions = options
    bandOptions.pageKind = decision.kind
    bandOptions.skipColorPages = false
    let margin = options.bands.margin
    let bands = try BandReader(strip, margin: margin)
    var writers: [PNGRowWriter] = []
    // An error half way drops every unfinished output with its temporary.
    defer { writers.forEach { $0.cancel() } }
    // Each output's rows around the seam below the previous band, [seam - half, seam + half), to blend.
    var carried: [Image] = []
    var half = 0
    var count = 0
    while let band = try bands.next() {
        // What the previous band freed goes back to the kernel: memory stays at one band's working set
        // (AllocatorTuning.swift: the CLI keeps freed memory in every thread's arena otherwise).
        AllocatorTuning.returnFreedMemory()
        guard case .colorized(let result) = try colorizePageDetailed(band.image, options: bandOptions, generator: generator)
        else { throw ImageError.mismatch("band \(count + 1) of \(strip.path) was skipped as colour") }
        let outputs = [(target, result.image)] + result.layers.map { (layerPath(target, $0.name), $0.image) }
        if writers.isEmpty {
            writers = try outputs.map { try PNGRowWriter(path: $0.0, width: strip.width, height: strip.height, channels: $0.1.channels) }
        }
        guard outputs.count == writers.count else {
            throw ImageError.mismatch("band \(count + 1) of \(strip.path) gave \(outputs.count) images, the first \(writers.count)")
        }
        let seam = band.own.upperBound
        let below = seamHalfWidth(own: band.own.count, next: min(strip.bandRows, strip.height - seam), margin: margin)
        var carry: [Image] = []
        for (i, (writer, output)) in zip(writers, outputs).enumerated() {
            let start = band.own.lowerBound
            if half > 0 { try writer.write(blendAcrossSeam(carried[i], band.rows(start - half ..< start + half, of: output.1))) }
            try writer.write(band.rows(start + half ..< seam - below, of: output.1))
            carry.append(band.rows(seam - below ..< seam + below, of: output.1))
        }
        carried = carry
        half = below
        count += 1
    }
    for writer in writers { try writer.finish() }
    return .colorized(kind: decision.kind, smoothMidShare: decision.smoothMidShare, bands: count)
}

/// Half the rows over which the seam below a band of `own` rows is blended into the next band of `next`
/// rows (0 at the strip's end): `margin / 2`, so that each band's weight ends half a margin inside its
/// context, and at most half of either band, so that the blends at a band's two ends never meet.
func seamHalfWidth(own: Int, next: Int, margin: Int) -> Int {
    next <= 0 ? 0 : min(margin / 2, own / 2, next / 2)
}

/// Rows of two bands over the seam between them (the same rows of the strip), weighted from all `upper` at
/// the top to all `lower` at the bottom along a linear ramp, as Tiling.swift blends tiles. Equal inputs
/// give exactly that input.
func blendAcrossSeam(_ upper: Image, _ lower: Image) -> Image {
    precondition(upper.width == lower.width && upper.height == lower.height && upper.channels == lower.channels)
    var out = upper
    let w = upper.width, h = upper.height
    lower.pixels.withUnsafeBufferPointer { low in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for c in 0 ..< upper.channels {
                for y in 0 ..< h {
                    let t = Float((Double(y) + 0.5) / Double(h))
                    let row = (c * h + y) * w
                    for x in row ..< row + w { dst[x] += (low[x] - dst[x]) * t }
                }
            }
        }
    }
    return out
}

/// What the first pass over a strip found: the page kind (forced, or classified over every row) and, when
/// colour pages are to be skipped, the strip's vivid share (nil for a grey file or when not asked).
private func decideStrip(_ strip: PNGStrip, options: ColorizeOptions)
    throws -> (kind: PageKind, smoothMidShare: Double?, vividShare: Double?) {
    // classifyPage's window reaches 2 rows: bands with that much context count as the whole strip.
    let bands = try BandReader(strip, margin: max(options.bands.margin, 2))
    let checkColour = options.skipColorPages && bands.channels == 3
    if let forced = options.pageKind, !checkColour { return (forced, nil, nil) }
    var smooth = 0, vivid = 0.0
    while let band = try bands.next() {
        if checkColour {
            let own = band.ownRows(of: band.image)
            vivid += chromaStatistics(own).vividShare * Double(own.planeSize)
        }
        if options.pageKind == nil {
            smooth += smoothMidCount(band.image.luminance(), rows: band.own.lowerBound - band.top ..< band.own.upperBound - band.top)
        }
    }
    let pixels = Double(strip.width * strip.height)
    let vividShare = checkColour ? vivid / pixels : nil
    if let forced = options.pageKind { return (forced, nil, vividShare) }
    // The same threshold as colorizePageDetailed's classifyPage(grey).
    let share = Double(smooth) / pixels
    return (share > 0.05 ? .grey : .manga, share, vividShare)
}

/// One band of a strip: its own rows, and the image of those rows with their margins.
struct Band {
    /// Rows of the strip this band keeps.
    let own: Range<Int>
    /// Strip row of `image`'s first row.
    let top: Int
    /// Rows top ..< own.upperBound + margin (clipped), all channels of the file.
    let image: Image

    /// The own rows of `output`, an image of `image`'s size (a band's colorized result or layer).
    func ownRows(of output: Image) -> Image { rows(own, of: output) }

    /// Strip rows `rows` (inside the band's span) of `output`, an image of `image`'s size.
    func rows(_ rows: Range<Int>, of output: Image) -> Image {
        output.cropped(x: 0, y: rows.lowerBound - top, width: output.width, height: rows.count)
    }
}

/// Reads a strip's bands from top to bottom; rows shared by two bands' margins are read once and kept.
final class BandReader {
    let strip: PNGStrip
    let margin: Int
    var channels: Int { reader.channels }
    private let reader: PNGRowReader
    private var nextRow = 0
    /// The previous band's image and its first strip row.
    private var window: Image? = nil
    private var windowTop = 0

    init(_ strip: PNGStrip, margin: Int) throws {
        self.strip = strip
        self.margin = margin
        reader = try PNGRowReader(path: strip.path)
        guard reader.width == strip.width, reader.height == strip.height else {
            throw ImageError.corrupt(path: strip.path, reason: "the file changed while it was read "
                + "(\(reader.width)x\(reader.height), was \(strip.width)x\(strip.height))")
        }
    }

    /// The next band, nil after the last.
    func next() throws -> Band? {
        let height = strip.height
        guard nextRow < height else { return nil }
        let own = nextRow ..< min(nextRow + strip.bandRows, height)
        let top = max(0, own.lowerBound - margin), bottom = min(height, own.upperBound + margin)
        var parts: [Image] = []
        if let window {
            // Consecutive bands' spans overlap (each starts before the previous one ends), so the start is
            // inside the window.
            let windowBottom = windowTop + window.height
            if top < windowBottom {
                parts.append(window.cropped(x: 0, y: top - windowTop, width: window.width, height: windowBottom - top))
            }
        }
        let have = top + parts.reduce(0) { $0 + $1.height }
        precondition(have == reader.rowsRead, "band rows out of step")
        self.window = nil
        parts.append(try reader.readRows(bottom - have))
        let image = parts.count == 1 ? parts[0] : Image(stackingRows: parts)
        window = image
        windowTop = top
        nextRow = own.upperBound
        return Band(own: own, top: top, image: image)
    }
}

extension Image {
    /// Images of one width and channel count, one below the other.
    init(stackingRows parts: [Image]) {
        precondition(!parts.isEmpty)
        let width = parts[0].width, channels = parts[0].channels
        precondition(parts.allSatisfy { $0.width == width && $0.channels == channels }, "parts differ in width or channels")
        let height = parts.reduce(0) { $0 + $1.height }
        var pixels: [Float] = []
        pixels.reserveCapacity(width * height * channels)
        for c in 0 ..< channels {
            for part in parts { pixels += part.pixels[c * part.planeSize ..< (c + 1) * part.planeSize] }
        }
        self.init(width: width, height: height, channels: channels, pixels: pixels)
    }
}
