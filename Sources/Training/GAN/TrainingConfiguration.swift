/// Everything that defines a training run, with the seed document's choices as defaults. Stored in every
/// checkpoint (as JSON), so a resumed run continues with exactly the same settings.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    /// Seed of the run's one random generator (initialisation, noise, labels, dropout).
    public var seed: UInt64 = 0
    public var generator = GeneratorConfiguration()
    public var discriminator = DiscriminatorConfiguration()

    // Adam (the seed: lr 1e-4; betas as pix2pix).
    public var generatorLearningRate: Float = 1e-4
    public var discriminatorLearningRate: Float = 1e-4
    public var beta1: Float = 0.5
    public var beta2: Float = 0.999
    /// Linear learning-rate decay to 0 at `totalSteps`, starting at this step (nil: constant rate).
    public var learningRateDecayStart: Int? = nil
    public var totalSteps: Int = 10_000
    /// The generator's learning rate ramps linearly from 0 to its value over this many steps (nil or 0: no
    /// ramp). For runs that start from trained weights (`train --init`) with a fresh discriminator and fresh
    /// Adam moments: the discriminator learns at its full rate while the generator barely moves.
    public var generatorWarmupSteps: Int? = nil
    /// When set, an exponential moving average of the generator's weights with this decay (e.g. 0.999) is kept
    /// beside them (Yazıcı et al. 2019); export, verification and validation use the average.
    public var generatorAverageDecay: Float? = nil

    // Losses.
    /// Weight of the L1 loss to the target in the generator's objective (pix2pix: 100).
    public var l1Weight: Float = 100
    /// Weight of discriminator feature matching (pix2pixHD), 0 to disable.
    public var featureMatchingWeight: Float = 0
    /// The a*b* classification loss of an `abClasses` generator (nil otherwise; L1 then applies to L* only).
    public var classification: ClassificationLoss? = nil

    // Stabilisation (Salimans et al. 2016; the seed's fixes).
    /// Std of the Gaussian instance noise on the discriminator's input at step 0 (images are in [-1, 1]).
    public var instanceNoise: Float = 0.1
    /// The noise decays linearly to 0 over this many steps.
    public var instanceNoiseDecaySteps: Int = 5_000
    /// Each deeper discriminator layer gets this factor times the noise of the layer before.
    public var instanceNoiseLayerDecay: Float = 0.5
    /// Real targets are drawn uniformly from this range, fake targets from `fakeLabelRange`.
    public var realLabelRange: ClosedRange<Float> = 0.7...1.0
    public var fakeLabelRange: ClosedRange<Float> = 0.0...0.3
    /// Probability that a discriminator target is swapped (real given a fake label and vice versa).
    public var labelFlipProbability: Float = 0.05

    public init() {}

    /// A configuration for images of side `size`, with generator widths scaled by `widthMultiplier`.
    public init(imageSize size: Int, widthMultiplier: Double = 1, discriminator kind: DiscriminatorKind = .seed, seed: UInt64 = 0) {
        self.seed = seed
        generator = .seed(widthMultiplier: widthMultiplier)
        discriminator = DiscriminatorConfiguration(kind: kind, imageSize: size)
    }

    /// Learning-rate factor in [0, 1] at `step` (linear decay after `learningRateDecayStart`).
    public func learningRateFactor(at step: Int) -> Float {
        guard let start = learningRateDecayStart, step >= start, totalSteps > start else { return 1 }
        return max(0, 1 - Float(step - start) / Float(totalSteps - start))
    }

    /// The generator's extra learning-rate factor in [0, 1] at `step` (the warm-up ramp).
    public func generatorWarmupFactor(at step: Int) -> Float {
        guard let warmup = generatorWarmupSteps, warmup > 0, step < warmup else { return 1 }
        return Float(step + 1) / Float(warmup + 1)
    }

    /// Instance-noise std on the discriminator's input at `step`.
    public func instanceNoise(at step: Int) -> Float {
        guard instanceNoiseDecaySteps > 0 else { return 0 }
        return instanceNoise * max(0, 1 - Float(step) / Float(instanceNoiseDecaySteps))
    }

    /// Throws when the settings cannot train (the message names the setting).
    public func validate() throws {
        func fail(_ s: String) -> TrainingError { .configuration(s) }
        if generator.levels.isEmpty || generator.levels.contains(where: { $0.isEmpty || $0.contains { $0 < 1 } }) {
            throw fail("generator levels \(generator.levels) must each list at least one positive width")
        }
        if generator.colour.outputIsLab && generator.outputChannels != 3 {
            throw fail("a \(generator.colour.rawValue) generator has 3 output channels (L*, a*, b*), not \(generator.outputChannels)")
        }
        if generator.colour == .abClasses {
            guard let bins = generator.bins, bins.count >= 2, bins.centres.allSatisfy({ $0.count == 2 }) else {
                throw fail("an a*b* class generator needs at least 2 bins, each an (a*, b*) pair")
            }
            guard bins.temperature > 0 else { throw fail("the annealed-mean temperature \(bins.temperature) must be positive") }
            guard let classification, classification.binWeights.count == bins.count else {
                throw fail("an a*b* class generator needs one rebalancing weight per bin (\(bins.count))")
            }
            guard classification.sigma > 0, classification.weight >= 0, classification.binWeights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw fail("the classification loss needs sigma > 0, weight >= 0 and finite non-negative bin weights")
            }
        }
        if discriminator.inputChannels != generator.inputChannels + generator.outputChannels {
            throw fail("discriminator takes \(discriminator.inputChannels) channels, but grey + colour is \(generator.inputChannels + generator.outputChannels)")
        }
        if discriminator.kind == .seed && discriminator.imageSize % generator.sizeMultiple != 0 {
            throw fail("image size \(discriminator.imageSize) must be a multiple of \(generator.sizeMultiple) for a \(generator.levels.count)-level U-Net")
        }
        if !(generatorLearningRate > 0 && discriminatorLearningRate > 0) { throw fail("learning rates must be positive") }
        if (generatorWarmupSteps ?? 0) < 0 { throw fail("generator warm-up steps must not be negative") }
        if let d = generatorAverageDecay, !(d > 0 && d < 1) { throw fail("the weight-average decay \(d) must be in (0, 1)") }
        if !(0..<1).contains(beta1) || !(0..<1).contains(beta2) { throw fail("Adam betas must be in [0, 1)") }
        if !(0...1).contains(labelFlipProbability) { throw fail("label flip probability \(labelFlipProbability) must be in [0, 1]") }
        if realLabelRange.lowerBound < 0 || realLabelRange.upperBound > 1 || fakeLabelRange.lowerBound < 0 || fakeLabelRange.upperBound > 1 {
            throw fail("label ranges must lie in [0, 1]")
        }
    }
}

/// Cross-entropy over a*b* bins with class rebalancing (Zhang et al. 2016): each pixel's target is its a*b*
/// spread over the 5 nearest bins with a Gaussian of std `sigma`, and the pixel is weighted by the
/// rebalancing weight of its nearest bin, so rare vivid colours count as much as common greys.
public struct ClassificationLoss: Codable, Sendable, Equatable {
    /// Rebalancing weight per bin (same order as `GeneratorConfiguration.bins`), mean 1 over the data.
    public var binWeights: [Float]
    /// Std of the soft encoding, in a*b* units.
    public var sigma: Float
    /// Weight of the cross-entropy in the generator's objective.
    public var weight: Float

    public init(binWeights: [Float], sigma: Float, weight: Float = 1) {
        self.binWeights = binWeights
        self.sigma = sigma
        self.weight = weight
    }
}
