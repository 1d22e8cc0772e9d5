import Foundation
import ONNX
import Tensor

/// One batch of training pairs: grey pages `input` [N, 1, H, W] and their colour `target` [N, 3, H, W],
/// both scaled to [-1, 1].
public struct TrainingBatch: Sendable {
    public var input: Tensor
    public var target: Tensor
    public init(input: Tensor, target: Tensor) { self.input = input; self.target = target }
}

/// The cGAN training loop (pix2pix objective with the seed's stabilisation tricks).
///
/// Each `step(batch:)`: G forward; D step on (x, y) as real and (x, G(x)) detached as fake, with noisy and
/// occasionally flipped labels and decaying instance noise; then the G step on BCE(D(x, G(x)), 1)
/// + l1Weight * L1(G(x), y) (+ feature matching) through the updated D. All randomness comes from one
/// seeded generator, stored in checkpoints: resuming reproduces an uninterrupted run bit for bit.
public final class GANTrainer {
    public let configuration: TrainingConfiguration
    public let generator: UNetGenerator
    public let discriminator: Discriminator
    /// The moving average of the generator's weights (`generatorAverageDecay`), nil when not kept.
    public let averagedGenerator: UNetGenerator?
    /// What export, verification and validation use: the average when one is kept, else the generator.
    public var exportedGenerator: UNetGenerator { averagedGenerator ?? generator }
    let generatorOptimizer: Adam
    let discriminatorOptimizer: Adam
    /// Steps taken so far.
    public internal(set) var completedSteps = 0
    /// The run's random generator (a data loader may draw from it to stay reproducible).
    public var rng: RandomGenerator
    /// The processes training this model together (`mpirun`); each `step` gets this process's share of the
    /// global batch, and gradients are averaged over all of them before each Adam update.
    public var collective: any Collective = SingleProcess()
    /// The current step's all-reduce time and bytes (`StepMetrics.allReduceSeconds`).
    private var communication = (seconds: 0.0, bytes: 0)

    public init(configuration: TrainingConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        var rng = RandomGenerator(seed: configuration.seed)
        generator = UNetGenerator(configuration.generator, rng: &rng)
        discriminator = Discriminator(configuration.discriminator, rng: &rng)
        self.rng = rng
        if configuration.generatorAverageDecay != nil {
            // Its own throwaway initialisation (overwritten below), so the run's random stream is unchanged.
            var scratch = RandomGenerator(seed: 0)
            averagedGenerator = UNetGenerator(configuration.generator, rng: &scratch)
        } else {
            averagedGenerator = nil
        }
        let c = configuration
        generatorOptimizer = Adam(parameters: generator.parameters, learningRate: c.generatorLearningRate, beta1: c.beta1, beta2: c.beta2)
        discriminatorOptimizer = Adam(parameters: discriminator.parameters, learningRate: c.discriminatorLearningRate, beta1: c.beta1, beta2: c.beta2)
        resetAverage()
    }

    /// Sets the average to the generator's current weights (a fresh run, or after loading `--init` weights).
    func resetAverage() {
        guard let averagedGenerator else { return }
        for (a, p) in zip(averagedGenerator.parameters + averagedGenerator.buffers, generator.parameters + generator.buffers) {
            a.value = p.value.copy()
        }
    }

    /// average = decay * average + (1 - decay) * weights, after each generator update.
    private func updateAverage() {
        guard let averagedGenerator, let decay = configuration.generatorAverageDecay else { return }
        for (a, p) in zip(averagedGenerator.parameters, generator.parameters) {
            let ap = a.value.floats, pp = p.value.floats
            for i in 0..<ap.count { ap[i] = decay * ap[i] + (1 - decay) * pp[i] }
        }
        for (a, p) in zip(averagedGenerator.buffers, generator.buffers) { a.value = p.value.copy() }
    }

