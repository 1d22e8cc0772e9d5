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
    ///
    /// A batch of several images is computed one image at a time, each image's gradients summed in order
    /// ((g0 + g1) + g2 ...) and divided by the batch — exactly what the same images spread over as many
    /// processes compute (each its own image, then the all-reduce's sum), so one process with a batch of 2
    /// and two processes with one image each hold the same weights, bit for bit. Random draws (dropout,
    /// instance noise, labels) are made for the whole global batch by the first image's pass and replayed,
    /// sliced, by the others (`DrawLog`).
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
        let samples: [SamplePass] = (0..<n).map { i in
            SamplePass(input: n == 1 ? batch.input : sampleRows(batch.input, i),
                       target: n == 1 ? batch.target : sampleRows(batch.target, i),
                       shard: n * ranks > 1 ? BatchShard(offset: collective.rank * n + i, total: ranks * n) : .whole)
        }
        let discriminatorDraws = n > 1 ? DrawLog() : nil, generatorDraws = n > 1 ? DrawLog() : nil

        // D step: real pairs against detached fakes.
        // The networks' parameter lists, once per step (the U-Net's comes from a walk of its layers).
        let (gParameters, dParameters) = (generator.parameters, discriminator.parameters)
        var dSum = GradientSum(dParameters)
        var state = rng
        for (i, s) in samples.enumerated() {
            let draws = discriminatorDraws.map { DrawCursor($0, recording: i == 0) }
            let gContext = ForwardContext(tape: s.tape, training: true, rng: state, shard: s.shard, draws: draws)
            (s.fake, s.logits) = generator.forward(s.x, gContext)
            let dContext = ForwardContext(tape: Tape(), training: true, rng: gContext.rng, shard: s.shard, draws: draws)
            s.realPair = dContext.tape.concatChannels([s.x, Variable(s.target)])
            let fakePair = dContext.tape.concatChannels([s.x, s.fake.detached()])
            let realLogits = discriminator(s.realPair, dContext)
            let fakeLogits = discriminator(fakePair, dContext)
            let (realLabels, fakeLabels) = labels(count: realLogits.value.count, shard: s.shard, draws: draws, &dContext.rng)
            let dReal = dContext.tape.bceWithLogits(realLogits, targets: realLabels)
            let dFake = dContext.tape.bceWithLogits(fakeLogits, targets: fakeLabels)
            let dLoss = dContext.tape.weightedSum([(dReal, 0.5), (dFake, 0.5)])
            try checkFinite(dLoss, "discriminator")
            dContext.tape.backward(dLoss)
            if n > 1 { dSum.take(dParameters) }
            s.scalars[5] = dLoss.value.floats[0]
            s.scalars[6] = fraction(realLogits.value) { $0 > 0 }
            s.scalars[7] = fraction(fakeLogits.value) { $0 < 0 }
            if i == 0 { state = dContext.rng }
        }
        if n > 1 { dSum.give(dParameters, dividedBy: n) }
        _ = try averageGradients(dParameters)
        discriminatorOptimizer.update()

        // G step through the updated D, frozen: gradients flow through D to G, none are computed for D's weights.
        for p in dParameters { p.requiresGrad = false }
        defer { for p in dParameters { p.requiresGrad = true } }
        var gSum = GradientSum(gParameters)
        for (i, s) in samples.enumerated() {
            let draws = generatorDraws.map { DrawCursor($0, recording: i == 0) }
            let gContext = ForwardContext(tape: s.tape, training: true, rng: state, shard: s.shard, draws: draws)
            let gTape = s.tape
            let pair = gTape.concatChannels([s.x, s.fake])
            var fakeFeatures: [Variable] = []
            let judged = discriminator(pair, gContext, features: &fakeFeatures)
            let ones = Tensor(shape: judged.shape, floats: Array(repeating: 1, count: judged.value.count))
            let adversarial = gTape.bceWithLogits(judged, targets: ones)
            // a*b* classes: L1 on L* only (a*b* regression is what averages colours towards grey).
            let l1 = gTape.l1(s.fake, target: s.target, channelWeights: s.logits == nil ? nil : [3, 0, 0])
            var terms = [(adversarial, Float(1)), (l1, c.l1Weight)]
            if let logits = s.logits, let loss = c.classification, let bins = c.generator.bins {
                let (targets, nearest) = bins.softTargets(lab: s.target, sigma: loss.sigma)
                let weights = Tensor(shape: [nearest.count], floats: nearest.map { loss.binWeights[$0] })
                let ce = gTape.softCrossEntropy(logits, targets: targets, pixelWeights: weights)
                s.scalars[4] = ce.value.floats[0]
                terms.append((ce, loss.weight))
            }
            if c.featureMatchingWeight > 0 {
                let realContext = ForwardContext(tape: Tape(recording: false), training: true, rng: gContext.rng, shard: s.shard, draws: draws)
                var realFeatures: [Variable] = []
                _ = discriminator(Variable(s.realPair.value), realContext, features: &realFeatures)
                gContext.rng = realContext.rng
                var fm: [(Variable, Float)] = []
                for (f, r) in zip(fakeFeatures, realFeatures) { fm.append((gTape.l1(f, target: r.value), 1 / Float(fakeFeatures.count))) }
                let matching = gTape.weightedSum(fm)
                s.scalars[3] = matching.value.floats[0]
                terms.append((matching, c.featureMatchingWeight))
            }
            let gLoss = gTape.weightedSum(terms)
            try checkFinite(gLoss, "generator")
            gTape.backward(gLoss)
            if n > 1 { gSum.take(gParameters) }
            s.scalars[0] = gLoss.value.floats[0]
            s.scalars[1] = adversarial.value.floats[0]
            s.scalars[2] = l1.value.floats[0]
            if i == 0 { state = gContext.rng }
        }
        if n > 1 { gSum.give(gParameters, dividedBy: n) }
        // The step's scalars travel with G's gradients: every process reports the global batch's means.
        var means = samples[0].scalars
        if n > 1 { means = (0..<means.count).map { k in samples.reduce(0) { $0 + $1.scalars[k] } / Float(n) } }
        let scalars = try averageGradients(gParameters, with: means)
        generatorOptimizer.update()
        updateAverage()
        rng = state
        completedSteps += 1

        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return StepMetrics(
            step: completedSteps, generatorLoss: scalars[0], generatorAdversarialLoss: scalars[1],
            l1: scalars[2], featureMatching: scalars[3], crossEntropy: samples[0].logits == nil ? nil : scalars[4],
            discriminatorLoss: scalars[5], discriminatorRealAccuracy: scalars[6], discriminatorFakeAccuracy: scalars[7],
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
    /// With a `shard` (`count` labels for one of its samples' passes), the labels of the whole global batch
    /// are drawn (or replayed from `draws`) and this sample's slice is returned.
    func labels(count: Int, shard: BatchShard = .whole, draws: DrawCursor? = nil, _ rng: inout RandomGenerator) -> (Tensor, Tensor) {
        guard shard.total > 1 else { return drawLabels(count: count, &rng) }
        // [samples, real | fake, count]: one tensor, so a replayed pass finds both in one entry of the log.
        func generate(_ shape: [Int]) -> Tensor {
            let (real, fake) = drawLabels(count: shape[0] * count, &rng)
            let both = Tensor(uninitialized: shape)
            for s in 0..<shape[0] {
                (both.floats.baseAddress! + s * 2 * count).update(from: real.floats.baseAddress! + s * count, count: count)
                (both.floats.baseAddress! + (s * 2 + 1) * count).update(from: fake.floats.baseAddress! + s * count, count: count)
            }
            return both
        }
        let global = [shard.total, 2, count]
        let rows = shard.rows(of: draws?.global(global, generate) ?? generate(global), count: 1)
        let real = Tensor(uninitialized: [count]), fake = Tensor(uninitialized: [count])
        real.floats.baseAddress!.update(from: rows.floats.baseAddress!, count: count)
        fake.floats.baseAddress!.update(from: rows.floats.baseAddress! + count, count: count)
        return (real, fake)
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
    /// from this generator's (an RGB model starting a Lab or a*b*-class run), and the global-context branch
    /// (`context.*`) when the model has none (it starts as the identity). Returns the names left fresh.
    @discardableResult
    public func loadGeneratorWeights(from model: Model) throws -> [String] {
        let colour = try GeneratorColour(exportedMetadata: model.metadata)
        let isHead: (Variable) -> Bool = { $0.name.hasPrefix("out.") || $0.name.hasPrefix("classes.") }
        let branch = model.graph.initializers[GlobalContext.encodeWeightName]
        if let branch, configuration.generator.globalContext == 0 {
            throw TrainingError.weights("the model has a global-context branch of \(branch.shape.first ?? 0) units and this generator none (train --global-context \(branch.shape.first ?? 0))")
        }
        let fresh = generator.parameters.filter { p in
            (colour != configuration.generator.colour && isHead(p))
                || (branch == nil && p.name.hasPrefix(GlobalContext.prefix))
        }
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
