import ONNX
import Tensor

public enum DiscriminatorKind: String, Codable, Sendable, CaseIterable {
    /// The seed document's: 3x3 convs then fully connected layers; sees the whole (fixed-size) image.
    case seed
    /// A 70x70 PatchGAN (pix2pix): 4x4 convs, one logit per overlapping patch; any image size.
    case patch
}

public struct DiscriminatorConfiguration: Codable, Sendable, Equatable {
    public var kind: DiscriminatorKind
    /// Channels of the stacked input: grey (1) + colour (3).
    public var inputChannels: Int
    /// Seed: input side (the fully connected layers are sized from it); ignored by the PatchGAN.
    public var imageSize: Int
    /// Seed: stride-1 3x3 conv widths, then stride-2 3x3 conv widths, then fully connected widths before the
    /// final logit. PatchGAN: `strided` are the 4x4 stride-2 widths, `plain` the stride-1 ones before the logit.
    public var plain: [Int]
    public var strided: [Int]
    public var fullyConnected: [Int]
    public var negativeSlope: Float

    public init(kind: DiscriminatorKind = .seed, inputChannels: Int = 4, imageSize: Int = 256,
                plain: [Int]? = nil, strided: [Int]? = nil, fullyConnected: [Int]? = nil, negativeSlope: Float = 0.2) {
        self.kind = kind
        self.inputChannels = inputChannels
        self.imageSize = imageSize
        switch kind {
        case .seed:
            self.plain = plain ?? [32, 32, 64, 64]
            self.strided = strided ?? [64, 128, 128, 128, 256, 256]
            self.fullyConnected = fullyConnected ?? [4000, 1000, 250]
        case .patch:
            self.plain = plain ?? [512]
            self.strided = strided ?? [64, 128, 256]
            self.fullyConnected = fullyConnected ?? []
        }
        self.negativeSlope = negativeSlope
    }
}

/// A discriminator of (grey, colour) pairs [N, 4, H, W] -> logits ([N, 1] seed, [N, 1, h, w] PatchGAN).
///
/// It is a list of blocks; before each block a `GaussianNoise` layer adds instance noise whose standard
/// deviation the trainer sets (decaying over steps and through the layers). The outputs of all blocks but
/// the last are the features for feature matching. Trained on logits; exported with a final Sigmoid.
public final class Discriminator: Layer {
    public let configuration: DiscriminatorConfiguration
    let blocks: [Sequential]
    public let noise: [GaussianNoise]

    public init(_ c: DiscriminatorConfiguration, rng: inout RandomGenerator) {
        configuration = c
        let s = c.negativeSlope
        var blocks: [Sequential] = []
        var cin = c.inputChannels
        switch c.kind {
        case .seed:
            var side = c.imageSize
            for (i, w) in c.plain.enumerated() {
                blocks.append(convBlock("d\(blocks.count)", cin, w, slope: s, affine: true, norm: i > 0, rng: &rng)); cin = w
            }
            for w in c.strided {
                side = (side + 1) / 2
                // NOTE: no InstanceNorm on maps smaller than 4x4: over a 1x1 map it outputs the constant
                // beta whatever the input (a 64-pixel crop reaches 1x1 after six halvings), which silences D.
                blocks.append(convBlock("d\(blocks.count)", cin, w, slope: s, affine: true, stride: 2,
                                        norm: blocks.count > 0 && side >= 4, rng: &rng))
                cin = w
            }
            var features = cin * side * side
            var first = true
            for w in c.fullyConnected {
                var layers: [any Layer] = first ? [Flatten()] : []
                layers += [Linear(name: "fc\(blocks.count)", inFeatures: features, outFeatures: w, negativeSlope: s, rng: &rng),
                           LeakyReLU(negativeSlope: s)]
                blocks.append(Sequential(layers)); features = w; first = false
            }
            blocks.append(Sequential((first ? [Flatten()] : []) +
                                     [Linear(name: "logit", inFeatures: features, outFeatures: 1, negativeSlope: 1, rng: &rng)]))
        case .patch:
            for (i, w) in c.strided.enumerated() {
                blocks.append(Sequential([Conv2d(name: "d\(i).conv", inChannels: cin, outChannels: w, kernelSize: 4, stride: 2, padding: 1,
                                                 negativeSlope: s, rng: &rng)]
                                         + (i > 0 ? [InstanceNorm2d(name: "d\(i).norm", channels: w)] : [])
                                         + [LeakyReLU(negativeSlope: s)]))
                cin = w
            }
            for w in c.plain {
                let i = blocks.count
                blocks.append(Sequential([Conv2d(name: "d\(i).conv", inChannels: cin, outChannels: w, kernelSize: 4, stride: 1, padding: 1,
                                                 negativeSlope: s, rng: &rng),
                                          InstanceNorm2d(name: "d\(i).norm", channels: w), LeakyReLU(negativeSlope: s)]))
                cin = w
            }
            blocks.append(Sequential([Conv2d(name: "logit", inChannels: cin, outChannels: 1, kernelSize: 4, stride: 1, padding: 1,
                                             negativeSlope: 1, rng: &rng)]))
        }
        self.blocks = blocks
        noise = blocks.map { _ in GaussianNoise() }
    }

