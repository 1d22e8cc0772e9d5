import ArgumentParser
import Colorize

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write procedural manga pages with exact colour ground truth.",
        discussion: "Each page k is written as synth_k_color.png (the truth) and synth_k_manga.png (ink and screentone, the input). Deterministic per --seed.")

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Number of pages.")
    var count: Int

    @Option(help: "Page width in pixels.")
    var width: Int = 992

    @Option(help: "Page height in pixels.")
    var height: Int = 1401

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard (64...16384).contains(width), (64...16384).contains(height) else {
            throw ValidationError("--width and --height must be between 64 and 16384")
        }
    }

    func run() throws {
        let written = try writeSyntheticPages(folder: out, count: count, width: width, height: height, seed: seed)
        print("wrote \(written.count) page pairs to \(out)")
    }
}
