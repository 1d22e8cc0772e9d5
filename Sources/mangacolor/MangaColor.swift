import ArgumentParser
import Tensor

@main
struct MangaColor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mangacolor",
        abstract: "Colorize black-and-white manga pages with a conditional GAN; train it; run ONNX models on the CPU.",
        subcommands: [ColorizeCommand.self, Run.self, Inspect.self, Conformance.self, Bench.self,
                      Train.self, Export.self, Verify.self, Synth.self, Evaluate.self])

    static func main() {
        // Large activations are freed and reallocated every layer; keeping freed memory in the process
        // avoids faulting each one in again (Sources/Tensor/AllocatorTuning.swift).
        AllocatorTuning.keepFreedMemoryForReuse()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
