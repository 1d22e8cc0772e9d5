import Foundation
import ONNX
import Training

// `colorize --reference REF.png` (and `train --reference`): a short fine-tune of a generator on crops of the
// coloured reference page(s) of a series, grey and manga-style inputs, flips and scale jitter (the adaptation
// step of Hensman & Aizawa 2017, who train their cGAN on one coloured page of the series).
//
// The generator's architecture, output colour, a*b* bins and page scale are read from the model itself, so any
// generator this package exported can be adapted without repeating its training flags. An a*b*-class model's
// class rebalancing is counted on the references. The adapted model is cached under a key made of the
// model's bytes, the references' bytes and the recipe: a rerun on the same reference reuses it, and an
// interrupted adaptation resumes from its run folder's checkpoint.
//
// API: AdaptationOptions, AdaptationCache(folder:), cache.key(modelData:referenceData:options:), cache.modelURL(key:),
//      cache.runURL(key:), adaptationConfiguration(generator:references:options:),
//      adaptGenerator(model:references:options:runFolder:output:progress:)

/// The recipe of a reference adaptation: `colorize --reference` and `train --reference` share these defaults.
public struct AdaptationOptions: Sendable, Equatable, Codable {
    public var steps = 300
    /// Side of the square training crops, taken at the model's page scale.
    public var cropSize = 128
    public var learningRate: Float = 1e-4
    public var l1Weight: Float = 10
    public var featureMatching: Float = 10
    /// Share of manga-style (screened, then descreened) inputs; the rest are grey.
    public var mangaShare = 0.5
    public var seed: UInt64 = 3

    public init() {}

    /// Refuses recipes that cannot train.
    public func validate() throws {
        guard steps >= 1 else { throw ImageError.mismatch("adaptation needs at least 1 step, not \(steps)") }
        guard cropSize >= 16 else { throw ImageError.mismatch("adaptation crops must be at least 16 pixels, not \(cropSize)") }
        guard learningRate > 0, l1Weight >= 0, featureMatching >= 0, (0...1).contains(mangaShare) else {
            throw ImageError.mismatch("adaptation needs a positive learning rate, weights >= 0 and a manga share in [0, 1]")
        }
    }
}

/// The training configuration that adapts `generator` (read from the model to adapt) to `references`.
public func adaptationConfiguration(generator: GeneratorConfiguration, references: [Image],
                                    options: AdaptationOptions) throws -> TrainingConfiguration {
    try options.validate()
    let size = (options.cropSize + generator.sizeMultiple - 1) / generator.sizeMultiple * generator.sizeMultiple
    var config = TrainingConfiguration(imageSize: size, discriminator: .patch, seed: options.seed)
    config.generator = generator
    if generator.colour == .abClasses, let bins = generator.bins {
        let sigma = binSide(bins) / 2
        config.classification = ClassificationLoss(
            binWeights: rebalancingWeights(pages: references, bins: bins.centres, sigma: sigma), sigma: sigma)
    }
    config.generatorLearningRate = options.learningRate
    config.discriminatorLearningRate = options.learningRate
    config.totalSteps = options.steps
    config.l1Weight = options.l1Weight
    config.featureMatchingWeight = options.featureMatching
    try config.validate()
    return config
}

/// The side of an a*b* bin grid: the smallest gap between two bin centres' a* (or b*) coordinates.
func binSide(_ bins: ABBins) -> Float {
    var side = Float.infinity
    for p in bins.centres {
        for q in bins.centres {
            for axis in 0..<2 where p.count == 2 && q.count == 2 {
                let gap = abs(p[axis] - q[axis])
                if gap > 1e-3 { side = min(side, gap) }
            }
        }
    }
    return side.isFinite ? side : 20
}

/// Fine-tunes the generator `model` (one this package exported) on `references` with `options`, training in
/// `runFolder` (resumed if it holds a checkpoint of the same run), and writes the adapted generator to
/// `output` (a temporary name, then renamed). Returns the adapted model.
@discardableResult
public func adaptGenerator(model: Model, references: [Image], options: AdaptationOptions, runFolder: URL,
                           output: URL, progress: (TrainingProgress) -> Void = { _ in }) throws -> Model {
    guard !references.isEmpty else { throw ImageError.mismatch("adaptation needs at least one reference page") }
    let generator = try GeneratorConfiguration(exportedGenerator: model)
    let config = try adaptationConfiguration(generator: generator, references: references, options: options)
    var augment = AugmentOptions(size: config.discriminator.imageSize)
    augment.input = options.mangaShare >= 1 ? .manga : options.mangaShare <= 0 ? .grey : .mixed(mangaShare: options.mangaShare)
    let sessionOptions = TrainingSessionOptions(pages: references.map { .image($0) }, augment: augment,
                                                steps: options.steps, checkpointEvery: max(50, options.steps / 4),
                                                validateEvery: options.steps + 1, validationWidth: augment.size)
    let session = try TrainingSession(folder: runFolder.path, configuration: config, options: sessionOptions,
                                      initialGenerator: { model })
    try session.train(progress: progress)
    var exported = session.run.trainer.exportGenerator()
    // The page scale, temperature and colour metadata travel with the weights (export writes them); keep the
    // source model's other metadata too (e.g. a description).
    for (key, value) in model.metadata where exported.metadata[key] == nil { exported.metadata[key] = value }
    try exported.write(to: output.path)
    return exported
}

/// Where adapted models are kept: FOLDER/KEY.onnx, with KEY.run/ the training run while it adapts.
public struct AdaptationCache: Sendable {
    public let folder: URL

    public init(folder: URL) { self.folder = folder }

    /// The default folder: $XDG_CACHE_HOME/mangacolor/adapted, else ~/.cache/mangacolor/adapted.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("mangacolor/adapted")
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/mangacolor/adapted")
    }

    /// A key for (model, references, recipe): FNV-1a (64 bit) over the model file's bytes, each reference
    /// file's bytes in the order given, and the recipe. Not a security hash: it names cache entries.
    public func key(modelData: Data, referenceData: [Data], options: AdaptationOptions) throws -> String {
        var hash = FNV1a()
        hash.add(modelData)
        for data in referenceData { hash.add(Data("|reference \(data.count)|".utf8)); hash.add(data) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        hash.add(try encoder.encode(options))
        return String(format: "%016llx", hash.value)
    }

    public func modelURL(key: String) -> URL { folder.appendingPathComponent("\(key).onnx") }
    public func runURL(key: String) -> URL { folder.appendingPathComponent("\(key).run") }
}

struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ data: Data) {
        var h = value
        data.withUnsafeBytes { raw in
            for byte in raw.bindMemory(to: UInt8.self) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        value = h
    }
}
