import ONNX
import Tensor

/// Shape of the seed U-Net: conv widths per resolution level (level i at 1/2^i), every conv 3x3 pad 1
/// followed by InstanceNorm and LeakyReLU; 2x2 max-pool between levels.
public struct GeneratorConfiguration: Codable, Sendable, Equatable {
    public var levels: [[Int]]
    public var inputChannels: Int
    public var outputChannels: Int
    public var negativeSlope: Float
    /// Dropout after each decoder level's up-convolution when training (0: none).
    public var dropout: Float
    /// Affine InstanceNorm (learned scale and shift).
    public var affineNorm: Bool
    /// U-Net skip connections (false: the plain encoder-decoder pix2pix compares against).
    public var skips: Bool
    /// What the output channels hold (`GeneratorColour`).
    public var colour: GeneratorColour
    /// The a*b* bins of an `abClasses` generator (nil otherwise).
    public var bins: ABBins?
    /// The page scale the generator is trained for and run at (its input is the page shrunk by this; 1: the
    /// page as it is). Exported as metadata `mangacolor.page_scale`, which colorize uses by default.
    public var pageScale: Double
    /// Units of the global-context branch (`GlobalContext`; 0: none, as before it existed).
    public var globalContext: Int

    /// The exported generator's metadata key holding `pageScale` (absent: 1, as before it existed).
    public static let pageScaleMetadataKey = "mangacolor.page_scale"

    /// The seed document's generator: 16,32,32 | 64,64 | 128,128 | 256,256 | 512,512 | 512 | 512.
    public static let seedLevels: [[Int]] = [[16, 32, 32], [64, 64], [128, 128], [256, 256], [512, 512], [512], [512]]

    public init(levels: [[Int]] = GeneratorConfiguration.seedLevels, inputChannels: Int = 1, outputChannels: Int = 3,
                negativeSlope: Float = 0.2, dropout: Float = 0, affineNorm: Bool = true, skips: Bool = true,
                colour: GeneratorColour = .rgb, bins: ABBins? = nil, pageScale: Double = 1,
                globalContext: Int = 0) {
        self.levels = levels
        self.globalContext = globalContext
        self.pageScale = pageScale
        self.skips = skips
        self.colour = colour
        self.bins = bins
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.negativeSlope = negativeSlope
        self.dropout = dropout
        self.affineNorm = affineNorm
    }

    private enum CodingKeys: String, CodingKey {
        case levels, inputChannels, outputChannels, negativeSlope, dropout, affineNorm, skips, colour, bins, pageScale, globalContext
    }

    /// Checkpoints from before `skips`, `colour`, `bins`, `pageScale` and `globalContext` existed decode as the
    /// U-Net with RGB output at page scale 1 without the global-context branch.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(levels: try c.decode([[Int]].self, forKey: .levels), inputChannels: try c.decode(Int.self, forKey: .inputChannels),
                  outputChannels: try c.decode(Int.self, forKey: .outputChannels),
                  negativeSlope: try c.decode(Float.self, forKey: .negativeSlope), dropout: try c.decode(Float.self, forKey: .dropout),
                  affineNorm: try c.decode(Bool.self, forKey: .affineNorm),
                  skips: try c.decodeIfPresent(Bool.self, forKey: .skips) ?? true,
                  colour: try c.decodeIfPresent(GeneratorColour.self, forKey: .colour) ?? .rgb,
                  bins: try c.decodeIfPresent(ABBins.self, forKey: .bins),
                  pageScale: try c.decodeIfPresent(Double.self, forKey: .pageScale) ?? 1,
                  globalContext: try c.decodeIfPresent(Int.self, forKey: .globalContext) ?? 0)
    }

    /// The seed widths scaled by `multiplier` (at least 1 channel each), optionally with fewer levels.
    public static func seed(widthMultiplier: Double = 1, levels: Int = 7) -> GeneratorConfiguration {
        GeneratorConfiguration(levels: seedLevels.prefix(levels).map { $0.map { max(1, Int((Double($0) * widthMultiplier).rounded())) } })
    }

    /// Number of trained parameters of the U-Net built from this configuration (without building it).
    public var parameterCount: Int {
        let norm = affineNorm ? 2 : 0
        func conv(_ cin: Int, _ cout: Int) -> Int { cin * cout * 9 + cout + norm * cout }
        var total = 0, cin = inputChannels
        for widths in levels { for w in widths { total += conv(cin, w); cin = w } }
        var below = levels.last!.last!
        for i in stride(from: levels.count - 2, through: 0, by: -1) {
            let skip = levels[i].last!
            total += conv(below, skip)
            var c = skips ? 2 * skip : skip
            for w in levels[i].reversed() { total += conv(c, w); c = w }
            below = c
        }
        if globalContext > 0 {
            let k = globalContext
            total += (levels.last!.last! + 1) * k + upWidths.reduce(0) { $0 + 2 * (k + 1) * $1 }
            if colour == .abClasses, let bins { total += (k + 1) * bins.count }
        }
        if colour == .abClasses, let bins { return total + (below * 9 + 1) * (1 + bins.count) }
        return total + below * outputChannels * 9 + outputChannels
    }

    /// Output channels of each level's up-convolution (level i's last width), for every level but the deepest.
    var upWidths: [Int] { levels.dropLast().map { $0.last! } }

    /// Output channels of the last convolution: 1 (L*) beside the class head for `abClasses`, else all.
    var headChannels: Int { colour == .abClasses ? 1 : outputChannels }

    /// Input sides must be multiples of this (one halving per level below the first).
    public var sizeMultiple: Int { 1 << (levels.count - 1) }
}

