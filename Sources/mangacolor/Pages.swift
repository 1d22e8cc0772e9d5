import Colorize
import Foundation
import Runtime

/// The default generator shipped in the repository's models/ folder.
let defaultModelName = "mangacolor-default.onnx"

/// The generator interface a colorize or evaluate run reads from the model: grey channels in (from its input
/// shape) and what its output channels hold (from its metadata).
func adaptOptions(_ options: inout ColorizeOptions, to plan: Plan) throws {
    if let shape = plan.inputs.first?.shape, shape.count == 4, case .fixed(let c) = shape[1] { options.inputChannels = c }
    options.outputColour = try OutputColour(metadata: plan.model.metadata)
}

/// A `--reference` page, refused unless it is in colour (`colorShare`: also its share of vivid pixels must pass
/// colorize's colour-page test).
func readReferencePage(_ path: String, colorShare: Double? = nil) throws -> Image {
    let page = try readImage(path: path)
    guard page.channels == 3, colorShare.map({ chromaStatistics(page).vividShare > $0 }) ?? true else {
        throw CLIError("--reference \(path) is not a colour page; give a coloured page of the series")
    }
    return page
}

/// The palette of `--reference` pages (nil when none are given); refuses pages that are not in colour.
func referencePalette(_ paths: [String], colorShare: Double) throws -> ReferencePalette? {
    guard !paths.isEmpty else { return nil }
    let pages = try paths.map { try readReferencePage($0, colorShare: colorShare) }
    let palette = try ReferencePalette(references: pages)
    writeStderr("reference palette: \(palette.regions.count) colour regions from \(paths.count) page(s)\n")
    return palette
}

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

