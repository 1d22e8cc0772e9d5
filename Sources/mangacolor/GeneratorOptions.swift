import ArgumentParser
import Colorize
import ONNX
import Runtime
import Tensor
import Training

/// How colorize and evaluate run the generator: `--model-scale` (the generator sees the page shrunk by this
/// factor and its colour is brought back to full size guided by the page, Colorize/ReducedScale.swift; without
/// it, the scale the model was trained for, from its metadata; 1 for models from elsewhere) and `--temperature`
/// (an a*b*-class model's annealed-mean temperature, set in the graph before planning).
struct GeneratorOptions: ParsableArguments {
    @Option(help: "Run the model on the page shrunk to this fraction of its side, 0 < s <= 1 (default: the scale the model was trained for, from its metadata, else 1). Colour comes back to full size by a guided filter on the page's lightness; 0.5 is about 4x less model work.")
    var modelScale: Double?

    @Option(help: "a*b*-class models: the annealed-mean temperature (default: the model's own, 0.38 for the default model). Lower is more vivid and less sure (0.25: colourfulness 56 vs 45 on the held-out pages, CIEDE2000 0.2 worse); 1 is the plain mean.")
    var temperature: Double?

    func validate() throws {
        if let modelScale, !(modelScale > 0 && modelScale <= 1) {
            throw ValidationError("--model-scale is a fraction in (0, 1], not \(modelScale)")
        }
        if let temperature, !(temperature >= 0.01 && temperature <= 10) {
            throw ValidationError("--temperature is between 0.01 and 10, not \(temperature)")
        }
    }

    /// The generator's plan, with `--temperature` set in its graph; operator warnings printed.
    func loadGenerator(_ path: String) throws -> Plan {
        try loadPlan(path) { model in
            guard let temperature else { return }
            try setAnnealedMeanTemperature(temperature, in: &model, source: path)
        }
    }

    func apply(to options: inout ColorizeOptions, plan: Plan) throws {
        options.reducedScale.scale = try modelScale ?? GeneratorConfiguration.pageScale(exportedMetadata: plan.model.metadata)
    }
}

/// Writes an a*b*-class generator's annealed-mean temperature into its graph (the initializer the exporter names
/// `classes.inverse_temperature`): colorize/evaluate `--temperature` and `export --temperature`.
func setAnnealedMeanTemperature(_ temperature: Double, in model: inout Model, source: String) throws {
    let key = "classes.inverse_temperature"
    guard let current = model.graph.initializers[key], current.dtype == .float32, current.count == 1 else {
        throw CLIError("--temperature needs an a*b*-class generator of this package; \(source) has no \(key)")
    }
    model.graph.initializers[key] = Tensor(shape: current.shape, floats: [Float(1 / temperature)])
}

