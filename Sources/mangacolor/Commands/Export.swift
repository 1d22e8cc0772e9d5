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

    func run() throws {
        let trainer = try TrainingRun.load(folder: URL(fileURLWithPath: runFolder))
        try trainer.exportGenerator().write(to: generator)
        print("wrote \(generator) (generator, step \(trainer.completedSteps))")
        if let discriminator {
            try trainer.exportDiscriminator().write(to: discriminator)
            print("wrote \(discriminator) (discriminator)")
        }
    }
}
