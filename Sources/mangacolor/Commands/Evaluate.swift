import ArgumentParser
import Colorize
import Foundation
import Runtime
import Tensor

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a generator on held-out colour pages: PSNR, SSIM, CIEDE2000, colourfulness.",
        discussion: "Each colour page is turned grey, colorized, and compared with the original. The grey input itself is scored as a baseline so the numbers mean something. Prints a table; --json writes the numbers.")

    @Option(help: "Generator ONNX model (default: models/\(defaultModelName)).")
    var model: String?

    @Option(help: "Folder of colour pages (searched recursively), or one page.")
    var data: String

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Resize pages to this width first (0 = full size).")
    var width: Int = 0

    @Option(help: "Also write the colorized pages to this folder.")
    var saveOutputs: String?

    @Flag(inversion: .prefixedNo, help: "Keep the page's lightness and take colour from the model, as colorize does by default (--no-keep-lines scores the raw generator output).")
    var keepLines = true

    @Flag(help: "Evaluate with --flat segment colour correction, as colorize would.")
    var flat = false

    func run() throws {
        let modelPath = try resolveModel(model)
        let plan = try Plan(contentsOf: modelPath)
        var options = ColorizeOptions(keepLines: keepLines, flat: flat)
        if let shape = plan.inputs.first?.shape, shape.count == 4, case .fixed(let c) = shape[1] { options.inputChannels = c }
        let jobs = try collectPages([data])
        guard !jobs.isEmpty else { throw CLIError("\(data) holds no pages") }
        var rows: [(String, QualityReport, QualityReport)] = []
        let bar = ProgressBar(total: jobs.count, label: "evaluate")
        for (i, job) in jobs.enumerated() {
            var page = try readImage(path: job.source).rgb()
            if width > 0 && page.width != width {
                page = page.resized(width: width, height: max(1, Int((Double(page.height) * Double(width) / Double(page.width)).rounded())))
            }
            let (report, output) = try evaluateColorizer(on: page, options: options, generator: { try plan.run([$0])[0] })
            let baseline = try Colorize.evaluate(generated: page.luminance().rgb(), reference: page)
            rows.append(((job.source as NSString).lastPathComponent, report, baseline))
            if let saveOutputs {
                try FileManager.default.createDirectory(atPath: saveOutputs, withIntermediateDirectories: true)
                try writePNG(output, path: (saveOutputs as NSString).appendingPathComponent(job.relativeOutput))
            }
            bar.update(i + 1, status: "")
        }
        bar.finish()
        func mean(_ f: (QualityReport) -> Double, _ pick: ((String, QualityReport, QualityReport)) -> QualityReport) -> Double {
            rows.map { f(pick($0)) }.reduce(0, +) / Double(rows.count)
        }
        func pad(_ s: String) -> String { s.count >= 28 ? s : s + String(repeating: " ", count: 28 - s.count) }
        print(pad("page") + " PSNR dB    SSIM  ΔE2000  colourfulness (target)")
        for (name, r, b) in rows {
            print(pad(name) + String(format: " %7.2f %7.4f %7.2f %8.1f (%.1f)", r.psnr, r.ssim, r.ciede2000, r.colourfulness, r.referenceColourfulness))
            print(pad("  grey baseline") + String(format: " %7.2f %7.4f %7.2f %8.1f", b.psnr, b.ssim, b.ciede2000, b.colourfulness))
        }
        let m = (psnr: mean(\.psnr, \.1), ssim: mean(\.ssim, \.1), de: mean(\.ciede2000, \.1), cf: mean(\.colourfulness, \.1),
                 target: mean(\.referenceColourfulness, \.1))
        let g = (psnr: mean(\.psnr, \.2), ssim: mean(\.ssim, \.2), de: mean(\.ciede2000, \.2), cf: mean(\.colourfulness, \.2))
        print(pad("mean, model") + String(format: " %7.2f %7.4f %7.2f %8.1f (%.1f)", m.psnr, m.ssim, m.de, m.cf, m.target))
        print(pad("mean, grey baseline") + String(format: " %7.2f %7.4f %7.2f %8.1f", g.psnr, g.ssim, g.de, g.cf))
        if let json {
            func object(_ r: QualityReport) -> [String: Double] {
                ["psnr": r.psnr.isFinite ? r.psnr : 999, "ssim": r.ssim, "ciede2000": r.ciede2000, "colourfulness": r.colourfulness,
                 "target_colourfulness": r.referenceColourfulness]
            }
            let payload: [String: Any] = [
                "model": modelPath, "data": data, "keep_lines": keepLines, "flat": flat, "pages": rows.map { ["page": $0.0, "model": object($0.1), "baseline": object($0.2)] },
                "mean": ["model": ["psnr": m.psnr, "ssim": m.ssim, "ciede2000": m.de, "colourfulness": m.cf, "target_colourfulness": m.target],
                         "baseline": ["psnr": g.psnr, "ssim": g.ssim, "ciede2000": g.de, "colourfulness": g.cf]],
            ]
            let data = try JSONSerialization.data(withJSONObject: payload, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json), options: .atomic)
            print("wrote \(json)")
        }
    }
}
