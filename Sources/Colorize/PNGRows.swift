import CImageCodecs
import Foundation

// PNG files read and written a band of rows at a time, for strips too big to decode whole (Bands.swift),
// through libpng's full API (Sources/CImageCodecs/png_bands.c, which keeps libpng's setjmp on its side).
//
// Rows come out as the whole-page decode (PNG.swift) gives them: grey files as 1 channel, colour and
// palette files as 3, alpha (and tRNS) composited onto white paper in linear light, 16-bit files at full
// precision. Adam7-interlaced files are refused with advice: their rows only exist after the seventh pass.
// A truncated or corrupt file is an `ImageError.corrupt` naming it, at the row where it breaks.
//
// Writes go to the temporary name of an atomic write (`.NAME.tmp-PID-RANDOM`, TemporaryFiles.swift,
// removed on SIGINT/SIGTERM while it exists) and are renamed over the target only once every row is in
// (`finish`); a writer dropped or cancelled before that removes its temporary, so a strip that fails half
// way leaves neither an output nor a temporary behind.
//
// API:
//   PNGRowReader(path:maxWidth:maxHeight:) throws    .width, .height, .channels, .rowsRead,
//                                                    readRows(_ count:) throws -> Image (count x width)
//   PNGRowWriter(path:width:height:channels:) throws  write(_ rows: Image) throws, finish() throws, cancel()

/// Reads a non-interlaced PNG file from top to bottom, some rows at a time.
final class PNGRowReader {
    let path: String
    let width: Int
    let height: Int
    /// 1 (grey) or 3 (RGB), as `decodePNG` gives the file.
    let channels: Int
    private(set) var rowsRead = 0
    private let alpha: Bool
    private let depth: Int
    private let rowBytes: Int
    private var reader: OpaquePointer?

    init(path: String, maxWidth: Int = ImageLimits.maxBandWidth, maxHeight: Int = ImageLimits.maxStripHeight) throws {
        self.path = path
        var info = mc_png_info()
        var handle: OpaquePointer? = nil
        var message = [CChar](repeating: 0, count: 256)
        let status = mc_png_reader_open(path, maxWidth, maxHeight, &handle, &info, &message, message.count)
        let reason = cMessage(message)
        switch status {
        case 0: break
        case 2:
            throw ImageError.unsupported(path: path, reason: "the file is Adam7-interlaced, so its rows cannot be "
                + "read one band at a time; save it again without interlacing (e.g. `magick IN.png -interlace "
                + "none OUT.png`) or cut it into parts first")
        case 3: throw ImageError.unreadable(path: path, reason: reason)
        default: throw ImageError.corrupt(path: path, reason: reason)
        }
        reader = handle
        width = Int(info.width)
        height = Int(info.height)
        channels = Int(info.channels)
        alpha = info.alpha != 0
        depth = Int(info.depth)
        rowBytes = Int(info.row_bytes)
    }

    deinit { mc_png_reader_close(reader) }

    /// The next `count` rows (at most the rows left) as a width x count image.
    func readRows(_ count: Int) throws -> Image {
        precondition(count >= 0 && count <= height - rowsRead, "reading \(count) rows past row \(rowsRead) of \(height)")
        var message = [CChar](repeating: 0, count: 256)
        let stored = channels + (alpha ? 1 : 0)
        let image: Image
        if depth == 16 {
            var buffer = [UInt16](repeating: 0, count: count * rowBytes / 2)
            let status = buffer.withUnsafeMutableBytes { raw in
                mc_png_reader_read_rows(reader, raw.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count),
                                        &message, message.count)
            }
            guard status == 0 else { throw ImageError.corrupt(path: path, reason: cMessage(message)) }
            image = fromSRGB16(buffer, width: width, height: count, channels: channels, hasAlpha: alpha)
        } else {
            var buffer = [UInt8](repeating: 0, count: count * rowBytes)
            let status = buffer.withUnsafeMutableBufferPointer { raw in
                mc_png_reader_read_rows(reader, raw.baseAddress, Int32(count), &message, message.count)
            }
            guard status == 0 else { throw ImageError.corrupt(path: path, reason: cMessage(message)) }
            precondition(rowBytes == width * stored)
            image = alpha ? compositeOntoWhite(buffer, width: width, height: count, channels: channels)
                : Image(interleaved8: buffer, width: width, height: count, channels: channels)
        }
        rowsRead += count
        return image
    }
}

