import Foundation
import Tensor
import Testing
@testable import Training

/// A 2-level U-Net and a seed-style discriminator small enough for debug-build tests on 8x8 images.
func tinyConfiguration(seed: UInt64 = 1, kind: DiscriminatorKind = .seed) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.seed = seed
    c.generator = GeneratorConfiguration(levels: [[4, 4], [8]])
    c.discriminator = kind == .seed
        ? DiscriminatorConfiguration(kind: .seed, imageSize: 8, plain: [4], strided: [8, 8], fullyConnected: [16])
        : DiscriminatorConfiguration(kind: .patch, plain: [8], strided: [4, 8])
    return c
}

/// Synthetic pairs: grey noise images and a fixed colour mapping of them (R = x, G = -x/2, B = 0.5 - x/2).
func syntheticBatch(index: Int, size: Int = 8, batch: Int = 1) -> TrainingBatch {
    let x = randomTensor([batch, 1, size, size], seed: UInt64(index % 4) + 100, std: 0.5)
    for i in 0..<x.count { x.floats[i] = max(-1, min(1, x.floats[i])) }
    let y = Tensor(uninitialized: [batch, 3, size, size])
    let plane = size * size
    for n in 0..<batch { for k in 0..<plane {
        let v = x.floats[n * plane + k]
        y.floats[(n * 3) * plane + k] = v
        y.floats[(n * 3 + 1) * plane + k] = -v / 2
        y.floats[(n * 3 + 2) * plane + k] = 0.5 - v / 2
    } }
    return TrainingBatch(input: x, target: y)
}

@Test(arguments: [DiscriminatorKind.seed, .patch])
func tinyUNetLearnsAColourMapping(kind: DiscriminatorKind) throws {
    var c = tinyConfiguration(kind: kind)
    c.generatorLearningRate = 3e-3
    c.discriminatorLearningRate = 1e-3
    let trainer = try GANTrainer(configuration: c)
    var first: Float = 0, last: Float = 0
    let size = kind == .patch ? 16 : 8
    for i in 0..<150 {
        let m = try trainer.step(batch: syntheticBatch(index: i, size: size))
        if i < 4 { first += m.l1 / 4 }
        if i >= 146 { last += m.l1 / 4 }
        #expect(m.generatorLoss.isFinite && m.discriminatorLoss.isFinite)
    }
    #expect(last < first / 3, "\(kind): L1 went from \(first) to \(last) in 150 steps; expected a 3x drop")
}

@Test func resumeIsBitIdentical() throws {
    var c = tinyConfiguration(seed: 7)
    c.generator.dropout = 0.2
    c.labelFlipProbability = 0.5
    c.featureMatchingWeight = 1
    c.learningRateDecayStart = 1
    c.totalSteps = 10
    let straight = try GANTrainer(configuration: c)
    for i in 0..<4 { _ = try straight.step(batch: syntheticBatch(index: i)) }

    let first = try GANTrainer(configuration: c)
    for i in 0..<2 { _ = try first.step(batch: syntheticBatch(index: i)) }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mangacolor-resume-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("checkpoint.bin")
    try first.saveCheckpoint(to: file)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["checkpoint.bin"])

    let resumed = try GANTrainer(resumingFrom: file)
    #expect(resumed.completedSteps == 2)
    for i in 2..<4 { _ = try resumed.step(batch: syntheticBatch(index: i)) }
    #expect(resumed.rng == straight.rng)
    for (a, b) in zip(straight.generator.parameters + straight.discriminator.parameters,
                      resumed.generator.parameters + resumed.discriminator.parameters) {
        #expect(a.value.scalars(as: Float.self) == b.value.scalars(as: Float.self), "\(a.name) differs after resume")
    }
    for (a, b) in zip(straight.generatorOptimizer.m + straight.discriminatorOptimizer.v,
                      resumed.generatorOptimizer.m + resumed.discriminatorOptimizer.v) {
        #expect(a.scalars(as: Float.self) == b.scalars(as: Float.self))
    }

    // The in-place form refuses a checkpoint of another configuration.
    var other = c
    other.seed = 8
    #expect(throws: TrainingError.self) { try GANTrainer(configuration: other).resume(from: file) }
}

@Test func checkpointRejectsGarbage() throws {
    #expect(throws: TrainingError.self) { try CheckpointFile.decode(Data("not a checkpoint".utf8), source: "x") }
    let good = CheckpointFile.encode([("a", Tensor(shape: [2], floats: [1, 2]))])
    #expect(throws: TrainingError.self) { try CheckpointFile.decode(good.prefix(good.count - 1), source: "x") }
    #expect(try CheckpointFile.decode(good, source: "x")["a"]?.scalars(as: Float.self) == [1, 2])
}

@Test func metricsAreJSONLines() throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration())
    let m = try trainer.step(batch: syntheticBatch(index: 0))
    let line = m.jsonLine()
    #expect(!line.contains("\n"))
    let decoded = try JSONDecoder().decode(StepMetrics.self, from: Data(line.utf8))
    #expect(decoded == m)
    #expect(m.step == 1 && m.learningRate == 1e-4 && m.instanceNoise == 0.1)
}

@Test func badBatchesAreErrorsNotTraps() throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration())
    #expect(throws: TrainingError.self) { try trainer.step(batch: syntheticBatch(index: 0, size: 16)) }
    let patch = try GANTrainer(configuration: tinyConfiguration(kind: .patch))
    #expect(throws: TrainingError.self) { try patch.step(batch: syntheticBatch(index: 0, size: 8)) }
    #expect(throws: TrainingError.self) {
        try trainer.step(batch: TrainingBatch(input: Tensor(zeros: [1, 3, 8, 8]), target: Tensor(zeros: [1, 3, 8, 8])))
    }
    var c = tinyConfiguration()
    c.discriminator.imageSize = 9
    #expect(throws: TrainingError.self) { try GANTrainer(configuration: c) }
}

@Test func seedGeneratorHasTheSeedShape() {
    // The analytic count matches a built network...
    let tiny = GeneratorConfiguration(levels: [[4, 6], [8], [8]])
    var rng = RandomGenerator(seed: 0)
    #expect(UNetGenerator(tiny, rng: &rng).parameters.reduce(0) { $0 + $1.value.count } == tiny.parameterCount)
    // ...and the seed's rule gives ~30 M parameters (the report says about 37 M with its garbled table).
    let seed = GeneratorConfiguration()
    #expect(seed.parameterCount > 25_000_000 && seed.parameterCount < 40_000_000, "seed U-Net has \(seed.parameterCount) parameters")
    #expect(seed.sizeMultiple == 64)
}

@Test func runFolderResumesAndLogs() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mangacolor-run-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try TrainingRun(folder: dir, configuration: tinyConfiguration())
    #expect(!run.resumed)
    try run.step(batch: syntheticBatch(index: 0))
    try run.save()
    var changed = tinyConfiguration()
    changed.l1Weight = 10
    let again = try TrainingRun(folder: dir, configuration: changed)
    #expect(again.resumed && again.storedConfigurationDiffers && again.trainer.completedSteps == 1)
    #expect(again.trainer.configuration.l1Weight == 100)
    try again.step(batch: syntheticBatch(index: 1))
    let lines = try String(contentsOf: dir.appendingPathComponent(TrainingRun.metricsName), encoding: .utf8).split(separator: "\n")
    #expect(lines.count == 2 && lines[1].contains("\"step\":2"))
    #expect(throws: TrainingError.self) { try TrainingRun.load(folder: dir.appendingPathComponent("missing")) }
}
