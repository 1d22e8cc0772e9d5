import Foundation
import ONNX
import Testing
@testable import Colorize
import Tensor
import Training

/// A tiny a*b*-class generator as this package exports it (page scale 0.5, temperature 0.3).
private func tinyExportedGenerator() throws -> Model {
    var config = TrainingConfiguration(imageSize: 32, discriminator: .patch, seed: 1)
    config.generator = GeneratorConfiguration(levels: [[4], [8]], colour: .abClasses,
                                              bins: ABBins(centres: inGamutABBins(binSize: 40), temperature: 0.3),
                                              pageScale: 0.5)
    config.classification = ClassificationLoss(binWeights: [Float](repeating: 1, count: inGamutABBins(binSize: 40).count), sigma: 20)
    return try GANTrainer(configuration: config).exportGenerator()
}

@Suite(.serialized) struct ReferenceAdaptationTests {
    /// The adapted model keeps the source's architecture, colour head, bins, temperature and page scale (read
    /// from the model, not from flags), differs in weights, and lands under its name only when complete.
    @Test func adaptsAnExportedGeneratorAndKeepsItsInterface() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-adapt-\(UUID())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let source = try tinyExportedGenerator()
        let reference = synthesizePage(width: 96, height: 96, seed: 4).color
        var options = AdaptationOptions()
        options.steps = 3
        options.cropSize = 32
        var steps = 0
        let output = root.appendingPathComponent("adapted.onnx")
        try adaptGenerator(model: source, references: [reference], options: options,
                           runFolder: root.appendingPathComponent("run"), output: output) { event in
            if case .step = event { steps += 1 }
        }
        #expect(steps == 3)
        let adapted = try Model(contentsOf: output.path)
        let before = try GeneratorConfiguration(exportedGenerator: source)
        let after = try GeneratorConfiguration(exportedGenerator: adapted)
        #expect(after.levels == before.levels && after.colour == .abClasses && after.pageScale == 0.5)
        #expect(after.bins?.count == before.bins?.count)
        #expect(abs((after.bins?.temperature ?? 0) - 0.3) < 1e-6)
        let name = "enc0.0.conv.weight"
        #expect(adapted.graph.initializers[name]!.scalars(as: Float.self) != source.graph.initializers[name]!.scalars(as: Float.self))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    /// The cache key names (model, references, recipe): any of them changing gives a new entry, the same
    /// ones the same entry.
    @Test func cacheKeyFollowsModelReferencesAndRecipe() throws {
        let cache = AdaptationCache(folder: URL(fileURLWithPath: "/tmp/mc-cache"))
        let model = Data([1, 2, 3]), a = Data([4, 5]), b = Data([6])
        let base = try cache.key(modelData: model, referenceData: [a, b], options: AdaptationOptions())
        #expect(try cache.key(modelData: model, referenceData: [a, b], options: AdaptationOptions()) == base)
        #expect(try cache.key(modelData: Data([1, 2, 4]), referenceData: [a, b], options: AdaptationOptions()) != base)
        #expect(try cache.key(modelData: model, referenceData: [b, a], options: AdaptationOptions()) != base)
        // Bytes moved from one reference to the next are another pair of pages.
        #expect(try cache.key(modelData: model, referenceData: [Data([4]), Data([5, 6])], options: AdaptationOptions()) != base)
        var longer = AdaptationOptions()
        longer.steps += 1
        #expect(try cache.key(modelData: model, referenceData: [a, b], options: longer) != base)
        #expect(cache.modelURL(key: base).lastPathComponent == base + ".onnx")
    }

    @Test func defaultCacheFolderFollowsXDG() {
        #expect(AdaptationCache.defaultFolder(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]).path == "/c/mangacolor/adapted")
        #expect(AdaptationCache.defaultFolder(environment: ["HOME": "/h"]).path == "/h/.cache/mangacolor/adapted")
    }

    @Test func refusesRecipesThatCannotTrain() {
        var options = AdaptationOptions()
        options.steps = 0
        #expect(throws: ImageError.self) { try options.validate() }
        options = AdaptationOptions()
        options.mangaShare = 2
        #expect(throws: ImageError.self) { try options.validate() }
    }
}
