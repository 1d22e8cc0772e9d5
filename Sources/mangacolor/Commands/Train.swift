import ArgumentParser
import Colorize
import Foundation
import ONNX
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the generator and discriminator as a conditional GAN on colour pages.",
        discussion: """
        Pairs are made from colour pages: the grey (or manga-style: ink and screentone, then descreened as colorize does) version is the input, \
        the page the target. --data DIR trains on a folder of pages; --reference PAGE fine-tunes a generator (the default model, \
        or --init) on crops of one coloured page of a series (Hensman & Aizawa 2017) with the recipe colorize --reference \
        uses: the architecture from the model, 300 steps of 128-pixel crops, L1 x10 + feature matching 10; export the run \
        to get the adapted model file. \
        Rerunning the same command resumes from RUN's checkpoint. Writes RUN/metrics.jsonl (one line per step), \
        RUN/checkpoint.mcc, RUN/config.json and RUN/report.html. \
        Under mpirun -n N (a build with Open MPI) the N processes train one model: each takes --batch-size pairs \
        of every global batch, gradients are averaged before each step, rank 0 alone writes RUN.
        """)

    @Option(help: "Folder of colour pages (PNG or JPEG, searched recursively).")
    var data: String?

    @Option(help: "One coloured page to adapt a generator to (the default model, or --init; the generator's settings come from it).")
    var reference: String?

    @Option(help: "Run folder: checkpoint, metrics, report.")
    var out: String

    @Option(help: "Side of the square training crops (a multiple of 2^(levels-1)). Default: 256 (--data), 128 (--reference).")
    var size: Int?

    @Option(help: "Train until this many steps are done. Default: 2000 (--data), 300 (--reference).")
    var steps: Int?

    @Option(help: "Pairs per step (per process under mpirun: the global batch is N times this).")
    var batchSize: Int = 1

    @Option(help: "Adam learning rate for both networks (the seed: 1e-4).")
    var lr: Float = 1e-4

    @Option(help: "Adam beta1.")
    var beta1: Float = 0.5

    @Option(help: "Adam beta2.")
    var beta2: Float = 0.999

    @Option(help: "Start a linear learning-rate decay to 0 at this step (default: constant rate).")
    var lrDecayStart: Int?

    @Option(help: "Ramp the generator's learning rate up from 0 over this many steps (for --init runs: the fresh discriminator catches up before it steers the generator).")
    var warmup: Int = 0

    @Option(help: "Keep an exponential moving average of the generator's weights with this decay (e.g. 0.999); export, verify, validation and the report use it. Default: off.")
    var averageDecay: Float?

    @Option(help: "Weight of the L1 loss in the generator's objective. Default: 100 (--data), 10 (--reference).")
    var l1Weight: Float?

    @Option(help: "Weight of discriminator feature matching (0 = off). Default: 0 (--data), 10 (--reference).")
    var featureMatching: Float?

    @Option(help: "Discriminator: seed (3x3 convs + fully connected, fixed size) or patch (PatchGAN, any size). Default: seed (--data), patch (--reference, always).")
    var discriminator: DiscriminatorKind?

    @Option(help: "Generator width multiplier (1 = the seed's 16..512 channels). Default: 1. With --reference the generator's settings (widths, levels, colour, page scale) are the model's.")
    var widthMultiplier: Double?

    @Option(help: "U-Net levels (7 = the seed's, down to 1/64).")
    var levels: Int = 7

    @Option(help: "What the generator predicts: rgb (the seed's), lab (chroma-first: CIELAB, losses in Lab units) or ab-classes (a*b* as a distribution over bins, rebalanced cross-entropy, annealed-mean decoding; Zhang et al. 2016).")
    var colour: GeneratorColour = .rgb

    @Flag(help: "Drop the U-Net's skip connections (the plain encoder-decoder pix2pix compares against).")
    var noSkips = false

    @Option(help: "Page scale the generator works at: crops cover --size / this many page pixels and are reduced to --size, as colorize --model-scale runs it (stored in the model; colorize uses it by default).")
    var pageScale: Double = 1

    @Option(help: "Units of the generator's global-context branch (the page's pooled features scale and shift every decoder level and bias the a*b* classes; 0 = none). With --init from a model without it, the branch starts as the identity.")
    var globalContext: Int = 0

    @Option(help: "ab-classes: side of the square a*b* bins (the in-gamut ones are kept).")
    var abBinSize: Float = 20

    @Option(help: "ab-classes: annealed-mean temperature (1 = the mean, towards 0 the mode).")
    var temperature: Float = 0.38

    @Option(help: "ab-classes: share of the uniform distribution mixed into the class prior before inverting it (1 = no rebalancing).")
    var rebalance: Float = 0.5

    @Option(help: "ab-classes: weight of the cross-entropy in the generator's objective (L1 then applies to L* only).")
    var classWeight: Float = 1

    @Option(help: "Instance noise std on the discriminator's input at step 0.")
    var noise: Float = 0.1

    @Option(help: "Steps over which the instance noise decays to 0.")
    var noiseDecaySteps: Int = 5000

    @Option(help: "Factor of noise from one discriminator layer to the next.")
    var noiseLayerDecay: Float = 0.5

    @Option(help: "Lower end of the noisy real labels (real targets drawn from [this, 1]).")
    var realLabelMin: Float = 0.7

    @Option(help: "Upper end of the noisy fake labels (fake targets drawn from [0, this]).")
    var fakeLabelMax: Float = 0.3

    @Option(help: "Probability of swapping a discriminator label.")
    var labelFlip: Float = 0.05

    @Option(help: "Training inputs: grey, manga (rendered as ink + screentone with jittered screens, then descreened exactly as colorize descreens a manga page) or mixed (half each).")
    var inputStyle: String = "mixed"

    @Option(help: "Folder of colour pages to validate on (L1, PSNR, colourfulness in the report).")
    var val: String?

    @Option(help: "Write a checkpoint (and the report) every N steps.")
    var checkpointEvery: Int = 100

    @Option(help: "Validate every N steps (needs --val).")
    var validateEvery: Int = 100

    @Option(name: .customLong("init"), help: "Start the generator from this ONNX generator's weights (same architecture): fine-tune a model made elsewhere. With --reference: the model to adapt (default: the default model).")
    var initModel: String?

    @Option(help: "Random seed (weights, pairs, noise, labels). Default: 0 (--data), 3 (--reference).")
    var seed: UInt64?

    /// Bounds what an --init model may declare (the trainer's own tensors are sized by --size and the widths).
    @OptionGroup var memory: MemoryOptions

    func validate() throws {
        guard (data == nil) != (reference == nil) else { throw ValidationError("give exactly one of --data DIR or --reference PAGE") }
        let size = self.size ?? 256
        guard size >= 16 else { throw ValidationError("--size must be at least 16") }
        guard batchSize >= 1, (steps ?? 1) >= 0, checkpointEvery >= 1, validateEvery >= 1 else {
            throw ValidationError("--batch-size, --checkpoint-every and --validate-every must be positive")
        }
        guard ["grey", "gray", "manga", "mixed"].contains(inputStyle) else { throw ValidationError("--input-style must be grey, manga or mixed") }
        guard abBinSize >= 2, temperature > 0, (0...1).contains(rebalance), classWeight >= 0 else {
            throw ValidationError("need --ab-bin-size >= 2, --temperature > 0, --rebalance in [0, 1] and --class-weight >= 0")
        }
        guard (0...4096).contains(globalContext) else { throw ValidationError("--global-context is 0 (off) to 4096 units, not \(globalContext)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must not be negative") }
        if let averageDecay, !(averageDecay > 0 && averageDecay < 1) {
            throw ValidationError("--average-decay is in (0, 1), e.g. 0.999; not \(averageDecay)")
        }
        guard pageScale > 0, pageScale <= 1 else { throw ValidationError("--page-scale is a fraction in (0, 1], not \(pageScale)") }
        guard (1...9).contains(levels) else { throw ValidationError("--levels must be 1 to 9") }
        guard reference != nil || size % (1 << (levels - 1)) == 0 else {
            throw ValidationError("--size \(size) must be a multiple of \(1 << (levels - 1)) for a \(levels)-level U-Net")
        }
    }

    func run() throws {
        memory.apply()
        let collective = try processCollective()
        try collective.failingTogether { try train(collective) }
    }

    /// Under `mpirun -n N` every process runs this: each takes --batch-size pairs of every global batch of
    /// N x --batch-size, rank 0 alone prints, validates and writes the run folder.
    private func train(_ collective: any Collective) throws {
        let pages: [PageSource]
        var config: TrainingConfiguration
        var initPath = initModel
        var initial: (() throws -> Model)? = nil
        if let data {
            let files = try collectPages([data]).map(\.source)
            guard !files.isEmpty else { throw CLIError("\(data) holds no PNG or JPEG pages") }
            let screening = screenTrainingPages(files)
            for (page, reason) in screening.skipped { collective.say("skipped \(page): \(reason)\n") }
            guard !screening.usable.isEmpty else {
                throw CLIError("none of the \(files.count) pages in \(data) can be a colour target (see above)")
            }
            pages = screening.usable.map { .file($0) }
            config = try dataConfiguration(pages: pages, collective: collective)
            // --init is read by rank 0 only, and only for a new run (a resumed one keeps its checkpoint's weights).
            initial = initModel.map { path in
                { () throws -> Model in
                    do { return try Model(contentsOf: path) } catch { throw CLIError("--init \(path): \(error)") }
                }
            }
        } else {
            // One page, decoded once: every pair is a fresh crop of it. The model to adapt gives the generator.
            let page = try readReferencePage(reference!)
            pages = [.image(page)]
            let path = try initModel ?? resolveModel(nil)
            initPath = path
            let model: Model
            do { model = try Model(contentsOf: path) } catch { throw CLIError("--init \(path): \(error)") }
            let generator: GeneratorConfiguration
            do { generator = try GeneratorConfiguration(exportedGenerator: model) } catch {
                throw CLIError("--reference fine-tunes a generator of this package, and \(path) is not one: \(error)")
            }
            config = try adaptationConfiguration(generator: generator, references: [page], options: adaptationOptions)
            initial = { model }
        }
        let totalSteps = config.totalSteps
        let size = config.discriminator.imageSize
        config.beta1 = beta1
        config.beta2 = beta2
        config.learningRateDecayStart = lrDecayStart
        config.generatorWarmupSteps = warmup > 0 ? warmup : nil
        config.generatorAverageDecay = averageDecay
        config.instanceNoise = noise
        config.instanceNoiseDecaySteps = noiseDecaySteps
        config.instanceNoiseLayerDecay = noiseLayerDecay
        config.realLabelRange = realLabelMin...1
        config.fakeLabelRange = 0...fakeLabelMax
        config.labelFlipProbability = labelFlip
        try config.validate()

        var augment = AugmentOptions(size: size)
        augment.input = inputStyle == "manga" ? .manga : inputStyle == "mixed" ? .mixed(mangaShare: 0.5) : .grey
        let validation = try val.map { try collectPages([$0]).map(\.source) } ?? []
        let options = TrainingSessionOptions(pages: pages, validationPages: validation, augment: augment, steps: totalSteps,
                                             batchSize: batchSize, checkpointEvery: checkpointEvery,
                                             validateEvery: validateEvery, validationWidth: size)
        let session = try TrainingSession(folder: out, configuration: config, options: options,
                                          initialGenerator: initial, collective: collective)
        let stored = session.run.trainer.configuration
        if session.run.resumed {
            // The checkpoint's settings win: say which of the given ones are not used.
            for difference in stored.differences(from: config) where collective.isRoot {
                let why = difference.setting == "totalSteps"
                    ? "; the learning-rate schedule keeps the stored value, training still goes on to step \(totalSteps)" : ""
                writeStderr("warning: resuming \(out) with its stored \(difference.setting) \(difference.stored); "
                    + "the given \(difference.given) is ignored\(why)\n")
            }
        }
        if let initPath, !session.run.resumed {
            let fresh = session.run.freshFromInitialGenerator
            collective.say("generator initialised from \(initPath)"
                + (fresh.isEmpty ? "" : " (its output colour differs: \(fresh.joined(separator: ", ")) start fresh)") + "\n")
        } else if let initPath {
            collective.say("warning: --init \(initPath) is ignored: \(out) resumes from its checkpoint\n")
        }
        let g = session.run.trainer.generator.configuration
        // What is used: the stored discriminator and generator when resuming, not the flags.
        let processes = collective.size > 1
            ? ", \(collective.size) processes x \(batchSize) = global batch \(collective.size * batchSize)" : ""
        collective.say("training \(pages.count) page(s), crops \(size)x\(size), generator \(g.parameterCount) parameters "
            + "(\(g.colour.rawValue) output\(g.skips ? "" : ", no skips")), "
            + "\(stored.discriminator.kind) discriminator, learning rate \(stored.generatorLearningRate), to step \(totalSteps)\(processes)\n")
        let bar = ProgressBar(total: totalSteps, label: "train")
        try session.train { event in
            guard collective.isRoot else { return }
            switch event {
            case .resumed(let step):
                bar.resumed(at: step)
                writeStderr("resuming \(out) at step \(step)\n")
            case .step(let m, _):
                let classes = m.crossEntropy.map { String(format: " CE %.3f", $0) } ?? ""
                bar.update(m.step, status: String(format: "G %.3f D %.3f L1 %.4f%@ acc %.2f/%.2f %.2f img/s",
                                                  m.generatorLoss, m.discriminatorLoss, m.l1, classes,
                                                  m.discriminatorRealAccuracy, m.discriminatorFakeAccuracy, m.imagesPerSecond))
            case .validated(let v):
                bar.update(v.step, status: String(format: "val L1 %.4f PSNR %.2f dB colourfulness %.1f (targets %.1f)",
                                                  v.l1, v.psnr, v.colourfulness, v.targetColourfulness), force: true)
            case .checkpointed: break
            }
        }
        guard collective.isRoot else { return }
        bar.finish()
        let report = TrainingReport(folder: out)
        if let warning = report.collapseWarning { writeStderr("warning: \(warning)\n") }
        print("trained to step \(session.run.trainer.completedSteps); checkpoint \(session.run.checkpointURL.path); report \(out)/\(TrainingReport.fileName)")
    }

    /// `--reference`'s recipe from the flags; unset ones take colorize --reference's defaults.
    private var adaptationOptions: AdaptationOptions {
        var o = AdaptationOptions()
        if let steps { o.steps = steps }
        if let size { o.cropSize = size }
        o.learningRate = lr
        if let l1Weight { o.l1Weight = l1Weight }
        if let featureMatching { o.featureMatching = featureMatching }
        o.mangaShare = inputStyle == "manga" ? 1 : inputStyle == "mixed" ? 0.5 : 0
        if let seed { o.seed = seed }
        return o
    }

    /// `--data`'s configuration from the flags (the generator built from --levels, --width-multiplier, --colour).
    private func dataConfiguration(pages: [PageSource], collective: any Collective) throws -> TrainingConfiguration {
        let size = self.size ?? 256
        var config = TrainingConfiguration(imageSize: size, widthMultiplier: widthMultiplier ?? 1,
                                           discriminator: discriminator ?? .seed, seed: seed ?? 0)
        config.generator = .seed(widthMultiplier: widthMultiplier ?? 1, levels: levels)
        config.generator.skips = !noSkips
        config.generator.colour = colour
        config.generator.pageScale = pageScale
        config.generator.globalContext = globalContext
        if colour == .abClasses {
            let bins = inGamutABBins(binSize: abBinSize)
            let sigma = abBinSize / 2
            collective.say("a*b* classes: \(bins.count) in-gamut bins of \(abBinSize); rebalancing weights from the training pages\n")
            // Only rank 0's configuration is used (the others receive its training state): they skip the count.
            let weights = collective.isRoot
                ? rebalancingWeights(pages: try classPriorPages(pages), bins: bins, sigma: sigma, mix: rebalance)
                : [Float](repeating: 1, count: bins.count)
            config.generator.bins = ABBins(centres: bins, temperature: temperature)
            config.classification = ClassificationLoss(binWeights: weights, sigma: sigma, weight: classWeight)
        }
        config.totalSteps = steps ?? 2000
        config.generatorLearningRate = lr
        config.discriminatorLearningRate = lr
        config.l1Weight = l1Weight ?? 100
        config.featureMatchingWeight = featureMatching ?? 0
        return config
    }
}

extension DiscriminatorKind: ExpressibleByArgument {}
extension GeneratorColour: ExpressibleByArgument {}

/// The training pages the a*b* class prior is counted on (unreadable ones were screened out before).
private func classPriorPages(_ pages: [PageSource]) throws -> [Image] {
    try pages.compactMap { source in
        switch source {
        case .file(let path): return try readImage(path: path)
        case .image(let image): return image
        case .synthetic: return nil
        }
    }
}
