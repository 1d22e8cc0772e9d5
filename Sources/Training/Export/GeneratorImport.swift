import ONNX
import Tensor

extension GeneratorConfiguration {
    /// The configuration of a generator exported by this trainer, read from its initializers
    /// (`enc{i}.{j}.conv.weight` give the level widths, `out.weight` the output channels,
    /// `context.encode.weight` the global-context branch's width) and its
    /// LeakyRelu slope. Lets `train --init G.onnx` build the matching U-Net before loading the weights.
    public init(exportedGenerator model: Model) throws {
        let inits = model.graph.initializers
        var levels: [[Int]] = []
        while inits["enc\(levels.count).0.conv.weight"] != nil {
            var widths: [Int] = []
            while let w = inits["enc\(levels.count).\(widths.count).conv.weight"] {
                guard w.rank == 4 else { throw TrainingError.weights("enc\(levels.count).\(widths.count).conv.weight is \(w.shape), expected 4-D") }
                widths.append(w.shape[0])
            }
            levels.append(widths)
        }
        guard let first = inits["enc0.0.conv.weight"], let out = inits["out.weight"], out.rank == 4 else {
            throw TrainingError.weights("the model has no enc0.0.conv.weight / out.weight initializers: it is not a generator exported by mangacolor")
        }
        let slope = try model.graph.nodes.first { $0.opType == "LeakyRelu" }.map { try $0.float("alpha", default: 0.01) } ?? 0.2
        let colour = try GeneratorColour(exportedMetadata: model.metadata)
        var bins: ABBins? = nil
        if colour == .abClasses {
            guard let decoding = inits["classes.decoding"], decoding.rank == 4, decoding.shape[0] == 2,
                  let inverse = inits["classes.inverse_temperature"], inverse.count == 1 else {
                throw TrainingError.weights("the a*b* class generator has no classes.decoding [2, Q, 1, 1] / classes.inverse_temperature initializers")
            }
            let q = decoding.shape[1], w = decoding.floats
            bins = ABBins(centres: (0..<q).map { [w[$0] * LabScale.chroma, w[q + $0] * LabScale.chroma] },
                          temperature: 1 / inverse.floats[0])
        }
        self.init(levels: levels, inputChannels: first.shape[1], outputChannels: colour == .abClasses ? 3 : out.shape[0],
                  negativeSlope: slope, affineNorm: inits["enc0.0.norm.weight"] != nil,
                  skips: model.metadata["mangacolor.skips"] != "false", colour: colour, bins: bins,
                  pageScale: try Self.pageScale(exportedMetadata: model.metadata),
                  globalContext: inits[GlobalContext.encodeWeightName].map { $0.rank == 2 ? $0.shape[0] : 0 } ?? 0)
    }

    /// The page scale an exported generator was trained for (`mangacolor.page_scale`; absent: 1).
    public static func pageScale(exportedMetadata metadata: [String: String]) throws -> Double {
        guard let raw = metadata[pageScaleMetadataKey] else { return 1 }
        guard let scale = Double(raw), scale > 0, scale <= 1 else {
            throw TrainingError.weights("the model's \(pageScaleMetadataKey) is \"\(raw)\"; it must be a number in (0, 1]")
        }
        return scale
    }
}