    /// One D update then one G update on `batch`.
    public func step(batch: TrainingBatch) throws -> StepMetrics {
        let start = DispatchTime.now()
        let c = configuration
        try checkBatch(batch)
        let n = batch.input.shape[0]
        let lrFactor = c.learningRateFactor(at: completedSteps)
        generatorOptimizer.learningRate = c.generatorLearningRate * lrFactor * c.generatorWarmupFactor(at: completedSteps)
        discriminatorOptimizer.learningRate = c.discriminatorLearningRate * lrFactor
        let noise = c.instanceNoise(at: completedSteps)
        discriminator.setNoise(std: noise, layerDecay: c.instanceNoiseLayerDecay)

        let ranks = collective.size
        communication = (0, 0)
        let shard = ranks > 1 ? BatchShard(offset: collective.rank * n, total: ranks * n) : .whole
        let x = Variable(batch.input)
        let gTape = Tape()
        let gContext = ForwardContext(tape: gTape, training: true, rng: rng, shard: shard)
        let (fake, logits) = generator.forward(x, gContext)

        // D step: real pairs against detached fakes.
        let dContext = ForwardContext(tape: Tape(), training: true, rng: gContext.rng, shard: shard)
        let realPair = dContext.tape.concatChannels([x, Variable(batch.target)])
        let fakePair = dContext.tape.concatChannels([x, fake.detached()])
        let realLogits = discriminator(realPair, dContext)
        let fakeLogits = discriminator(fakePair, dContext)
        let (realLabels, fakeLabels) = labels(count: realLogits.value.count, shard: shard, samples: n, &dContext.rng)
        let dReal = dContext.tape.bceWithLogits(realLogits, targets: realLabels)
        let dFake = dContext.tape.bceWithLogits(fakeLogits, targets: fakeLabels)
        let dLoss = dContext.tape.weightedSum([(dReal, 0.5), (dFake, 0.5)])
        try checkFinite(dLoss, "discriminator")
        dContext.tape.backward(dLoss)
        _ = try averageGradients(discriminator.parameters)
        discriminatorOptimizer.update()

        // G step through the updated D, frozen: gradients flow through D to G, none are computed for D's weights.
        gContext.rng = dContext.rng
        let dParameters = discriminator.parameters
        for p in dParameters { p.requiresGrad = false }
        defer { for p in dParameters { p.requiresGrad = true } }
        let pair = gTape.concatChannels([x, fake])
        var fakeFeatures: [Variable] = []
        let judged = discriminator(pair, gContext, features: &fakeFeatures)
        let ones = Tensor(shape: judged.shape, floats: Array(repeating: 1, count: judged.value.count))
        let adversarial = gTape.bceWithLogits(judged, targets: ones)
        // a*b* classes: L1 on L* only (a*b* regression is what averages colours towards grey).
        let l1 = gTape.l1(fake, target: batch.target, channelWeights: logits == nil ? nil : [3, 0, 0])
        var terms = [(adversarial, Float(1)), (l1, c.l1Weight)]
        var crossEntropy: Float = 0
        if let logits, let loss = c.classification, let bins = c.generator.bins {
            let (targets, nearest) = bins.softTargets(lab: batch.target, sigma: loss.sigma)
            let weights = Tensor(shape: [nearest.count], floats: nearest.map { loss.binWeights[$0] })
            let ce = gTape.softCrossEntropy(logits, targets: targets, pixelWeights: weights)
            crossEntropy = ce.value.floats[0]
            terms.append((ce, loss.weight))
        }
        var featureLoss: Float = 0
        if c.featureMatchingWeight > 0 {
            let realContext = ForwardContext(tape: Tape(recording: false), training: true, rng: gContext.rng, shard: shard)
            var realFeatures: [Variable] = []
            _ = discriminator(Variable(realPair.value), realContext, features: &realFeatures)
            gContext.rng = realContext.rng
            var fm: [(Variable, Float)] = []
            for (f, r) in zip(fakeFeatures, realFeatures) { fm.append((gTape.l1(f, target: r.value), 1 / Float(fakeFeatures.count))) }
            let matching = gTape.weightedSum(fm)
            featureLoss = matching.value.floats[0]
            terms.append((matching, c.featureMatchingWeight))
        }
        let gLoss = gTape.weightedSum(terms)
        try checkFinite(gLoss, "generator")
        gTape.backward(gLoss)
        // The step's scalars travel with G's gradients: every process reports the global batch's means.
        let scalars = try averageGradients(generator.parameters, with: [
            gLoss.value.floats[0], adversarial.value.floats[0], l1.value.floats[0], featureLoss, crossEntropy,
            dLoss.value.floats[0], fraction(realLogits.value) { $0 > 0 }, fraction(fakeLogits.value) { $0 < 0 },
        ])
        generatorOptimizer.update()
        updateAverage()
        rng = gContext.rng
        completedSteps += 1

        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return StepMetrics(
            step: completedSteps, generatorLoss: scalars[0], generatorAdversarialLoss: scalars[1],
            l1: scalars[2], featureMatching: scalars[3], crossEntropy: logits == nil ? nil : scalars[4], discriminatorLoss: scalars[5],
            discriminatorRealAccuracy: scalars[6], discriminatorFakeAccuracy: scalars[7],
            learningRate: generatorOptimizer.learningRate, instanceNoise: noise,
            imagesPerSecond: Double(n * ranks) / max(seconds, 1e-9), seconds: seconds,
            allReduceSeconds: ranks > 1 ? communication.seconds : nil, allReduceBytes: ranks > 1 ? communication.bytes : nil)
    }

