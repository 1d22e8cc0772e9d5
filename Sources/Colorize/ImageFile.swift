import Foundation

// Reading and writing image files. The format is chosen from the bytes (PNG or JPEG signature), not the
// extension. Writes go to a temporary name in the same folder and are renamed over the target, so a
// crash or full disk never leaves a half-written page behind.
//
// API:
//   readImage(path:) throws -> Image                   PNG or JPEG
//   writePNG(_ image: Image, path:) throws             8-bit grey or RGB, atomic
//   writeJPEG(_ image: Image, path:, quality:) throws  atomic (internal: for test inputs)
//   imageFileExtensions                                extensions `listImages(in:)` picks up
//   listImages(in folder:) throws -> [String]          sorted image paths in a folder (not recursive)

/// Lower-case file extensions treated as images when a folder is given.
public let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg"]

/// Reads a PNG or JPEG file into an Image (1 channel for grey files, 3 for colour).
public func readImage(path: String) throws -> Image {
    // Checked before reading: a FIFO or device (/dev/zero) would be read forever, a huge file into memory.
    // A symbolic link is judged by what it points to (a folder of links to pages is a normal data set).
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    if let attributes = try? FileManager.default.attributesOfItem(atPath: resolved) {
        if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
            throw ImageError.unreadable(path: path, reason: "not a regular file")
        }
        if let size = attributes[.size] as? Int, size > ImageLimits.maxFileBytes {
            throw ImageError.unsupported(path: path, reason: "the file holds \(size / 1_000_000) MB, more than the "
                + "\(ImageLimits.maxFileBytes / 1_000_000) MB a page may; scale it down or cut it into parts first")
        }
    }
    let bytes: [UInt8]
    do {
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        let reason = FileManager.default.fileExists(atPath: path) ? "the file cannot be opened" : "no such file"
        throw ImageError.unreadable(path: path, reason: reason)
    }
    if isPNG(bytes) { return try decodePNG(bytes, name: path) }
    if isJPEG(bytes) { return try decodeJPEG(bytes, name: path) }
    if bytes.isEmpty { throw ImageError.corrupt(path: path, reason: "the file is empty") }
    throw ImageError.unsupported(path: path, reason: "not a PNG or JPEG file (convert it to PNG first)")
}

/// Writes an image as an 8-bit PNG, atomically.
public func writePNG(_ image: Image, path: String) throws {
    try writeAtomically(try encodePNG(image, name: path), path: path)
}

/// Writes an image as a JPEG, atomically. Internal: pages are written as PNG; the tests make JPEG inputs with it.
func writeJPEG(_ image: Image, path: String, quality: Int = 92) throws {
    try writeAtomically(try encodeJPEG(image, quality: quality, name: path), path: path)
}

/// Writes `bytes` to `.NAME.tmp-<pid>-<random>` in the same folder, then renames it over `path`. The
/// temporary is removed on failure, and on SIGINT/SIGTERM while it exists (TemporaryFiles.swift).
func writeAtomically(_ bytes: [UInt8], path: String) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    let temporary = URL(fileURLWithPath: temporaryName(for: path))
    let slot = InFlightTemporaries.register(temporary.path)
    defer { InFlightTemporaries.unregister(slot) }
    do {
        try Data(bytes).write(to: temporary)
    } catch {
        try? FileManager.default.removeItem(at: temporary)  // a full disk leaves a partial file
        var isFolder: ObjCBool = false
        let reason = FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) && isFolder.boolValue
            ? "the folder is not writable or the disk is full" : "folder \(folder.path) does not exist"
        throw ImageError.writeFailed(path: path, reason: reason)
    }
    if rename(temporary.path, path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw ImageError.writeFailed(path: path, reason: reason)
    }
}

/// Image files directly inside `folder`, sorted by name.
public func listImages(in folder: String) throws -> [String] {
    let names: [String]
    do {
        names = try FileManager.default.contentsOfDirectory(atPath: folder)
    } catch {
        throw ImageError.unreadable(path: folder, reason: "cannot list the folder")
    }
    return names.filter { !$0.hasPrefix(".") && imageFileExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
        .sorted()
        .map { (folder as NSString).appendingPathComponent($0) }
}
