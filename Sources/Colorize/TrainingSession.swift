import Foundation
import ONNX
import Tensor
import Training

// A training session as `mangacolor train` runs it: pages -> augmented pairs (PairLoader, in the background)
// -> GAN steps (Training.TrainingRun) -> metrics.jsonl, validation.jsonl, samples, checkpoint, report.html.
//
// Resuming: the run folder's checkpoint holds weights, Adam moments, step and RNG state; pair i of the
// stream depends only on (seed, i), so a resumed run sees exactly the pairs an uninterrupted one would.
// Metrics lines written after the last checkpoint are dropped on resume (those steps run again), and a
// fresh run (no checkpoint) starts its logs empty, so no step is ever logged twice. Ctrl-C or SIGTERM
// finishes the current step, writes a checkpoint and the report, and throws `TrainingInterrupted`.
//
// API: TrainingSessionOptions, TrainingSession(folder:configuration:options:), session.train(progress:shouldStop:),
//      TrainingProgress, ValidationRecord, TrainingInterrupted

public struct TrainingSessionOptions: Sendable {
    public var pages: [PageSource]
    /// Colour pages scored every `validateEvery` steps (L1, PSNR, colourfulness of the output).
    public var validationPages: [String]
    public var augment: AugmentOptions
    /// Train until this many steps are complete (a resumed run does the rest).
    public var steps: Int
    public var batchSize: Int
    public var checkpointEvery: Int
    public var validateEvery: Int
    /// Validation uses a centre crop of each page, at its own resolution, of twice this side (rounded down
    /// to the generator's multiple); pass the training crop size.
    public var validationWidth: Int

    public init(pages: [PageSource], validationPages: [String] = [], augment: AugmentOptions = AugmentOptions(),
                steps: Int = 1000, batchSize: Int = 1, checkpointEvery: Int = 100, validateEvery: Int = 100,
                validationWidth: Int = 256) {
        self.pages = pages
        self.validationPages = validationPages
        self.augment = augment
        self.steps = steps
        self.batchSize = batchSize
        self.checkpointEvery = checkpointEvery
        self.validateEvery = validateEvery
        self.validationWidth = validationWidth
    }
}

/// One validation pass: means over the validation pages.
public struct ValidationRecord: Codable, Sendable, Equatable {
    public var step: Int
    public var l1: Double
    public var psnr: Double
    public var colourfulness: Double
    public var targetColourfulness: Double
}

/// Training stopped at a safe point on request (Ctrl-C); every finished step is in the checkpoint.
public struct TrainingInterrupted: Error, CustomStringConvertible, Equatable {
    public let step: Int
    public let steps: Int
    public let folder: String
    public var description: String {
        "interrupted after step \(step) of \(steps); the checkpoint in \(folder) holds every finished step: "
            + "run the same command again to resume"
    }
}

public enum TrainingProgress: Sendable {
    case resumed(step: Int)
    case step(StepMetrics, total: Int)
    case validated(ValidationRecord)
    case checkpointed(step: Int)
}

public final class TrainingSession {
    public let run: TrainingRun
    public let options: TrainingSessionOptions
    public var folder: URL { run.folder }
    private var validationSet: [(input: Image, target: Image)] = []

    /// `initialGenerator` starts a new run's generator (`train --init`). With a `collective` of several processes
    /// (`mpirun`) each takes `options.batchSize` pairs of every global batch; rank 0 alone validates and writes.
    public init(folder: String, configuration: TrainingConfiguration, options: TrainingSessionOptions,
                initialGenerator: (() throws -> Model)? = nil, collective: any Collective = SingleProcess()) throws {
        guard !options.pages.isEmpty else { throw ImageError.mismatch("no training pages were given") }
        guard options.batchSize >= 1, options.steps >= 0 else {
            throw ImageError.mismatch("batch size must be at least 1 and steps not negative")
        }
        self.options = options
        // TrainingRun drops metrics lines past a resumed checkpoint; the validation log gets the same.
        run = try TrainingRun(folder: URL(fileURLWithPath: folder), configuration: configuration,
                              initialGenerator: initialGenerator, collective: collective)
        guard run.writes else { return }
        // A fresh run (no checkpoint: a first run stopped before its first checkpoint) starts from step 0.
        try MetricsLog.truncate(run.folder.appendingPathComponent(TrainingReport.validationName),
                                after: run.resumed ? run.trainer.completedSteps : 0)
        let multiple = run.trainer.generator.configuration.sizeMultiple
        let pageScale = run.trainer.generator.configuration.pageScale
        for path in options.validationPages {
            // A centre crop at the scale training crops are taken at (the page's own resolution reduced by the
            // generator's page scale), twice the training side so the network sees more context than one crop.
            var page = try readImage(path: path).rgb()
            if pageScale < 1 {
                let reduced = scaledSize(width: page.width, height: page.height, scale: pageScale)
                page = page.areaResized(width: reduced.width, height: reduced.height)
            }
            let side = 2 * options.validationWidth
            let width = max(multiple, min(side, page.width) / multiple * multiple)
            let height = max(multiple, min(side, page.height) / multiple * multiple)
            let target = page.width >= width && page.height >= height
                ? page.cropped(x: (page.width - width) / 2, y: (page.height - height) / 2, width: width, height: height)
                : page.resized(width: width, height: height)
            validationSet.append((target.luminance(), target))
        }
    }

