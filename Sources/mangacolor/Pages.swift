import Colorize
import Foundation

/// The default generator shipped in the repository's models/ folder.
let defaultModelName = "mangacolor-default.onnx"

/// Finds the model to use: an explicit path, $MANGACOLOR_MODEL, or models/ beside the package
/// (found from the executable, e.g. .build/release/mangacolor -> ./models) or the working directory.
func resolveModel(_ explicit: String?) throws -> String {
    if let explicit { return explicit }
    if let env = ProcessInfo.processInfo.environment["MANGACOLOR_MODEL"], !env.isEmpty { return env }
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var candidates: [String] = []
    var dir = executable.deletingLastPathComponent()
    for _ in 0..<5 {
        candidates.append(dir.appendingPathComponent("models/\(defaultModelName)").path)
        dir = dir.deletingLastPathComponent()
    }
    candidates.append(FileManager.default.currentDirectoryPath + "/models/\(defaultModelName)")
    if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
    throw CLIError("no model given and the default \(defaultModelName) was not found in models/ (looked in \(candidates.last!)); pass --model M.onnx")
}

/// A page to process and where its result goes, relative to the output folder.
struct PageJob {
    let source: String
    let relativeOutput: String
}

/// Expands the command's inputs: files as given, folders recursively (keeping relative paths), and
/// glob patterns (quoted, so the shell left them alone).
func collectPages(_ inputs: [String]) throws -> [PageJob] {
    var jobs: [PageJob] = []
    let fm = FileManager.default
    func isImage(_ path: String) -> Bool { imageFileExtensions.contains((path as NSString).pathExtension.lowercased()) }
    func pngName(_ path: String) -> String { (path as NSString).deletingPathExtension + ".png" }
    for input in inputs {
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: input, isDirectory: &isDir) {
            if isDir.boolValue {
                guard let walker = fm.enumerator(atPath: input) else { throw CLIError("cannot list \(input)") }
                var found: [String] = []
                for case let rel as String in walker where isImage(rel) && !(rel as NSString).lastPathComponent.hasPrefix(".") {
                    found.append(rel)
                }
                if found.isEmpty { writeStderr("warning: \(input) holds no PNG or JPEG pages\n") }
                jobs += found.sorted().map { PageJob(source: (input as NSString).appendingPathComponent($0), relativeOutput: pngName($0)) }
            } else {
                jobs.append(PageJob(source: input, relativeOutput: pngName((input as NSString).lastPathComponent)))
            }
        } else if input.contains("*") || input.contains("?") || input.contains("[") {
            let matches = globPaths(input).filter(isImage)
            if matches.isEmpty { throw CLIError("no pages match \(input)") }
            jobs += matches.map { PageJob(source: $0, relativeOutput: pngName(($0 as NSString).lastPathComponent)) }
        } else {
            throw CLIError("\(input): no such file or folder")
        }
    }
    return jobs
}

func globPaths(_ pattern: String) -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    guard glob(pattern, 0, nil, &result) == 0 else { return [] }
    return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
}