/// Interleaved 16-bit sRGB-encoded samples (alpha last when `hasAlpha`) composited over white in linear light.
private func fromSRGB16(_ buffer: [UInt16], width: Int, height: Int, channels: Int, hasAlpha: Bool) -> Image {
    var out = Image(width: width, height: height, channels: channels)
    let plane = width * height, stored = channels + (hasAlpha ? 1 : 0)
    buffer.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0 ..< plane {
                let a = hasAlpha ? Double(src[i * stored + channels]) / 65535 : 1
                for c in 0 ..< channels {
                    dst[c * plane + i] = Float(overWhite(Double(src[i * stored + c]) / 65535, alpha: a))
                }
            }
        }
    }
    return out
}

/// Writes an 8-bit grey or RGB PNG a band of rows at a time, atomically (see the file header).
final class PNGRowWriter {
    /// The target, which appears only when `finish` succeeds.
    let path: String
    let width: Int
    let height: Int
    let channels: Int
    private(set) var rowsWritten = 0
    private let temporary: String
    private let slot: Int32
    private var writer: OpaquePointer?
    private var closed = false

    init(path: String, width: Int, height: Int, channels: Int) throws {
        self.path = path
        self.width = width
        self.height = height
        self.channels = channels
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max), channels == 1 || channels == 3 else {
            throw ImageError.writeFailed(path: path, reason: "a PNG needs sides of 1 to 2^31 - 1 pixels and 1 or 3 "
                + "channels, not \(width)x\(height)x\(channels)")
        }
        temporary = temporaryName(for: path)
        slot = InFlightTemporaries.register(temporary)
        var handle: OpaquePointer? = nil
        var message = [CChar](repeating: 0, count: 256)
        let status = mc_png_writer_open(temporary, Int32(width), Int32(height), Int32(channels),
                                        &handle, &message, message.count)
        guard status == 0 else {
            mc_png_writer_abort(handle)
            unlink(temporary)
            InFlightTemporaries.unregister(slot)
            closed = true
            let folder = (path as NSString).deletingLastPathComponent
            var isFolder: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder)
            throw ImageError.writeFailed(path: path, reason: exists && isFolder.boolValue
                ? "\(cMessage(message)): the folder is not writable or the disk is full"
                : "folder \(folder) does not exist")
        }
        writer = handle
    }

    deinit { cancel() }

    /// Appends `rows` (this writer's width and channels; values clamped to [0, 1] and rounded to 8 bits).
    func write(_ rows: Image) throws {
        precondition(!closed, "writing to a finished or cancelled PNGRowWriter")
        precondition(rows.width == width && rows.channels == channels, "rows of \(rows.width)x\(rows.channels), "
            + "writer of \(width)x\(channels)")
        guard rows.height <= height - rowsWritten else {
            cancel()
            throw ImageError.writeFailed(path: path, reason: "\(rows.height) more rows than the \(height) of the image")
        }
        let bytes = rows.interleaved8()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { raw in
            mc_png_writer_write_rows(writer, raw.baseAddress, width * channels, Int32(rows.height), &message, message.count)
        }
        guard status == 0 else {
            cancel()
            throw ImageError.writeFailed(path: path, reason: "\(cMessage(message)) (the disk may be full)")
        }
        rowsWritten += rows.height
    }

    /// Ends the file and renames it over `path`. Throws (and removes the temporary) when rows are missing,
    /// the last bytes cannot be written, or the rename fails.
    func finish() throws {
        precondition(!closed, "finishing a finished or cancelled PNGRowWriter")
        var message = [CChar](repeating: 0, count: 256)
        let status = mc_png_writer_finish(writer, &message, message.count)
        writer = nil
        closed = true
        defer { InFlightTemporaries.unregister(slot) }
        guard status == 0 else {
            unlink(temporary)
            throw ImageError.writeFailed(path: path, reason: rowsWritten == height
                ? "\(cMessage(message)) (the disk may be full)"
                : "only \(rowsWritten) of \(height) rows were written")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImageError.writeFailed(path: path, reason: reason)
        }
    }

    /// Drops an unfinished file: its temporary is removed. Nothing happens after `finish`.
    func cancel() {
        guard !closed else { return }
        closed = true
        mc_png_writer_abort(writer)
        writer = nil
        unlink(temporary)
        InFlightTemporaries.unregister(slot)
    }
}

/// The NUL-terminated message the C side left in `buffer`.
private func cMessage(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
