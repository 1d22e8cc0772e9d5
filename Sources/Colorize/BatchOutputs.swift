import Foundation

// Where a batch's pages go, decided and checked before any page is computed, so that no page is lost:
//
// - `-o OUT.png` names one file: allowed for exactly one page; any other image extension is refused
//   (outputs are PNG). Anything else is a folder (created if missing).
// - no two pages map to one output: `vol1/001.png` and `vol2/001.png` given as two folders keep their folder
//   names under OUT (collectPages); what still collides (`p.png` beside `p.jpg`, two folders of the same name,
//   a glob matching `a/001.png` and `b/001.png`) is refused, naming both pages, before any work. Outputs
//   that differ only in letter case (`vol1/A.png` and `vol2/a.png` given as files: `out/A.png` and
//   `out/a.png`) are refused too, on every file system: they are one file on macOS's and Windows's default
//   case-insensitive ones, and an output folder made on Linux is often read there.
// - no output is one of the inputs (`colorize a.png -o a.png`, `colorize pages -o pages`, and an existing
//   output that is an input's file under another spelling: `-o A.png` for `a.png` on a case-insensitive disk).
// - every output folder is created and shown writable up front, and temporaries left there by a killed
//   run are removed.
//
// API: BatchError, outputPaths(for:output:) throws -> [String], prepareOutputFolders(for:) throws

/// Why a batch cannot start. Found before any page is computed.
public enum BatchError: Error, CustomStringConvertible, Equatable {
    case collision(target: String, sources: [String])
    case caseCollision(targets: [String], sources: [String])
    case overwritesInput(target: String, source: String)
    case fileOutputForManyPages(output: String, pages: Int)
    case notPNGOutput(output: String)
    case outputNotWritable(folder: String, reason: String)

    public var description: String {
        switch self {
        case .collision(let target, let sources):
            "\(sources.joined(separator: " and ")) would all be written to \(target); rename one of them or "
                + "colorize them into separate output folders (nothing was written)"
        case .caseCollision(let targets, let sources):
            "\(sources.joined(separator: " and ")) would be written to \(targets.joined(separator: " and ")), which "
                + "differ only in letter case: one file on a case-insensitive file system (macOS, Windows); rename "
                + "one of them or colorize them into separate output folders (nothing was written)"
        case .overwritesInput(let target, let source):
            "the output \(target) is the input page \(source); choose another output file or folder (nothing was written)"
        case .fileOutputForManyPages(let output, let pages):
            "-o \(output) names one file, but \(pages) pages were given; give a folder for -o"
        case .notPNGOutput(let output):
            "-o \(output): pages are written as PNG; name the file .png or give a folder"
        case .outputNotWritable(let folder, let reason):
            "cannot write into \(folder): \(reason) (nothing was computed)"
        }
    }
}

/// The output path of every job, in job order: `output` itself when it names a `.png` file (one job only),
/// else `output/relativeOutput`. Throws `BatchError` for a file output with several jobs, two jobs with one
/// output (also when the two differ only in letter case), or an output that is one of the inputs; the layer
/// files of `layers` beside each output count too.
public func outputPaths(for jobs: [PageJob], output: String, layers: [String] = []) throws -> [String] {
    var isFolder: ObjCBool = false
    let existingFolder = FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue
    let ext = (output as NSString).pathExtension.lowercased()
    let targets: [String]
    if !existingFolder && imageFileExtensions.contains(ext) {
        guard ext == "png" else { throw BatchError.notPNGOutput(output: output) }
        guard jobs.count == 1 else { throw BatchError.fileOutputForManyPages(output: output, pages: jobs.count) }
        targets = [output]
    } else {
        targets = jobs.map { (output as NSString).appendingPathComponent($0.relativeOutput) }
    }
    let sources = Dictionary(jobs.map { (canonicalPath($0.source), $0.source) }, uniquingKeysWith: { a, _ in a })
    let sourceFiles = Dictionary(jobs.compactMap { job in fileIdentity(job.source).map { ($0, job.source) } },
                                 uniquingKeysWith: { a, _ in a })
    var claimed: [String: Int] = [:]
    // NOTE: Swift compares strings by canonical equivalence, so these keys also equate the composed and
    // decomposed spellings of a name (é as one code point or e + accent), as macOS's file systems do.
    var claimedFolded: [String: (index: Int, file: String)] = [:]
    for (i, target) in targets.enumerated() {
        for file in [target] + layers.map({ layerPath(target, $0) }) {
            let key = canonicalPath(file)
            if let source = sources[key] ?? fileIdentity(file).flatMap({ sourceFiles[$0] }) {
                throw BatchError.overwritesInput(target: file, source: source)
            }
            if let first = claimed[key] {
                throw BatchError.collision(target: file, sources: [jobs[first].source, jobs[i].source])
            }
            if let first = claimedFolded[key.lowercased()] {
                throw BatchError.caseCollision(targets: [first.file, file], sources: [jobs[first.index].source, jobs[i].source])
            }
            claimed[key] = i
            claimedFolded[key.lowercased()] = (i, file)
        }
    }
    return targets
}

/// The device and inode of an existing file (nil when it does not exist): equal for two spellings of one
/// file that path comparison cannot see as one (letter case on a case-insensitive disk, hard links).
private func fileIdentity(_ path: String) -> [Int]? {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
          let device = (attributes[.systemNumber] as? NSNumber)?.intValue,
          let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue else { return nil }
    return [device, inode]
}

/// Creates the folder of every target, proves each writable by creating and removing a probe file, and
/// removes temporaries that killed runs left there. Throws `BatchError.outputNotWritable` naming the folder.
public func prepareOutputFolders(for targets: [String]) throws {
    let fm = FileManager.default
    let folders = Set(targets.map { t -> String in
        let folder = (t as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    })
    for folder in folders.sorted() {
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            var isFolder: ObjCBool = false
            let reason = fm.fileExists(atPath: folder, isDirectory: &isFolder) && !isFolder.boolValue
                ? "it is a file, not a folder" : "the folder cannot be created (a parent is a file, or no permission)"
            throw BatchError.outputNotWritable(folder: folder, reason: reason)
        }
        let probe = (folder as NSString).appendingPathComponent(".mangacolor-write-test-\(ProcessInfo.processInfo.processIdentifier)")
        guard fm.createFile(atPath: probe, contents: Data()) else {
            throw BatchError.outputNotWritable(folder: folder, reason: "no permission to create files, or the disk is full or read-only")
        }
        try? fm.removeItem(atPath: probe)
        removeStaleTemporaries(in: folder)
    }
}

/// An absolute path with `.`/`..` and symbolic links resolved, also for files that do not exist yet (their
/// nearest existing folder is resolved). Two spellings of one file give one string.
func canonicalPath(_ path: String) -> String {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    if FileManager.default.fileExists(atPath: url.path) { return url.resolvingSymlinksInPath().path }
    let parent = url.deletingLastPathComponent()
    if parent.path == url.path { return url.path }
    return (canonicalPath(parent.path) as NSString).appendingPathComponent(url.lastPathComponent)
}