    /// Side of the logit map for an input side (seed: 1, the fully connected head).
    public static func outputSide(_ c: DiscriminatorConfiguration, input side: Int) -> Int {
        guard c.kind == .patch else { return 1 }
        var s = side
        for _ in c.strided { s = ConvGeometry.convOut(s, 4, 2, 1) }
        for _ in 0...c.plain.count { s = ConvGeometry.convOut(s, 4, 1, 1) }
        return s
    }

    /// Sets instance noise: block l gets `std * layerDecay^l`.
    public func setNoise(std: Float, layerDecay: Float) {
        var s = std
        for n in noise { n.standardDeviation = s; s *= layerDecay }
    }

    /// Logits of the pairs `x` [N, 4, H, W]; `features` receives every block output but the last.
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext, features: inout [Variable]) -> Variable {
        var h = x
        for (i, block) in blocks.enumerated() {
            h = block(noise[i](h, ctx), ctx)
            if i < blocks.count - 1 { features.append(h) }
        }
        return h
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var f: [Variable] = []
        return self(x, ctx, features: &f)
    }

    public var parameters: [Variable] { blocks.flatMap(\.parameters) }
    /// Non-trained state (batch-norm running statistics), saved in checkpoints.
    public var buffers: [Variable] { blocks.flatMap(\.buffers) }

    /// Probability that each pair is real (Sigmoid of the logits), eval mode.
    public func infer(_ x: Tensor) -> Tensor { sigmoidForward(self(Variable(x), ForwardContext()).value) }

    /// The logits' inference-mode nodes from `input` (instance noise is training-only: its export is nothing).
    public func export(_ builder: inout GraphBuilder, _ input: String) -> String {
        blocks.indices.reduce(input) { h, i in blocks[i].export(&builder, noise[i].export(&builder, h)) }
    }

    /// ONNX graph: "input" [N, 4, H, W] -> "output" probabilities (Sigmoid of the logits).
    public func exportModel() -> Model {
        var b = GraphBuilder(name: "mangacolor_discriminator")
        let h = b.node("Sigmoid", [export(&b, "input")], name: "probability")
        b.rename(h, to: "output")
        let side: Dimension = configuration.kind == .seed ? .fixed(configuration.imageSize) : .symbol("H")
        let sideW: Dimension = configuration.kind == .seed ? .fixed(configuration.imageSize) : .symbol("W")
        b.setInputs([ValueInfo(name: "input", dtype: .float32, shape: [.symbol("N"), .fixed(configuration.inputChannels), side, sideW])])
        let outputShape: [Dimension] = configuration.kind == .seed ? [.symbol("N"), .fixed(1)]
            : [.symbol("N"), .fixed(1), .symbol("OH"), .symbol("OW")]
        b.setOutputs([ValueInfo(name: "output", dtype: .float32, shape: outputShape)])
        return b.model(metadata: ["mangacolor.role": "discriminator", "mangacolor.kind": configuration.kind.rawValue])
    }
}