    /// Averages the gradients of `parameters` (and the `scalars` appended) over the collective's processes,
    /// packed into one buffer: one all-reduce per network per step. Identity for a single process. A
    /// parameter without a gradient counts as zeros and is left without one.
    func averageGradients(_ parameters: [Variable], with scalars: [Float] = []) throws -> [Float] {
        guard collective.size > 1 else { return scalars }
        let total = parameters.reduce(0) { $0 + $1.value.count } + scalars.count
        var buffer = [Float](repeating: 0, count: total)
        try buffer.withUnsafeMutableBufferPointer { b in
            var at = 0
            for p in parameters {
                if let g = p.grad { (b.baseAddress! + at).update(from: g.floats.baseAddress!, count: g.count) }
                at += p.value.count
            }
            for (i, v) in scalars.enumerated() { b[at + i] = v }
            let start = DispatchTime.now()
            try collective.allReduceSum(b)
            communication.seconds += Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            communication.bytes += 4 * b.count
            let scale = 1 / Float(collective.size)
            for i in 0..<b.count { b[i] *= scale }
            at = 0
            for p in parameters {
                if let g = p.grad { g.floats.baseAddress!.update(from: b.baseAddress! + at, count: g.count) }
                at += p.value.count
            }
        }
        return Array(buffer.suffix(scalars.count))
    }

    /// Refuses to apply a non-finite loss (the weights would all become NaN).
    private func checkFinite(_ loss: Variable, _ what: String) throws {
        guard loss.value.floats[0].isFinite else {
            throw TrainingError.diverged("the \(what) loss is \(loss.value.floats[0]) at step \(completedSteps + 1); lower the learning rate or resume from the last checkpoint")
        }
    }

    /// Noisy targets: real uniform in `realLabelRange`, fake in `fakeLabelRange`, each pair swapped with
    /// probability `labelFlipProbability`.
    /// With a `shard` (`count` labels for its n local samples), the labels of the whole global batch are drawn
    /// and this process's slice is returned.
    func labels(count: Int, shard: BatchShard = .whole, samples n: Int = 1, _ rng: inout RandomGenerator) -> (Tensor, Tensor) {
        guard shard.total > 0, shard.total != n else { return drawLabels(count: count, &rng) }
        let perSample = count / n
        let (real, fake) = drawLabels(count: perSample * shard.total, &rng)
        func slice(_ t: Tensor) -> Tensor {
            let out = Tensor(uninitialized: [count])
            out.floats.baseAddress!.update(from: t.floats.baseAddress! + shard.offset * perSample, count: count)
            return out
        }
        return (slice(real), slice(fake))
    }

    private func drawLabels(count: Int, _ rng: inout RandomGenerator) -> (Tensor, Tensor) {
        let c = configuration
        let real = Tensor(uninitialized: [count]), fake = Tensor(uninitialized: [count])
        let rp = real.floats, fp = fake.floats
        for i in 0..<count {
            rp[i] = rng.uniform(c.realLabelRange.lowerBound, c.realLabelRange.upperBound)
            fp[i] = rng.uniform(c.fakeLabelRange.lowerBound, c.fakeLabelRange.upperBound)
            if rng.uniform() < c.labelFlipProbability { swap(&rp[i], &fp[i]) }
        }
        return (real, fake)
    }

    private func fraction(_ t: Tensor, _ predicate: (Float) -> Bool) -> Float {
        Float(t.floats.filter(predicate).count) / Float(max(t.count, 1))
    }

