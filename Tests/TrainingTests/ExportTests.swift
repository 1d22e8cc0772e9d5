import Foundation
import ONNX
import Runtime
import Tensor
import Testing
@testable import Training

/// Serialises and decodes a model (the exporter's bytes, not just the in-memory graph), then runs it in
/// the runtime on `input`.
func runExported(_ model: Model, _ input: Tensor) throws -> Tensor {
    let decoded = try Model(bytes: model.serialized())
    return try Plan(model: decoded).run([input])[0]
}

@Test(arguments: [DiscriminatorKind.seed, .patch])
func exportedGraphsMatchTheTrainer(kind: DiscriminatorKind) throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration(kind: kind))
    let size = kind == .patch ? 16 : 8
    _ = try trainer.step(batch: syntheticBatch(index: 0, size: size))  // non-trivial norm weights
    let x = syntheticBatch(index: 1, size: size).input
    let g = trainer.generator.infer(x)
    let gOut = try runExported(trainer.exportGenerator(), x)
    #expect(gOut.shape == g.shape)
    let difference = try maxAbsDifference(gOut, g)
    #expect(difference <= 1e-5, "generator: trainer vs runtime max abs diff \(difference)")

    let pair = Tensor(uninitialized: [1, 4, size, size])
    pair.floats.baseAddress!.update(from: x.floats.baseAddress!, count: x.count)
    (pair.floats.baseAddress! + x.count).update(from: g.floats.baseAddress!, count: g.count)
    let d = trainer.discriminator.infer(pair)
    let dOut = try runExported(trainer.exportDiscriminator(), pair)
    #expect(dOut.shape == d.shape)
    let dDifference = try maxAbsDifference(dOut, d)
    #expect(dDifference <= 1e-5, "discriminator \(kind): max abs diff \(dDifference)")
}

@Test func everyLayerExportsAndMatches() throws {
    var rng = RandomGenerator(seed: 4)
    let bn = BatchNorm2d(name: "bn", channels: 4)
    let net = Sequential([
        GaussianNoise(standardDeviation: 0.5),
        Conv2d(name: "c1", inChannels: 2, outChannels: 4, rng: &rng), bn, ReLU(),
        ConvTranspose2d(name: "t1", inChannels: 4, outChannels: 3, rng: &rng), InstanceNorm2d(name: "in", channels: 3, affine: false),
        LeakyReLU(negativeSlope: 0.1), MaxPool2d(kernelSize: 2), Dropout(probability: 0.3), AvgPool2d(kernelSize: 2), Tanh(),
        Flatten(), Linear(name: "fc", inFeatures: 3 * 3 * 3, outFeatures: 5, rng: &rng), Sigmoid(),
    ])
    // Give the batch norm non-trivial running statistics.
    _ = net(Variable(randomTensor([2, 2, 6, 6], seed: 2)), ForwardContext(training: true))
    let x = randomTensor([2, 2, 6, 6], seed: 3)
    let want = net(Variable(x), ForwardContext()).value
    var b = GraphBuilder(name: "layers")
    let out = net.export(&b, "input")
    b.rename(out, to: "output")
    b.setInputs([ValueInfo(name: "input", dtype: .float32, shape: [.symbol("N"), .fixed(2), .fixed(6), .fixed(6)])])
    b.setOutputs([ValueInfo(name: "output", dtype: .float32, shape: nil)])
    let got = try runExported(b.model(), x)
    #expect(got.shape == want.shape)
    let difference = try maxAbsDifference(got, want)
    #expect(difference <= 1e-5, "all layers: max abs diff \(difference)")
    #expect(Set(b.graph.nodes.map(\.opType)) == ["Conv", "BatchNormalization", "Relu", "ConvTranspose", "InstanceNormalization",
                                                 "LeakyRelu", "MaxPool", "AveragePool", "Tanh", "Flatten", "Gemm", "Sigmoid"])
}

@Test func generatorWeightsRoundTripThroughONNX() throws {
    let a = try GANTrainer(configuration: tinyConfiguration(seed: 1))
    _ = try a.step(batch: syntheticBatch(index: 0))
    let model = try Model(bytes: a.exportGenerator().serialized())
    let b = try GANTrainer(configuration: tinyConfiguration(seed: 2))
    try b.loadGeneratorWeights(from: model)
    for (p, q) in zip(a.generator.parameters, b.generator.parameters) {
        #expect(p.value.scalars(as: Float.self) == q.value.scalars(as: Float.self), "\(p.name)")
    }
    // Another architecture is refused with a readable error.
    var other = tinyConfiguration()
    other.generator.levels = [[4, 6], [8]]
    let c = try GANTrainer(configuration: other)
    #expect(throws: TrainingError.self) { try c.loadGeneratorWeights(from: model) }
}

@Test func generatorConfigurationIsReadBackFromTheExport() throws {
    var rng = RandomGenerator(seed: 3)
    let config = GeneratorConfiguration(levels: [[4, 6], [8], [12]], negativeSlope: 0.1)
    let model = try Model(bytes: UNetGenerator(config, rng: &rng).exportModel().serialized())
    #expect(try GeneratorConfiguration(exportedGenerator: model) == config)
    #expect(throws: TrainingError.self) { try GeneratorConfiguration(exportedGenerator: Model(graph: Graph())) }
    // The page scale travels in the metadata; models without it (or from elsewhere) run at the page's scale.
    var half = config
    half.pageScale = 0.5
    let halfModel = try Model(bytes: UNetGenerator(half, rng: &rng).exportModel().serialized())
    #expect(try GeneratorConfiguration(exportedGenerator: halfModel).pageScale == 0.5)
    #expect(try GeneratorConfiguration.pageScale(exportedMetadata: [:]) == 1)
    for bad in ["0", "2", "half", "nan"] {
        #expect(throws: TrainingError.self) { try GeneratorConfiguration.pageScale(exportedMetadata: [GeneratorConfiguration.pageScaleMetadataKey: bad]) }
    }
}

@Test func verificationCaseMatchesTheRuntime() throws {
    let trainer = try GANTrainer(configuration: tinyConfiguration(kind: .patch))
    let v = trainer.verificationCase()
    #expect(v.generatorInput.shape == [1, 1, 64, 64] && v.discriminatorInput.shape == [1, 4, 64, 64])
    #expect(try maxAbsDifference(try runExported(trainer.exportGenerator(), v.generatorInput), v.generatorOutput) <= 1e-5)
    #expect(try maxAbsDifference(try runExported(trainer.exportDiscriminator(), v.discriminatorInput), v.discriminatorOutput) <= 1e-5)
}
