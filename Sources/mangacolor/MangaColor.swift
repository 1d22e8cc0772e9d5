import ArgumentParser

@main
struct MangaColor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mangacolor",
        abstract: "Colorize black-and-white manga pages with a conditional GAN; train it; run ONNX models on the CPU.",
        subcommands: [ColorizeCommand.self, Run.self, Inspect.self, Conformance.self, Bench.self,
                      Train.self, Export.self, Synth.self, Evaluate.self])
}