    private func checkBatch(_ b: TrainingBatch) throws {
        let g = configuration.generator, d = configuration.discriminator
        let s = b.input.shape, t = b.target.shape
        guard b.input.dtype == .float32, b.target.dtype == .float32, s.count == 4, t.count == 4 else {
            throw TrainingError.configuration("batch must be float32 NCHW; got input \(b.input.dtype) \(s), target \(b.target.dtype) \(t)")
        }
        guard s[1] == g.inputChannels, t[1] == g.outputChannels, s[0] == t[0], s[2] == t[2], s[3] == t[3] else {
            throw TrainingError.configuration("batch input \(s) and target \(t) must be [N, \(g.inputChannels), H, W] and [N, \(g.outputChannels), H, W]")
        }
        guard s[2] % g.sizeMultiple == 0, s[3] % g.sizeMultiple == 0 else {
            throw TrainingError.configuration("image \(s[2])x\(s[3]) must have sides that are multiples of \(g.sizeMultiple)")
        }
        if d.kind == .patch && min(Discriminator.outputSide(d, input: s[2]), Discriminator.outputSide(d, input: s[3])) < 1 {
            throw TrainingError.configuration("image \(s[2])x\(s[3]) is too small for the PatchGAN discriminator (\(d.strided.count) stride-2 layers)")
        }
        if d.kind == .seed && (s[2] != d.imageSize || s[3] != d.imageSize) {
            throw TrainingError.configuration("the seed discriminator was built for \(d.imageSize)x\(d.imageSize) images, got \(s[2])x\(s[3])")
        }
    }

    // MARK: Weights in and out

    /// The generator as an ONNX model ("input" [N, 1, H, W] -> "output" [N, 3, H, W]).
    public func exportGenerator() -> Model { exportedGenerator.exportModel() }
    /// The discriminator as an ONNX model ("input" [N, 4, H, W] -> "output" probabilities).
    public func exportDiscriminator() -> Model { discriminator.exportModel() }

    /// Loads generator weights from a decoded ONNX model of the same architecture (`train --init G.onnx`):
    /// every generator parameter must be an initializer of the same name and shape — except the output
    /// head (`out.*`, `classes.*`), which stays freshly initialised when the model's output colour differs
    /// from this generator's (an RGB model starting a Lab or a*b*-class run). Returns the names left fresh.
    @discardableResult
    public func loadGeneratorWeights(from model: Model) throws -> [String] {
        let colour = try GeneratorColour(exportedMetadata: model.metadata)
        let isHead: (Variable) -> Bool = { $0.name.hasPrefix("out.") || $0.name.hasPrefix("classes.") }
        let fresh = colour == configuration.generator.colour ? [] : generator.parameters.filter(isHead)
        try Self.load(generator.parameters.filter { p in !fresh.contains { $0 === p } },
                      from: model.graph.initializers, what: "generator")
        resetAverage()
        return fresh.map(\.name)
    }

    static func load(_ parameters: [Variable], from initializers: [String: Tensor], what: String) throws {
        var values: [Tensor] = []
        for p in parameters {
            guard let t = initializers[p.name] else {
                throw TrainingError.weights("the model has no initializer \"\(p.name)\": it is not a \(what) of this architecture (check the width and level settings)")
            }
            guard t.dtype == .float32, t.shape == p.shape else {
                throw TrainingError.weights("initializer \"\(p.name)\" is \(t.dtype) \(t.shape), the \(what) expects float32 \(p.shape)")
            }
            values.append(t)
        }
        for (p, t) in zip(parameters, values) { p.value.floats.baseAddress!.update(from: t.floats.baseAddress!, count: t.count) }
    }
}

/// Inputs and the trainer's own outputs for checking an exported graph (`mangacolor verify`): run the
/// exported generator on `generatorInput` and the discriminator on `discriminatorInput`, compare with
/// `generatorOutput` and `discriminatorOutput` (the discriminator's are probabilities, as exported).
public struct VerificationCase: Sendable {
    public var generatorInput: Tensor
    public var generatorOutput: Tensor
    public var discriminatorInput: Tensor
    public var discriminatorOutput: Tensor
}

extension GANTrainer {
    /// A deterministic grey page of side `size` (default: the discriminator's size for the seed kind, else
    /// 64, rounded up to the U-Net's multiple), through both networks in inference mode.
    public func verificationCase(size: Int? = nil, seed: UInt64 = 2024) -> VerificationCase {
        let g = configuration.generator, d = configuration.discriminator
        var side = size ?? (d.kind == .seed ? d.imageSize : max(64, g.sizeMultiple))
        side = (side + g.sizeMultiple - 1) / g.sizeMultiple * g.sizeMultiple
        if d.kind == .seed { side = d.imageSize }
        var rng = RandomGenerator(seed: seed)
        let x = rng.normal([1, g.inputChannels, side, side], std: 0.5)
        let y = exportedGenerator.infer(x)
        let pair = Tape(recording: false).concatChannels([Variable(x), Variable(y)]).value
        return VerificationCase(generatorInput: x, generatorOutput: y, discriminatorInput: pair,
                                discriminatorOutput: discriminator.infer(pair))
    }
}
