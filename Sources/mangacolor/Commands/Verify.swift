import ArgumentParser
import Foundation
import ONNX
import Runtime
import Training

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a run's exported graphs: the runtime's forward against the trainer's, on the same inputs.",
        discussion: "Exports the generator and discriminator to ONNX bytes, decodes them, runs them in the runtime and compares with the trainer's own forward pass. Prints the max abs difference; exits non-zero past --tolerance.")

    @Argument(help: "The run folder (mangacolor train --out RUN).")
    var runFolder: String

    @Option(help: "Largest acceptable max abs difference.")
    var tolerance: Double = 1e-5

    @Option(help: "Side of the random test page (default: the discriminator's size, or 64).")
    var size: Int?

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        memory.apply()
        let trainer = try TrainingRun.load(folder: URL(fileURLWithPath: runFolder))
        let check = trainer.verificationCase(size: size)
        // Through the bytes, as a user's file would go.
        let generator = try Plan(model: Model(bytes: trainer.exportGenerator().serialized()))
        let discriminator = try Plan(model: Model(bytes: trainer.exportDiscriminator().serialized()))
        let gDiff = try maxAbsDifference(try generator.run([check.generatorInput])[0], check.generatorOutput)
        let dDiff = try maxAbsDifference(try discriminator.run([check.discriminatorInput])[0], check.discriminatorOutput)
        let shape = check.generatorInput.shape.map(String.init).joined(separator: "x")
        print(String(format: "generator     max abs difference %.3g (input %@)", gDiff, shape))
        print(String(format: "discriminator max abs difference %.3g", dDiff))
        // NOTE: not max(gDiff, dDiff): Swift's max drops a NaN, and a NaN difference must fail.
        let worst = gDiff.isNaN || dDiff.isNaN ? Double.nan : max(gDiff, dDiff)
        guard gDiff <= tolerance && dDiff <= tolerance else {
            print(String(format: "FAIL: %.3g exceeds the tolerance %.1g", worst, tolerance))
            throw ExitCode(1)
        }
        print(String(format: "OK: within %.1g", tolerance))
    }
}
