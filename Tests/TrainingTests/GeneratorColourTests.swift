import Foundation
import ONNX
import Runtime
import Tensor
import Testing
@testable import Training

// Chroma-first (Lab) and a*b*-class generators, and the encoder-decoder without skips.

/// Five bins on a cross, a tiny class configuration beside `tinyConfiguration`.
func tinyClassConfiguration(seed: UInt64 = 1) -> TrainingConfiguration {
    var c = tinyConfiguration(seed: seed, kind: .patch)
    c.generator.colour = .abClasses
    c.generator.bins = ABBins(centres: [[0, 0], [20, 0], [-20, 0], [0, 20], [0, -20]], temperature: 0.5)
    c.classification = ClassificationLoss(binWeights: [0.5, 1, 1.5, 2, 1], sigma: 10)
    return c
}

@Test func annealedMeanGradients() {
    let weight = ABBins(centres: [[0, 0], [30, -10], [-20, 40], [10, 10]], temperature: 0.4).decodingWeight
    checkGradients("annealedMean", inputs: [randomTensor([2, 4, 3, 2], seed: 3)]) { tape, v in
        tape.annealedMean(v[0], weight: weight, temperature: 0.4)
    }
}

@Test func annealedMeanIsTheMeanAtTemperatureOneAndTheModeNearZero() {
    let bins = ABBins(centres: [[0, 0], [55, 0]], temperature: 1)
    let logits = Variable(Tensor(shape: [1, 2, 1, 1], floats: [0, 1]))
    let tape = Tape(recording: false)
    let p1 = 1 / (1 + exp(-1.0))
    let mean = tape.annealedMean(logits, weight: bins.decodingWeight, temperature: 1).value.scalars(as: Float.self)
    #expect(abs(Double(mean[0]) - p1 * 0.5) < 1e-6 && mean[1] == 0)
    let mode = tape.annealedMean(logits, weight: bins.decodingWeight, temperature: 0.01).value.scalars(as: Float.self)
    #expect(abs(mode[0] - 0.5) < 1e-4)
}

@Test func softCrossEntropyGradientsAndValue() {
    let targets = Tensor(shape: [2, 3, 1, 2], floats: [0.5, 1, 0, 0.2, 0.5, 0, 1, 0.3, 0, 0, 0, 0.5])
    let weights = Tensor(shape: [2, 1, 1, 2], floats: [1, 2, 0.5, 1])
    checkGradients("softCrossEntropy", inputs: [randomTensor([2, 3, 1, 2], seed: 8)]) { tape, v in
        tape.softCrossEntropy(v[0], targets: targets, pixelWeights: weights)
    }
    // One pixel, uniform logits, a one-hot target: log 3.
    let ce = Tape(recording: false).softCrossEntropy(Variable(Tensor(zeros: [1, 3, 1, 1])), targets: Tensor(shape: [1, 3, 1, 1], floats: [0, 1, 0]),
                                                     pixelWeights: Tensor(shape: [1], floats: [1]))
    #expect(abs(Double(ce.value.scalars(as: Float.self)[0]) - log(3)) < 1e-6)
}

@Test func channelWeightedL1Gradients() {
    let target = randomTensor([2, 3, 2, 2], seed: 5)
    let x = randomTensor([2, 3, 2, 2], seed: 6)
    for i in 0..<x.count where abs(x.floats[i] - target.floats[i]) < 0.05 { x.floats[i] += 0.1 }
    checkGradients("L1 by channel", inputs: [x], epsilon: 1e-3) { tape, v in tape.l1(v[0], target: target, channelWeights: [3, 0, 1]) }
    // Channel weights [1, 1, 1] are the plain L1.
    let tape = Tape(recording: false)
    let weighted = tape.l1(Variable(x), target: target, channelWeights: [1, 1, 1]), plain = tape.l1(Variable(x), target: target)
    #expect(weighted.value.scalars(as: Float.self) == plain.value.scalars(as: Float.self))
}

@Test func softTargetsSumToOneAroundTheNearestBin() {
    let bins = ABBins(centres: [[0, 0], [20, 0], [-20, 0], [0, 20], [0, -20]])
    // Scaled Lab: pixel 0 at a* = 18, pixel 1 at b* = -30.
    let lab = Tensor(shape: [1, 3, 1, 2], floats: [0, 0, 18 / LabScale.chroma, 0, 0, -30 / LabScale.chroma])
    let (targets, nearest) = bins.softTargets(lab: lab, sigma: 10, neighbours: 3)
    #expect(nearest == [1, 4])
    for pixel in 0..<2 {
        let column = (0..<5).map { targets.floats[$0 * 2 + pixel] }
        #expect(abs(column.reduce(0, +) - 1) < 1e-5)
        #expect(column.filter { $0 > 0 }.count == 3)
        #expect(column.max() == column[nearest[pixel]])
    }
}

