import ArgumentParser
import Colorize
import Runtime
import Training

/// `--model-scale`, shared by colorize and evaluate: the generator sees the page shrunk by this factor and its
/// colour is brought back to full size guided by the page (Colorize/ReducedScale.swift). Without it, the scale
/// the model was trained for (`train --page-scale`, in its metadata; 1 for models from elsewhere).
struct ModelScaleOptions: ParsableArguments {
    @Option(help: "Run the model on the page shrunk to this fraction of its side, 0 < s <= 1 (default: the scale the model was trained for, from its metadata, else 1). Colour comes back to full size by a guided filter on the page's lightness; 0.5 is about 4x less model work.")
    var modelScale: Double?

    func validate() throws {
        if let modelScale, !(modelScale > 0 && modelScale <= 1) {
            throw ValidationError("--model-scale is a fraction in (0, 1], not \(modelScale)")
        }
    }

    func apply(to options: inout ColorizeOptions, plan: Plan) throws {
        options.reducedScale.scale = try modelScale ?? GeneratorConfiguration.pageScale(exportedMetadata: plan.model.metadata)
    }
}
