import Tensor
import Testing
@testable import Training

@Test func learningRateAndNoiseSchedules() {
    var c = TrainingConfiguration()
    #expect(c.learningRateFactor(at: 500) == 1)
    c.learningRateDecayStart = 100
    c.totalSteps = 300
    #expect(c.learningRateFactor(at: 99) == 1 && c.learningRateFactor(at: 200) == 0.5 && c.learningRateFactor(at: 400) == 0)
    c.instanceNoise = 0.2
    c.instanceNoiseDecaySteps = 100
    #expect(c.instanceNoise(at: 0) == 0.2 && abs(c.instanceNoise(at: 50) - 0.1) < 1e-7 && c.instanceNoise(at: 150) == 0)
}

@Test func noiseDecaysThroughTheLayers() throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration())
    trainer.discriminator.setNoise(std: 0.4, layerDecay: 0.5)
    #expect(trainer.discriminator.noise.map(\.standardDeviation) == [0.4, 0.2, 0.1, 0.05, 0.025])
}

@Test func noisyAndFlippedLabels() throws {
    var c = tinyConfiguration()
    c.labelFlipProbability = 0
    let trainer = try GANTrainer(configuration: c)
    var rng = RandomGenerator(seed: 5)
    let (real, fake) = trainer.labels(count: 1000, &rng)
    #expect(real.floats.allSatisfy { $0 >= 0.7 && $0 <= 1 } && fake.floats.allSatisfy { $0 >= 0 && $0 <= 0.3 })
    c.labelFlipProbability = 0.25
    let flipping = try GANTrainer(configuration: c)
    let (r2, _) = flipping.labels(count: 4000, &rng)
    let flipped = r2.floats.filter { $0 < 0.5 }.count
    #expect(flipped > 800 && flipped < 1200, "\(flipped) of 4000 flipped at p = 0.25")
}

@Test func divergenceIsAnErrorNotNaNWeights() throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration())
    let batch = syntheticBatch(index: 0)
    batch.target.floats[0] = .nan
    #expect(throws: TrainingError.self) { try trainer.step(batch: batch) }
    #expect(trainer.generator.parameters.allSatisfy { $0.value.floats.allSatisfy(\.isFinite) })
}
