import Foundation
import Tensor
import Testing
@testable import Training

@Test func generatorWarmupRampsTheLearningRate() {
    var c = TrainingConfiguration()
    #expect(c.generatorWarmupFactor(at: 0) == 1)
    c.generatorWarmupSteps = 3
    #expect([0, 1, 2, 3, 10].map { c.generatorWarmupFactor(at: $0) } == [0.25, 0.5, 0.75, 1, 1])
}

@Test func warmupMovesTheGeneratorLessNotTheDiscriminator() throws {
    var plain = tinyConfiguration(seed: 3)
    plain.generatorLearningRate = 1e-3
    var ramped = plain
    ramped.generatorWarmupSteps = 99  // first step at 1/100 of the rate
    let a = try GANTrainer(configuration: plain), b = try GANTrainer(configuration: ramped)
    let start = a.generator.parameters.map { $0.value.copy() }
    _ = try a.step(batch: syntheticBatch(index: 0))
    _ = try b.step(batch: syntheticBatch(index: 0))
    func moved(_ t: GANTrainer) -> Float {
        zip(t.generator.parameters, start).map { p, s in zip(p.value.floats, s.floats).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }
    // Adam's first step moves each weight by about the learning rate, whatever the gradient's size.
    let full = moved(a), slow = moved(b)
    #expect(abs(full - 1e-3) < 2e-4, "moved \(full)")
    #expect(abs(slow - 1e-5) < 2e-6, "moved \(slow)")
    for (p, q) in zip(a.discriminator.parameters, b.discriminator.parameters) {
        #expect(p.value.scalars(as: Float.self) == q.value.scalars(as: Float.self))
    }
}

@Test func theAverageFollowsTheGeneratorAndIsCheckpointed() throws {
    var c = tinyConfiguration(seed: 4)
    c.generatorAverageDecay = 0.75
    let trainer = try GANTrainer(configuration: c)
    let average = try #require(trainer.averagedGenerator)
    let before = trainer.generator.parameters.map { $0.value.copy() }
    for (a, p) in zip(average.parameters, trainer.generator.parameters) { #expect(a.value.scalars(as: Float.self) == p.value.scalars(as: Float.self)) }
    _ = try trainer.step(batch: syntheticBatch(index: 0))
    for ((a, p), old) in zip(zip(average.parameters, trainer.generator.parameters), before) {
        let expected: [Float] = (0..<a.value.count).map { 0.75 * old.floats[$0] + 0.25 * p.value.floats[$0] }
        let gap = zip(a.value.floats, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(gap < 1e-7, "\(a.name): \(gap)")
    }
    // The plain run draws the same random stream: the average changes nothing else.
    var unaveraged = c
    unaveraged.generatorAverageDecay = nil
    let plain = try GANTrainer(configuration: unaveraged)
    _ = try plain.step(batch: syntheticBatch(index: 0))
    #expect(plain.rng == trainer.rng)
    for (p, q) in zip(plain.generator.parameters, trainer.generator.parameters) {
        #expect(p.value.scalars(as: Float.self) == q.value.scalars(as: Float.self))
    }
    // Export and verification use the average; a checkpoint keeps it.
    let x = randomTensor([1, 1, 8, 8], seed: 5, std: 0.5)
    let check = trainer.verificationCase(size: 8)
    let fromAverage: [Float] = average.infer(check.generatorInput).scalars(as: Float.self)
    #expect(check.generatorOutput.scalars(as: Float.self) == fromAverage)
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("mangacolor-ema-\(UUID().uuidString).mcc")
    defer { try? FileManager.default.removeItem(at: file) }
    try trainer.saveCheckpoint(to: file)
    let resumed = try GANTrainer(resumingFrom: file)
    let restored: [Float] = try #require(resumed.averagedGenerator).infer(x).scalars(as: Float.self)
    #expect(restored == average.infer(x).scalars(as: Float.self))
}

@Test func averageDecayOutsideTheUnitIntervalIsRefused() {
    var c = tinyConfiguration()
    c.generatorAverageDecay = 1
    #expect(throws: TrainingError.self) { try GANTrainer(configuration: c) }
}
