import ArgumentParser
import Colorize
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write procedural manga pages with exact colour ground truth.",
        discussion: "Each page k is written as synth_k_color.png (the truth) and synth_k_manga.png (ink and screentone, the input). Deterministic per --seed. With --from, colour pages are rendered as manga instead, with the screens evaluate --input manga uses: NAME_screenK.png for K = 0, 1, 2.")

    @Option(help: "Output folder (created if missing).")
    var out: String

    @Option(help: "Number of pages (procedural pages; not with --from).")
    var count: Int = 1

    @Option(help: "Render these colour pages (a page or a folder) as black-and-white manga instead of making procedural ones.")
    var from: String?

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
        if let from {
            let jobs = try collectPages([from])
            guard !jobs.isEmpty else { throw CLIError("\(from) holds no pages") }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for job in jobs {
                let page = try readImage(path: job.source)
                let stem = ((job.relativeOutput as NSString).lastPathComponent as NSString).deletingPathExtension
                for (k, style) in evaluationScreens.enumerated() {
                    try writePNG(mangaStyle(page, style: style), path: (out as NSString).appendingPathComponent("\(stem)_screen\(k).png"))
                }
            }
            print("rendered \(jobs.count) page(s) with \(evaluationScreens.count) screens each into \(out)")
            return
        }
        let written = try writeSyntheticPages(folder: out, count: count, width: width, height: height, seed: seed)
        print("wrote \(written.count) page pairs to \(out)")
    }
}
