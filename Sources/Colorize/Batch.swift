import Foundation
import Tensor

// Many pages at once, as `mangacolor colorize IN... -o OUT` runs them: inputs are files, folders (walked
// recursively, relative paths kept under OUT) or glob patterns; one bad page is reported and the rest go on.
//
// API: PageJob, collectPages(_:) throws -> [PageJob], BatchOutcome,
//      colorizePages(_:output:options:generator:progress:) -> BatchOutcome

/// A page to process and where its result goes, relative to the output folder.
public struct PageJob: Sendable, Equatable {
    public let source: String
    public let relativeOutput: String
    public init(source: String, relativeOutput: String) {
        self.source = source
        self.relativeOutput = relativeOutput
    }
}

/// Expands inputs: files as given, folders recursively (keeping relative paths, `.png` outputs), and
/// glob patterns the shell left alone (quoted).
public func collectPages(_ inputs: [String]) throws -> [PageJob] {
    var jobs: [PageJob] = []
    let fm = FileManager.default
    func isImage(_ path: String) -> Bool { imageFileExtensions.contains((path as NSString).pathExtension.lowercased()) }
    func pngName(_ path: String) -> String { (path as NSString).deletingPathExtension + ".png" }
    for input in inputs {
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: input, isDirectory: &isDir) {
            if isDir.boolValue {
                guard let walker = fm.enumerator(atPath: input) else {
                    throw ImageError.unreadable(path: input, reason: "cannot list the folder")
                }
                var found: [String] = []
                for case let rel as String in walker where isImage(rel) && !(rel as NSString).lastPathComponent.hasPrefix(".") {
                    found.append(rel)
                }
                jobs += found.sorted().map { PageJob(source: (input as NSString).appendingPathComponent($0), relativeOutput: pngName($0)) }
            } else {
                jobs.append(PageJob(source: input, relativeOutput: pngName((input as NSString).lastPathComponent)))
            }
        } else if input.contains("*") || input.contains("?") || input.contains("[") {
            let matches = globPaths(input).filter(isImage)
            if matches.isEmpty { throw ImageError.unreadable(path: input, reason: "no pages match the pattern") }
            jobs += matches.map { PageJob(source: $0, relativeOutput: pngName(($0 as NSString).lastPathComponent)) }
        } else {
            throw ImageError.unreadable(path: input, reason: "no such file or folder")
        }
    }
    return jobs
}

/// Where layer `name` of the page written to `target` goes: `stem.name.png` beside it.
public func layerPath(_ target: String, _ name: String) -> String {
    (target as NSString).deletingPathExtension + ".\(name).png"
}

func globPaths(_ pattern: String) -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    guard glob(pattern, 0, nil, &result) == 0 else { return [] }
    return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
}

public struct BatchOutcome: Sendable {
    public var written: [String] = []
    /// The page kind each written page was colorized as (same order as `written`).
    public var kinds: [PageKind] = []
    /// Pages skipped as already in colour, with their share of vivid pixels.
    public var skipped: [(page: String, vividShare: Double)] = []
    /// Pages that failed, with the error's sentence.
    public var failed: [(page: String, reason: String)] = []
}

public enum BatchEvent: Sendable {
    case written(PageJob, path: String, kind: PageKind)
    case skipped(PageJob, vividShare: Double)
    case failed(PageJob, reason: String)
}

/// Colorizes every job into `output` (a folder; or, for a single job, a `.png` path). Never stops at a
/// bad page: its error is recorded and reported through `progress`, and the next page goes on.
public func colorizePages(_ jobs: [PageJob], output: String, options: ColorizeOptions,
                          generator: (Tensor) throws -> Tensor,
                          progress: (BatchEvent, _ done: Int) -> Void = { _, _ in }) -> BatchOutcome {
    var outcome = BatchOutcome()
    let singleFile = jobs.count == 1 && output.lowercased().hasSuffix(".png")
    for (i, job) in jobs.enumerated() {
        let target = singleFile ? output : (output as NSString).appendingPathComponent(job.relativeOutput)
        do {
            let page = try readImage(path: job.source)
            switch try colorizePageDetailed(page, options: options, generator: generator) {
            case .colorized(let result):
                let folder = (target as NSString).deletingLastPathComponent
                if !folder.isEmpty {
                    do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                        throw ImageError.writeFailed(path: folder, reason: "cannot create the folder")
                    }
                }
                try writePNG(result.image, path: target)
                for layer in result.layers { try writePNG(layer.image, path: layerPath(target, layer.name)) }
                outcome.written.append(target)
                outcome.kinds.append(result.kind)
                progress(.written(job, path: target, kind: result.kind), i + 1)
            case .alreadyColor(let share):
                outcome.skipped.append((job.source, share))
                progress(.skipped(job, vividShare: share), i + 1)
            }
        } catch {
            outcome.failed.append((job.source, "\(error)"))
            progress(.failed(job, reason: "\(error)"), i + 1)
        }
    }
    return outcome
}
