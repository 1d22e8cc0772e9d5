import ArgumentParser
import Foundation
import ONNX
import Training

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's trained generator (and discriminator) as standard ONNX.",
        discussion: "The generator takes \"input\" [N, 1, H, W] grey in [-1, 1] and returns \"output\" [N, 3, H, W] colour in [-1, 1] (N, H, W dynamic; H and W multiples of the U-Net's 2^(levels-1)).")

    @Argument(help: "The run folder (mangacolor train --out RUN).")
    var runFolder: String

    @Option(help: "Where to write the generator.")
    var generator: String

    @Option(help: "Where to write the discriminator (optional).")
    var discriminator: String?

    @Option(help: "Record this page scale in the generator (colorize's default --model-scale) instead of the one it was trained at, e.g. for a model measured to do better on reduced pages.")
    var pageScale: Double?

    @Option(help: "a*b*-class generators: write this annealed-mean temperature into the graph instead of the one it was trained with (what colorize --temperature does at run time).")
    var temperature: Double?

    func validate() throws {
        if let pageScale, !(pageScale > 0 && pageScale <= 1) { throw ValidationError("--page-scale is a fraction in (0, 1], not \(pageScale)") }
        if let temperature, !(temperature >= 0.01 && temperature <= 10) {
            throw ValidationError("--temperature is between 0.01 and 10, not \(temperature)")
        }
    }

    func run() throws {
        let trainer = try TrainingRun.load(folder: URL(fileURLWithPath: runFolder))
        var model = trainer.exportGenerator()
        if let pageScale { model.metadata[GeneratorConfiguration.pageScaleMetadataKey] = String(pageScale) }
        if let temperature { try setAnnealedMeanTemperature(temperature, in: &model, source: runFolder) }
        try model.write(to: generator)
        print("wrote \(generator) (generator, step \(trainer.completedSteps)"
            + (pageScale.map { ", page scale \($0)" } ?? "") + (temperature.map { ", temperature \($0)" } ?? "") + ")")
        if let discriminator {
            try trainer.exportDiscriminator().write(to: discriminator)
            print("wrote \(discriminator) (discriminator)")
        }
    }
}
