import ONNX
import Tensor

/// The U-Net's global-context branch (`train --global-context K`): the deepest encoder level's features
/// averaged over the whole input, a fully connected layer of K units with LeakyReLU, and from that vector a
/// per-channel scale and shift for every decoder level's up-convolution (after its InstanceNorm, before its
/// LeakyReLU: FiLM, Perez et al. 2018) and, for an a*b*-class head, a bias on the class logits.
///
/// Why: every convolution is followed by InstanceNorm, which removes each channel's page-wide mean and
/// spread, so the network cannot tell a night page from a day page beyond its receptive field; a constant
/// added before a norm is removed by it, hence the scale and shift after it (Iizuka et al. 2016 fuse global
/// features the same way for colourisation). The output layers start at zero, so a branch added to a trained
/// generator (`--init`) starts as exactly that generator.
public final class GlobalContext {
    let encode: Linear
    let activation: LeakyReLU
    /// Per decoder level i (level i's width): `1 + scale` multiplies, `shift` adds.
    let scales: [Linear], shifts: [Linear]
    /// The a*b* class logits' bias (a*b*-class generators only).
    let logitBias: Linear?

    init(width: Int, bottleneck: Int, levelWidths: [Int], classes: Int?, slope: Float, rng: inout RandomGenerator) {
        encode = Linear(name: "context.encode", inFeatures: bottleneck, outFeatures: width, negativeSlope: slope, rng: &rng)
        activation = LeakyReLU(negativeSlope: slope)
        func zero(_ name: String, _ out: Int) -> Linear {
            let layer = Linear(name: name, inFeatures: width, outFeatures: out, rng: &rng)
            layer.weight.value.floats.update(repeating: 0)
            return layer
        }
        scales = levelWidths.enumerated().map { zero("context.scale\($0.offset)", $0.element) }
        shifts = levelWidths.enumerated().map { zero("context.shift\($0.offset)", $0.element) }
        logitBias = classes.map { zero("context.classes", $0) }
    }

    /// The branch's parameter-name prefix (an `--init` model without the branch leaves these fresh).
    static let prefix = "context."
    /// The initializer whose presence (and first dimension, the width) says an exported generator has the branch.
    static let encodeWeightName = "context.encode.weight"
}

/// The exported form of `Tape.spatialMean` and `Tape.modulate`.
extension GraphBuilder {
    /// [N, C, H, W] -> [N, C]: GlobalAveragePool, Flatten.
    mutating func spatialMean(_ x: String) -> String {
        node("Flatten", [node("GlobalAveragePool", [x])], ["axis": .int(1)])
    }

    /// x * (1 + scale) + shift with [N, C] vectors reshaped to [N, C, 1, 1].
    mutating func modulate(_ x: String, scale: String?, shift: String?) -> String {
        let planes = constant("context.planes", Tensor(shape: [4], scalars: [Int64(0), -1, 1, 1]))
        var y = x
        if let scale {
            let one = constant("context.one", Tensor(shape: [], floats: [1]))
            y = node("Mul", [y, node("Add", [node("Reshape", [scale, planes]), one])])
        }
        if let shift { y = node("Add", [y, node("Reshape", [shift, planes])]) }
        return y
    }
}