    /// Trains until `options.steps` steps are complete, reporting as it goes. When `shouldStop` turns true
    /// (by default: a Ctrl-C or SIGTERM arrived, deferred while this runs) the current step finishes, the
    /// checkpoint and report are written, and `TrainingInterrupted` is thrown.
    public func train(progress: (TrainingProgress) -> Void = { _ in },
                      shouldStop: () -> Bool = { Interrupts.requested }) throws {
        try Interrupts.deferring { try trainSteps(progress: progress, shouldStop: shouldStop) }
    }

    private func trainSteps(progress: (TrainingProgress) -> Void, shouldStop: () -> Bool) throws {
        let trainer = run.trainer
        if run.resumed { progress(.resumed(step: trainer.completedSteps)) }
        guard trainer.completedSteps < options.steps else { try writeReport(); return }
        // The page scale is the generator's (stored in the checkpoint when resuming), not the caller's.
        var augment = options.augment
        augment.pageScale = trainer.configuration.generator.pageScale
        let collective = trainer.collective
        let loader = PairLoader(pages: options.pages, options: augment, seed: trainer.configuration.seed,
                                startIndex: trainer.completedSteps * options.batchSize,
                                share: LoaderShare(batch: options.batchSize, rank: collective.rank, ranks: collective.size))
        defer { loader.stop() }
        while trainer.completedSteps < options.steps {
            let pairs = try loader.next(batch: options.batchSize)
            var (input, target) = batchTensors(pairs)
            if trainer.configuration.generator.colour.outputIsLab { target = labTarget(target) }
            let metrics = try run.step(batch: TrainingBatch(input: input, target: target))
            progress(.step(metrics, total: options.steps))
            let step = trainer.completedSteps
            let last = step == options.steps
            if !validationSet.isEmpty && (step % options.validateEvery == 0 || last) {
                let record = try validate(step: step, samplePairs: pairs)
                progress(.validated(record))
            }
            var stopping = !last && shouldStop()
            // Every process stops at the same step, or the others would wait in the next step's all-reduce.
            if collective.size > 1 { stopping = try collective.allReduceMinMax([stopping ? 1 : 0]).max[0] > 0 }
            if step % options.checkpointEvery == 0 || last || stopping {
                try trainer.checkProcessesAgree()
                try run.save()
                try writeReport()
                progress(.checkpointed(step: step))
            }
            if stopping { throw TrainingInterrupted(step: step, steps: options.steps, folder: folder.path) }
        }
    }

    /// Scores the generator on the validation pages; appends to validation.jsonl; saves a sample grid.
    func validate(step: Int, samplePairs: [TrainingPair]) throws -> ValidationRecord {
        var l1 = 0.0, psnrSum = 0.0, colour = 0.0, targetColour = 0.0
        var sample: [Image] = []
        for (input, target) in validationSet {
            let output = try image(fromGeneratorOutput: run.trainer.exportedGenerator.infer(input.tensor()),
                                   colour: run.trainer.configuration.generator.colour.outputIsLab ? .lab : .rgb)
            let diff = zip(output.pixels, target.pixels).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) }
            l1 += 2 * diff / Double(output.pixels.count)  // in the [-1, 1] units of the training L1
            let p = try psnr(output, target)
            psnrSum += p.isFinite ? p : 100
            colour += colourfulness(output)
            targetColour += colourfulness(target)
            if sample.isEmpty { sample = [input.rgb(), output, target] }
        }
        let n = Double(validationSet.count)
        let record = ValidationRecord(step: step, l1: l1 / n, psnr: psnrSum / n, colourfulness: colour / n,
                                      targetColourfulness: targetColour / n)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        let url = folder.appendingPathComponent(TrainingReport.validationName)
        if !FileManager.default.fileExists(atPath: url.path) { FileManager.default.createFile(atPath: url.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.close()
        if !sample.isEmpty { try writePNG(sideBySide(sample), path: folder.appendingPathComponent(TrainingReport.sampleName).path) }
        return record
    }

    public func writeReport() throws {
        guard run.writes else { return }
        try TrainingReport(folder: folder.path).write()
    }
}

/// Images of equal height placed left to right with a 4-pixel white gutter.
func sideBySide(_ images: [Image]) -> Image {
    let h = images.map(\.height).max() ?? 0
    let gutter = 4
    let w = images.reduce(0) { $0 + $1.width } + gutter * max(images.count - 1, 0)
    var out = Image(width: w, height: h, channels: 3, fill: 1)
    var x0 = 0
    for image in images {
        let rgb = image.rgb()
        for c in 0 ..< 3 {
            for y in 0 ..< rgb.height {
                for x in 0 ..< rgb.width {
                    out.pixels[(c * h + y) * w + x0 + x] = rgb.pixels[(c * rgb.height + y) * rgb.width + x]
                }
            }
        }
        x0 += rgb.width + gutter
    }
    return out
}
