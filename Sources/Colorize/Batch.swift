import Foundation
import Tensor

// Many pages at once, as `mangacolor colorize IN... -o OUT` runs them: inputs are files, folders (walked
// recursively, relative paths kept under OUT; with several inputs under OUT/FOLDER-NAME) or glob patterns;
// one bad page is reported and the rest go on. Where outputs go is checked before any page is computed
// (BatchOutputs.swift): no page is lost to a name collision and no input is overwritten. PNG strips past the
// pixel budget are colorized in bands of rows (Bands.swift); other pages are decoded whole.
//
// API: PageJob, collectPages(_:) throws -> [PageJob], BatchOutcome,
//      colorizePages(_:output:options:skipExisting:generator:progress:) throws -> BatchOutcome

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
/// glob patterns the shell left alone (quoted). When several inputs are given, a folder's pages keep the
/// folder's own name in front (`vol1/001.png`, `vol2/001.png`), so that two chapters never share outputs.
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
                let prefix = inputs.count > 1 ? URL(fileURLWithPath: input).standardizedFileURL.lastPathComponent : ""
                jobs += found.sorted().map {
                    PageJob(source: (input as NSString).appendingPathComponent($0),
                            relativeOutput: (prefix as NSString).appendingPathComponent(pngName($0)))
                }
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
    // A page named twice (`ch ch`, or `ch/p.png` beside `ch`) is done once, where it was first named.
    var seen = Set<String>()
    return jobs.filter { seen.insert(canonicalPath($0.source)).inserted }
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
    /// Outputs already present and left alone (`skipExisting`).
    public var kept: [String] = []
    /// Pages skipped as already in colour, with their share of vivid pixels.
    public var skipped: [(page: String, vividShare: Double)] = []
    /// Pages that failed, with the error's sentence.
    public var failed: [(page: String, reason: String)] = []
}

public enum BatchEvent: Sendable {
    case written(PageJob, path: String, kind: PageKind)
    /// `skipExisting`: the output was already there (an interrupted run resumed).
    case kept(PageJob, path: String)
    case skipped(PageJob, vividShare: Double)
    case failed(PageJob, reason: String)
}

/// Colorizes every job into `output` (a folder; or, for a single job, a `.png` path). Throws `BatchError`
/// before any page is computed when outputs collide, overwrite an input or cannot be written; after that it
/// never stops at a bad page: its error is recorded and reported through `progress`, and the next page goes
/// on. With `skipExisting`, pages whose output already exists are left alone (resuming a chapter).
public func colorizePages(_ jobs: [PageJob], output: String, options: ColorizeOptions, skipExisting: Bool = false,
                          generator: (Tensor) throws -> Tensor,
                          progress: (BatchEvent, _ done: Int) -> Void = { _, _ in }) throws -> BatchOutcome {
    var outcome = BatchOutcome()
    let targets = try outputPaths(for: jobs, output: output, layers: options.keepLayers ? PageLayer.all : [])
    try prepareOutputFolders(for: targets)
    // The pages to compute, in order; each is decoded on a background thread while the one before computes.
    let todo = zip(jobs, targets).map { job, target in !(skipExisting && FileManager.default.fileExists(atPath: target)) }
    let prefetch = PagePrefetch(options: options.bands)
    func prefetchAfter(_ i: Int) {
        if let next = (i + 1 ..< jobs.count).first(where: { todo[$0] }) { prefetch.start(jobs[next].source) }
    }
    prefetchAfter(-1)
    for (i, (job, target)) in zip(jobs, targets).enumerated() {
        if !todo[i] {
            outcome.kept.append(target)
            progress(.kept(job, path: target), i + 1)
            continue
        }
        do {
            let page = prefetch.take(job.source)
            prefetchAfter(i)
            // The folder was created and probed writable before the first page (prepareOutputFolders).
            switch try colorizeFile(page, to: target, options: options, generator: generator) {
            case .colorized(let kind, _, _):
                outcome.written.append(target)
                outcome.kinds.append(kind)
                progress(.written(job, path: target, kind: kind), i + 1)
            case .alreadyColor(let share):
                outcome.skipped.append((job.source, share))
                progress(.skipped(job, vividShare: share), i + 1)
            }
        } catch {
            outcome.failed.append((job.source, "\(error)"))
            progress(.failed(job, reason: "\(error)"), i + 1)
        }
        // Freed memory is kept in the process for reuse within a page; between pages it goes back, or the
        // worker threads' malloc arenas each keep their peak and memory grows with the chapter (12 Black
        // Jack pages: 746 MB peak against one page's 249 MB).
        AllocatorTuning.returnFreedMemory()
    }
    return outcome
}

/// A page file as `colorizeFile` takes it: decoded whole, or a PNG strip past the pixel budget (read in bands).
enum DecodedPage {
    case whole(Image)
    case strip(PNGStrip)

    init(path: String, bands: BandOptions) throws {
        if let strip = try bandedStrip(path: path, options: bands) { self = .strip(strip) } else { self = .whole(try readImage(path: path)) }
    }
}

/// Decodes the next page on a background thread while the current one computes (one page ahead: at most
/// one decoded page waits). `take` returns the page started for that path, or decodes it then and there.
final class PagePrefetch: @unchecked Sendable {
    private let bands: BandOptions
    private let queue = DispatchQueue(label: "mangacolor.page-prefetch", qos: .userInitiated)
    private let lock = NSLock()
    private var pending: (path: String, done: DispatchGroup)?
    private var result: Result<DecodedPage, any Error>?

    init(options bands: BandOptions) { self.bands = bands }

    func start(_ path: String) {
        let done = DispatchGroup()
        lock.lock(); pending = (path, done); result = nil; lock.unlock()
        done.enter()
        queue.async { [self] in
            let decoded = Result { try DecodedPage(path: path, bands: bands) }
            lock.lock(); result = decoded; lock.unlock()
            done.leave()
        }
    }

    func take(_ path: String) -> Result<DecodedPage, any Error> {
        lock.lock(); let started = pending; lock.unlock()
        guard let started, started.path == path else { return Result { try DecodedPage(path: path, bands: bands) } }
        started.done.wait()
        lock.lock(); defer { pending = nil; result = nil; lock.unlock() }
        return result!
    }
}

/// One page file colorized into `target` (and its layers): decoded whole, or, for a PNG strip past the
/// pixel budget, in bands (Bands.swift).
private func colorizeFile(_ decoded: Result<DecodedPage, any Error>, to target: String, options: ColorizeOptions,
                          generator: (Tensor) throws -> Tensor) throws -> StripOutcome {
    let page: Image
    switch try decoded.get() {
    case .strip(let strip): return try colorizeStrip(strip, to: target, options: options, generator: generator)
    case .whole(let image): page = image
    }
    switch try colorizePageDetailed(page, options: options, generator: generator) {
    case .colorized(let result):
        try writePNG(result.image, path: target)
        for layer in result.layers { try writePNG(layer.image, path: layerPath(target, layer.name)) }
        return .colorized(kind: result.kind, smoothMidShare: result.smoothMidShare, bands: 1)
    case .alreadyColor(let share):
        return .alreadyColor(vividShare: share)
    }
}
