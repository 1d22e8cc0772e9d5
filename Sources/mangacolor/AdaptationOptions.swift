import ArgumentParser
import Colorize
import Foundation
import ONNX
import Training

/// How `colorize --reference` and `evaluate --reference` adapt the generator to the reference pages before
/// colorizing: a short fine-tune (Colorize/ReferenceAdaptation.swift), cached so a rerun reuses it.
struct AdaptationFlags: ParsableArguments {
    @Option(help: "With --reference: fine-tune the generator on the reference page(s) for this many steps before colorizing (0 = no fine-tune, the reference's region colours only). About 1.5 minutes per 300 steps on 2 cores.")
    var adaptSteps: Int = AdaptationOptions().steps

    @Option(help: "With --reference: where adapted models are kept and reused (default: $XDG_CACHE_HOME/mangacolor/adapted, else ~/.cache/mangacolor/adapted).")
    var adaptCache: String?

    func validate() throws {
        guard adaptSteps >= 0 else { throw ValidationError("--adapt-steps must not be negative") }
    }

    var options: AdaptationOptions {
        var o = AdaptationOptions()
        o.steps = adaptSteps
        return o
    }

    /// The model to colorize with: `modelPath` itself without references or with --adapt-steps 0, else the
    /// model adapted to `references` (from the cache, or made now with a progress bar). Under mpirun rank 0
    /// adapts while the others wait, then all read the cached file.
    func adaptedModel(_ modelPath: String, references: [String], collective: any Collective = SingleProcess()) throws -> String {
        guard !references.isEmpty, adaptSteps > 0 else { return modelPath }
        let cache = AdaptationCache(folder: adaptCache.map { URL(fileURLWithPath: $0) } ?? AdaptationCache.defaultFolder())
        let modelData = try readFile(modelPath, what: "model")
        let referenceData = try references.map { try readFile($0, what: "--reference") }
        let key = try cache.key(modelData: modelData, referenceData: referenceData, options: options)
        let url = cache.modelURL(key: key)
        if collective.isRoot {
            if FileManager.default.fileExists(atPath: url.path) {
                writeStderr("reusing the model adapted to \(references.joined(separator: ", ")): \(url.path)\n")
            } else {
                try adapt(modelPath, modelData: modelData, references: references, cache: cache, key: key)
            }
        }
        if collective.size > 1 {
            // A barrier: the others wait here until rank 0 has written the adapted model.
            var done: [Float] = [0]
            try done.withUnsafeMutableBufferPointer { try collective.allReduceSum($0) }
        }
        return url.path
    }

    private func adapt(_ modelPath: String, modelData: Data, references: [String], cache: AdaptationCache,
                       key: String) throws {
        let model: Model
        // The bytes the cache key was made of, decoded (not read again).
        let folder = (modelPath as NSString).deletingLastPathComponent
        do { model = try Model(bytes: modelData, externalDataFolder: folder.isEmpty ? "." : folder) } catch {
            throw CLIError("\(modelPath): \(error)")
        }
        do { _ = try GeneratorConfiguration(exportedGenerator: model) } catch {
            throw CLIError("--reference fine-tunes the generator, and \(modelPath) is not one this package can train (\(error)); "
                + "pass --adapt-steps 0 to use the reference's region colours alone")
        }
        let pages = try references.map { try readReferencePage($0) }
        do {
            try FileManager.default.createDirectory(at: cache.folder, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the adaptation cache \(cache.folder.path): \(error.localizedDescription) (choose another with --adapt-cache)")
        }
        let run = cache.runURL(key: key)
        writeStderr("adapting \(URL(fileURLWithPath: modelPath).lastPathComponent) to \(references.count) reference page(s): "
            + "\(adaptSteps) steps (cached as \(cache.modelURL(key: key).path))\n")
        let bar = ProgressBar(total: adaptSteps, label: "adapt")
        try adaptGenerator(model: model, references: pages, options: options, runFolder: run,
                           output: cache.modelURL(key: key)) { event in
            switch event {
            case .resumed(let step):
                bar.resumed(at: step)
                writeStderr("resuming the interrupted adaptation at step \(step)\n")
            case .step(let m, _): bar.update(m.step, status: String(format: "%.2f img/s", m.imagesPerSecond))
            case .validated, .checkpointed: break
            }
        }
        bar.finish()
        // The run folder (checkpoint, logs) is only kept to resume an interrupted adaptation.
        try? FileManager.default.removeItem(at: run)
    }
}

private func readFile(_ path: String, what: String) throws -> Data {
    do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CLIError("cannot read \(what) \(path): \(error.localizedDescription)")
    }
}