/// Conv 3x3 -> InstanceNorm -> LeakyReLU, named `name.conv`, `name.norm`.
func convBlock(_ name: String, _ cin: Int, _ cout: Int, slope: Float, affine: Bool, stride: Int = 1, norm: Bool = true,
               rng: inout RandomGenerator) -> Sequential {
    var layers: [any Layer] = [Conv2d(name: "\(name).conv", inChannels: cin, outChannels: cout, stride: stride,
                                      negativeSlope: slope, rng: &rng)]
    if norm { layers.append(InstanceNorm2d(name: "\(name).norm", channels: cout, affine: affine)) }
    layers.append(LeakyReLU(negativeSlope: slope))
    return Sequential(layers)
}

/// The seed U-Net generator: grey [N, 1, H, W] in [-1, 1] -> colour [N, 3, H, W] in (-1, 1).
///
/// Encoder level i: its convs, then (below the last level) max-pool 2x2. Decoder, for each level i from the
/// second deepest up: ConvTranspose 3x3 s2 p1 op1 to level i's width, InstanceNorm, LeakyReLU, concat with
/// the encoder output of level i, then level i's widths in reverse; at full resolution a 3x3 conv to the
/// output channels and Tanh.
public final class UNetGenerator: Layer {
    public let configuration: GeneratorConfiguration
    let encoders: [Sequential]
    let ups: [Sequential]      // ups[i]: level i+1 -> level i
    let dropouts: [Dropout]
    let decoders: [Sequential] // decoders[i]: at level i, after the concat
    let output: Conv2d
    /// The a*b* class logits (`abClasses` only).
    let classes: Conv2d?
    /// The global-context branch (`globalContext > 0`).
    let context: GlobalContext?
    let pool = MaxPool2d(kernelSize: 2)
    let tanh = Tanh()