@Test func classAndLabGeneratorsTrainAndExportAsTheTrainerRunsThem() throws {
    var lab = tinyConfiguration(kind: .patch)
    lab.generator.colour = .lab
    for config in [lab, tinyClassConfiguration()] {
        let trainer = try GANTrainer(configuration: config)
        // Lab targets: L* from the grey input, a fixed a*b*.
        let batch = syntheticBatch(index: 0, size: 16)
        let plane = 16 * 16
        for k in 0..<plane { batch.target.floats[plane + k] = 0.2; batch.target.floats[2 * plane + k] = -0.1 }
        let metrics = try trainer.step(batch: batch)
        #expect((metrics.crossEntropy != nil) == (config.generator.colour == .abClasses))
        #expect(metrics.generatorLoss.isFinite)
        let x = syntheticBatch(index: 1, size: 16).input
        let model = try Model(bytes: trainer.exportGenerator().serialized())
        #expect(model.metadata[GeneratorColour.metadataKey] == config.generator.colour.rawValue)
        #expect(try maxAbsDifference(try runExported(model, x), trainer.generator.infer(x)) <= 1e-5)
        #expect(try GeneratorConfiguration(exportedGenerator: model) == config.generator)
        #expect(trainer.generator.parameters.reduce(0) { $0 + $1.value.count } == config.generator.parameterCount)
    }
}

@Test func theEncoderDecoderWithoutSkipsExportsAndCounts() throws {
    var config = tinyConfiguration(kind: .patch)
    config.generator.skips = false
    let trainer = try GANTrainer(configuration: config)
    _ = try trainer.step(batch: syntheticBatch(index: 0, size: 16))
    let model = try Model(bytes: trainer.exportGenerator().serialized())
    #expect(!model.graph.nodes.contains { $0.opType == "Concat" })
    let x = syntheticBatch(index: 1, size: 16).input
    #expect(try maxAbsDifference(try runExported(model, x), trainer.generator.infer(x)) <= 1e-5)
    #expect(trainer.generator.parameters.reduce(0) { $0 + $1.value.count } == config.generator.parameterCount)
    #expect(try GeneratorConfiguration(exportedGenerator: model).skips == false)
}

@Test func anRGBModelStartsALabRunWithAFreshHead() throws {
    let rgb = try GANTrainer(configuration: tinyConfiguration(seed: 1, kind: .patch))
    let model = try Model(bytes: rgb.exportGenerator().serialized())
    var labConfig = tinyConfiguration(seed: 2, kind: .patch)
    labConfig.generator.colour = .lab
    let lab = try GANTrainer(configuration: labConfig)
    let before = lab.generator.parameters.map { $0.value.scalars(as: Float.self) }
    let fresh = try lab.loadGeneratorWeights(from: model)
    #expect(fresh == ["out.weight", "out.bias"])
    for (i, (p, q)) in zip(rgb.generator.parameters, lab.generator.parameters).enumerated() {
        let want = fresh.contains(q.name) ? before[i] : p.value.scalars(as: Float.self)
        #expect(q.value.scalars(as: Float.self) == want, "\(q.name)")
    }
    // The class generator's body loads from the RGB model too; its heads stay fresh.
    let classes = try GANTrainer(configuration: tinyClassConfiguration(seed: 3))
    #expect(try classes.loadGeneratorWeights(from: model) == ["out.weight", "out.bias", "classes.weight", "classes.bias"])
}

@Test func configurationsFromBeforeTheColourSettingsDecode() throws {
    // A generator configuration as checkpoints stored it before skips, colour and bins existed.
    let old = #"{"levels":[[4,4],[8]],"inputChannels":1,"outputChannels":3,"negativeSlope":0.2,"dropout":0,"affineNorm":true}"#
    let config = try JSONDecoder().decode(GeneratorConfiguration.self, from: Data(old.utf8))
    #expect(config.skips && config.colour == .rgb && config.bins == nil)
    #expect(config == GeneratorConfiguration(levels: [[4, 4], [8]]))
}

@Test func classConfigurationsAreValidated() {
    var c = tinyClassConfiguration()
    c.classification?.binWeights = [1, 1]
    #expect(throws: TrainingError.self) { try c.validate() }
    c = tinyClassConfiguration()
    c.generator.bins?.temperature = 0
    #expect(throws: TrainingError.self) { try c.validate() }
    c = tinyClassConfiguration()
    c.generator.colour = .lab
    c.generator.outputChannels = 2
    #expect(throws: TrainingError.self) { try c.validate() }
}
