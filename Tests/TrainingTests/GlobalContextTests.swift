import Foundation
import ONNX
import Runtime
import Tensor
import Testing
@testable import Training

// The global-context branch: its two operations' gradients, and a generator with it training, exporting
// as the trainer runs it, and starting from a generator without it as exactly that generator.

@Test func spatialMeanGradients() {
    checkGradients("spatialMean", inputs: [randomTensor([2, 3, 4, 5], seed: 1)]) { tape, v in tape.spatialMean(v[0]) }
}

@Test func modulateGradients() {
    let x = randomTensor([2, 3, 4, 3], seed: 2), scale = randomTensor([2, 3], seed: 3, std: 0.5), shift = randomTensor([2, 3], seed: 4)
    checkGradients("modulate", inputs: [x, scale, shift]) { tape, v in tape.modulate(v[0], scale: v[1], shift: v[2]) }
    checkGradients("modulate shift only", inputs: [x, shift]) { tape, v in tape.modulate(v[0], scale: nil, shift: v[1]) }
}

@Test func modulateScalesAndShiftsEachImagesChannels() {
    let x = Variable(Tensor(shape: [2, 1, 1, 2], floats: [1, 2, 3, 4]))
    let y = Tape(recording: false).modulate(x, scale: Variable(Tensor(shape: [2, 1], floats: [1, -0.5])),
                                            shift: Variable(Tensor(shape: [2, 1], floats: [10, 0])))
    #expect(y.value.scalars(as: Float.self) == [12, 14, 1.5, 2])
}

@Test func aGeneratorWithGlobalContextTrainsAndExportsAsTheTrainerRunsIt() throws {
    for var config in [tinyConfiguration(kind: .patch), tinyClassConfiguration()] {
        config.generator.globalContext = 5
        let trainer = try GANTrainer(configuration: config)
        for i in 0..<3 { #expect(try trainer.step(batch: syntheticBatch(index: i, size: 16)).generatorLoss.isFinite) }
        // The branch learned something: its zero-initialised output layers moved.
        let scale = trainer.generator.parameters.first { $0.name == "context.scale0.weight" }!
        #expect(scale.value.scalars(as: Float.self).contains { $0 != 0 })
        let x = syntheticBatch(index: 5, size: 16).input
        let model = try Model(bytes: trainer.exportGenerator().serialized())
        #expect(try maxAbsDifference(try runExported(model, x), trainer.generator.infer(x)) <= 1e-5)
        #expect(try GeneratorConfiguration(exportedGenerator: model) == config.generator)
        #expect(trainer.generator.parameters.reduce(0) { $0 + $1.value.count } == config.generator.parameterCount)
    }
}

@Test func aGlobalContextBranchAddedToATrainedGeneratorStartsAsIt() throws {
    let plain = try GANTrainer(configuration: tinyClassConfiguration(seed: 1))
    _ = try plain.step(batch: syntheticBatch(index: 0, size: 16))
    let model = try Model(bytes: plain.exportGenerator().serialized())
    var config = tinyClassConfiguration(seed: 2)
    config.generator.globalContext = 4
    let grown = try GANTrainer(configuration: config)
    let fresh = try grown.loadGeneratorWeights(from: model)
    #expect(!fresh.isEmpty && fresh.allSatisfy { $0.hasPrefix("context.") })
    let x = syntheticBatch(index: 1, size: 16).input
    #expect(try maxAbsDifference(grown.generator.infer(x), plain.generator.infer(x)) == 0)
    // The other way round, the branch would be dropped silently: refused, naming the flag.
    let withBranch = try Model(bytes: grown.exportGenerator().serialized())
    #expect(throws: TrainingError.self) { try GANTrainer(configuration: tinyClassConfiguration(seed: 3)).loadGeneratorWeights(from: withBranch) }
}