    public init(_ config: GeneratorConfiguration, rng: inout RandomGenerator) {
        configuration = config
        let s = config.negativeSlope, a = config.affineNorm
        var enc: [Sequential] = []
        var cin = config.inputChannels
        for (i, widths) in config.levels.enumerated() {
            var blocks: [any Layer] = []
            for (j, w) in widths.enumerated() {
                blocks.append(convBlock("enc\(i).\(j)", cin, w, slope: s, affine: a, rng: &rng))
                cin = w
            }
            enc.append(Sequential(blocks))
        }
        encoders = enc
        var ups: [Sequential] = [], decs: [Sequential] = []
        var below = config.levels.last!.last!
        // Built deepest first so initialisation order follows the forward pass.
        var upsRev: [Sequential] = [], decsRev: [Sequential] = []
        for i in stride(from: config.levels.count - 2, through: 0, by: -1) {
            let skip = config.levels[i].last!
            upsRev.append(Sequential([
                ConvTranspose2d(name: "up\(i).conv", inChannels: below, outChannels: skip, negativeSlope: s, rng: &rng),
                InstanceNorm2d(name: "up\(i).norm", channels: skip, affine: a), LeakyReLU(negativeSlope: s),
            ]))
            var blocks: [any Layer] = []
            var c = config.skips ? 2 * skip : skip
            for (j, w) in config.levels[i].reversed().enumerated() {
                blocks.append(convBlock("dec\(i).\(j)", c, w, slope: s, affine: a, rng: &rng))
                c = w
            }
            decsRev.append(Sequential(blocks))
            below = c
        }
        ups = upsRev.reversed(); decs = decsRev.reversed()
        self.ups = ups
        self.decoders = decs
        dropouts = ups.map { _ in Dropout(probability: config.dropout) }
        output = Conv2d(name: "out", inChannels: below, outChannels: config.headChannels, negativeSlope: 1, rng: &rng)
        classes = config.colour == .abClasses
            ? Conv2d(name: "classes", inChannels: below, outChannels: config.bins?.count ?? 2, negativeSlope: 1, rng: &rng) : nil
        // Made last, so a generator with the branch draws the same weights as one without for the rest.
        context = config.globalContext > 0
            ? GlobalContext(width: config.globalContext, bottleneck: config.levels.last!.last!,
                            levelWidths: config.upWidths,
                            classes: config.colour == .abClasses ? config.bins?.count ?? 2 : nil, slope: s, rng: &rng)
            : nil
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { forward(x, ctx).output }

    /// The output and, for `abClasses`, the class logits [N, Q, H, W] it was decoded from.
    public func forward(_ x: Variable, _ ctx: ForwardContext) -> (output: Variable, logits: Variable?) {
        var tape = TapeWalk(ctx: ctx)
        return walk(&tape, x)
    }

    /// The U-Net's wiring, written once: the forward pass walks it on the tape, the export into ONNX nodes.
    /// Encoder levels with max-pools between; from the second deepest level up, the up-convolution (and
    /// dropout), the concatenation with the encoder's output of that level, the level's decoder; the heads.
    /// With the global-context branch: its vector from the deepest level, each up-convolution modulated by it
    /// between its norm and its activation, the class logits shifted by it.
    func walk<W: UNetWalker>(_ w: inout W, _ x: W.Value) -> (output: W.Value, logits: W.Value?) {
        var skips: [W.Value] = []
        var h = x
        for (i, e) in encoders.enumerated() {
            if i > 0 { h = w.apply(pool, h) }
            h = w.apply(e, h)
            skips.append(h)
        }
        let global = context.map { c in w.apply(c.activation, w.apply(c.encode, w.spatialMean(h))) }
        for i in stride(from: encoders.count - 2, through: 0, by: -1) {
            if let context, let global {
                let up = ups[i].layers  // ConvTranspose, InstanceNorm, LeakyReLU
                h = w.apply(up[1], w.apply(up[0], h))
                h = w.modulate(h, scale: w.apply(context.scales[i], global), shift: w.apply(context.shifts[i], global))
                h = w.apply(up[2], h)
            } else {
                h = w.apply(ups[i], h)
            }
            h = w.apply(dropouts[i], h)
            if configuration.skips { h = w.concat([h, skips[i]], name: "concat\(i)") }
            h = w.apply(decoders[i], h)
        }
        let head = w.apply(tanh, w.apply(output, h))
        guard let classes, let bins = configuration.bins else { return (head, nil) }
        var logits = w.apply(classes, h)
        if let bias = context?.logitBias, let global { logits = w.modulate(logits, scale: nil, shift: w.apply(bias, global)) }
        return (w.concat([head, w.annealedMean(logits, bins: bins)], name: "lab"), logits)
    }

    /// Inference on a plain tensor [N, 1, H, W] -> [N, 3, H, W] (no tape, eval mode).
    public func infer(_ x: Tensor) -> Tensor { self(Variable(x), ForwardContext()).value }

    /// Trainable parameters in the order the walk meets their layers (checkpoints and Adam state follow it).
    public var parameters: [Variable] {
        var collect = LayerWalk()
        _ = walk(&collect, ())
        return collect.layers.flatMap(\.parameters)
    }

    /// Non-trained state (batch-norm running statistics; none in the seed U-Net), saved in checkpoints.
    public var buffers: [Variable] {
        var collect = LayerWalk()
        _ = walk(&collect, ())
        return collect.layers.flatMap(\.buffers)
    }

    /// The inference-mode nodes of the whole generator from `input`, by the same walk as the forward pass.
    public func export(_ builder: inout GraphBuilder, _ input: String) -> String {
        var onnx = ExportWalk(builder: builder)
        let out = walk(&onnx, input).output
        builder = onnx.builder
        return out
    }

    /// ONNX graph: input "input" [N, C, H, W] -> output "output" [N, 3, H, W] (N, H, W symbolic).
    public func exportModel() -> Model {
        var b = GraphBuilder(name: "mangacolor_generator")
        b.rename(export(&b, "input"), to: "output")
        b.setInputs([ValueInfo(name: "input", dtype: .float32, shape: [.symbol("N"), .fixed(configuration.inputChannels), .symbol("H"), .symbol("W")])])
        b.setOutputs([ValueInfo(name: "output", dtype: .float32, shape: [.symbol("N"), .fixed(configuration.outputChannels), .symbol("H"), .symbol("W")])])
        return b.model(metadata: ["mangacolor.role": "generator", "mangacolor.levels": configuration.levels.map { $0.map(String.init).joined(separator: ",") }.joined(separator: "|"),
                                  "mangacolor.size_multiple": String(configuration.sizeMultiple),
                                  GeneratorColour.metadataKey: configuration.colour.rawValue,
                                  "mangacolor.skips": String(configuration.skips),
                                  GeneratorConfiguration.pageScaleMetadataKey: String(configuration.pageScale)])
    }
}

/// What walking the U-Net's wiring (`UNetGenerator.walk`) does at each step.
protocol UNetWalker {
    associatedtype Value
    mutating func apply(_ layer: any Layer, _ x: Value) -> Value
    /// Channel concatenation (the skips; the L* and a*b* heads).
    mutating func concat(_ parts: [Value], name: String) -> Value
    /// softmax(logits / T) over the channels, then its mean onto the bin centres.
    mutating func annealedMean(_ logits: Value, bins: ABBins) -> Value
    /// [N, C, H, W] -> [N, C]: each channel's mean over its plane.
    mutating func spatialMean(_ x: Value) -> Value
    /// x * (1 + scale) + shift, per image and channel.
    mutating func modulate(_ x: Value, scale: Value?, shift: Value?) -> Value
}

/// The forward pass, recorded on the tape.
struct TapeWalk: UNetWalker {
    let ctx: ForwardContext
    func apply(_ layer: any Layer, _ x: Variable) -> Variable { layer(x, ctx) }
    func concat(_ parts: [Variable], name: String) -> Variable { ctx.tape.concatChannels(parts) }
    func annealedMean(_ logits: Variable, bins: ABBins) -> Variable {
        ctx.tape.annealedMean(logits, weight: bins.decodingWeight, temperature: bins.temperature)
    }
    func spatialMean(_ x: Variable) -> Variable { ctx.tape.spatialMean(x) }
    func modulate(_ x: Variable, scale: Variable?, shift: Variable?) -> Variable { ctx.tape.modulate(x, scale: scale, shift: shift) }
}

/// The layers in the order the walk meets them.
struct LayerWalk: UNetWalker {
    var layers: [any Layer] = []
    mutating func apply(_ layer: any Layer, _ x: Void) { layers.append(layer) }
    func concat(_ parts: [Void], name: String) {}
    func annealedMean(_ logits: Void, bins: ABBins) {}
    func spatialMean(_ x: Void) {}
    func modulate(_ x: Void, scale: Void?, shift: Void?) {}
}

/// The export: each layer appends its inference-mode nodes.
struct ExportWalk: UNetWalker {
    var builder: GraphBuilder
    mutating func apply(_ layer: any Layer, _ x: String) -> String { layer.export(&builder, x) }
    mutating func concat(_ parts: [String], name: String) -> String {
        builder.node("Concat", parts, ["axis": .int(1)], name: name)
    }
    /// A Mul by 1 / T, a Softmax over the channels and the mean as a 1x1 convolution onto the bin centres.
    mutating func annealedMean(_ logits: String, bins: ABBins) -> String {
        let inverse = builder.constant("classes.inverse_temperature", Tensor(shape: [], floats: [1 / bins.temperature]))
        let scaled = builder.node("Mul", [logits, inverse])
        let probabilities = builder.node("Softmax", [scaled], ["axis": .int(1)], name: "classes.softmax")
        return builder.node("Conv", [probabilities, builder.constant("classes.decoding", bins.decodingWeight)],
                            ["kernel_shape": .ints([1, 1])], name: "classes.mean")
    }
    mutating func spatialMean(_ x: String) -> String { builder.spatialMean(x) }
    mutating func modulate(_ x: String, scale: String?, shift: String?) -> String {
        builder.modulate(x, scale: scale, shift: shift)
    }
}

