import ArgumentParser
import Colorize
import Foundation
import Runtime
import Tensor

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a generator on held-out colour pages: PSNR, SSIM, CIEDE2000, colourfulness.",
        discussion: "Each colour page is turned grey (--input grey) or rendered as black-and-white manga (--input manga), colorized, and compared with the original. Baselines are scored beside the model so the numbers mean something: the grey page; for manga, the binary render and its descreened grey, plus the output's mean L* on solid ink. Prints per-page rows and the mean; --json writes the numbers.")

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

    @Option(help: "Evaluate with colorize's --reference: the generator fine-tuned on this coloured page (--adapt-steps; cached), then regions take the colours of its regions (repeatable; leave the reference out of --data).")
    var reference: [String] = []

    @OptionGroup var adaptation: AdaptationFlags

    @Option(help: "What the model is given: grey (each page's luma) or manga (each page rendered as ink + screentone with three screens — 5 px dots at 45°, 7 px dots at 15° with scan blur, 6 px lines at 60° — and colorized through the whole pipeline).")
    var input: EvaluationInput = .grey

    @Option(help: "With --input manga: which of the three screens to render with (comma-separated indices 0, 1, 2).")
    var screens: String = "0,1,2"

    @Option(help: "Page path, as colorize's --page-kind: auto, grey or manga.")
    var pageKind: PageKindChoice = .auto

    @OptionGroup var generatorOptions: GeneratorOptions

    @OptionGroup var memory: MemoryOptions

    /// `--screens` as indices; nil entries are not numbers.
    private var screenIndices: [Int?] { screens.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) } }

    var chosenScreens: [MangaStyle] { screenIndices.compactMap { $0 }.map { evaluationScreens[$0] } }

    func validate() throws {
        let indices = screenIndices
        guard !indices.isEmpty, indices.allSatisfy({ $0 != nil && evaluationScreens.indices.contains($0!) }) else {
            throw ValidationError("--screens takes indices 0 to \(evaluationScreens.count - 1), comma-separated")
        }
    }

    func run() throws {
        memory.apply()
        let modelPath = try adaptation.adaptedModel(try resolveModel(model), references: reference)
        let plan = try generatorOptions.loadGenerator(modelPath)
        var options = ColorizeOptions(keepLines: keepLines, flat: flat)
        options.pageKind = pageKind.kind
        try generatorOptions.apply(to: &options, plan: plan)
        try adaptOptions(&options, to: plan)
        options.palette = try referencePalette(reference, colorShare: options.colorShare)
        let jobs = try collectPages([data])
        guard !jobs.isEmpty else { throw CLIError("\(data) holds no pages") }
        var rows: [EvaluationRow] = []
        let bar = ProgressBar(total: jobs.count, label: "evaluate")
        let generator: (Tensor) throws -> Tensor = { try plan.run([$0])[0] }
        for (i, job) in jobs.enumerated() {
            var page = try readImage(path: job.source).rgb()
            if width > 0 && page.width != width {
                page = page.resized(width: width, height: max(1, Int((Double(page.height) * Double(width) / Double(page.width)).rounded())))
            }
            let name = (job.source as NSString).lastPathComponent
            let output: Image
            switch input {
            case .grey:
                let (report, out) = try evaluateColorizer(on: page, options: options, generator: generator)
                let baseline = try Colorize.evaluate(generated: page.luminance().rgb(), reference: page)
                rows.append(EvaluationRow(page: name, model: report, baselines: [("grey", baseline)], inkLightness: nil))
                output = out
            case .manga:
                let (quality, out) = try evaluateOnManga(page, screens: chosenScreens, options: options, generator: generator)
                rows.append(EvaluationRow(page: name, model: quality.model,
                                          baselines: [("binary", quality.binary), ("descreened", quality.descreened)],
                                          inkLightness: quality.inkLightness))
                output = out
            }
            if let saveOutputs {
                try FileManager.default.createDirectory(atPath: saveOutputs, withIntermediateDirectories: true)
                try writePNG(output, path: (saveOutputs as NSString).appendingPathComponent(job.relativeOutput))
            }
            bar.update(i + 1, status: "")
        }
        bar.finish()
        printTable(rows)
        if let json { try writeJSON(rows, modelPath: modelPath, to: json) }
    }

    private func printTable(_ rows: [EvaluationRow]) {
        func pad(_ s: String) -> String { s.count >= 28 ? s : s + String(repeating: " ", count: 28 - s.count) }
        func line(_ label: String, _ r: QualityReport, target: Bool, ink: Double?) -> String {
            pad(label) + String(format: " %7.2f %7.4f %7.2f %8.1f", r.psnr, r.ssim, r.ciede2000, r.colourfulness)
                + (target ? String(format: " (%.1f)", r.referenceColourfulness) : "")
                + (ink.map { String(format: "   ink L* %.1f", $0) } ?? "")
        }
        print("input: \(input.rawValue)" + (input == .manga ? " (rendered with three screens, scores averaged)" : ""))
        print(pad("page") + " PSNR dB    SSIM  ΔE2000  colourfulness (target)")
        for row in rows {
            print(line(row.page, row.model, target: true, ink: row.inkLightness))
            for (name, b) in row.baselines { print(line("  \(name) baseline", b, target: false, ink: nil)) }
        }
        let ink = rows.compactMap(\.inkLightness)
        print(line("mean, model", meanReport(rows.map(\.model)), target: true,
                   ink: ink.isEmpty ? nil : ink.reduce(0, +) / Double(ink.count)))
        for k in rows[0].baselines.indices {
            print(line("mean, \(rows[0].baselines[k].name) baseline", meanReport(rows.map { $0.baselines[k].report }), target: false, ink: nil))
        }
    }

    private func writeJSON(_ rows: [EvaluationRow], modelPath: String, to path: String) throws {
        func object(_ r: QualityReport) -> [String: Double] {
            ["psnr": r.psnr.isFinite ? r.psnr : 999, "ssim": r.ssim, "ciede2000": r.ciede2000, "colourfulness": r.colourfulness,
             "target_colourfulness": r.referenceColourfulness]
        }
        func pageObject(_ row: EvaluationRow) -> [String: Any] {
            var o: [String: Any] = ["page": row.page, "model": object(row.model)]
            for (name, b) in row.baselines { o["baseline_\(name)"] = object(b) }
            if let ink = row.inkLightness { o["ink_lightness"] = ink }
            return o
        }
        var mean: [String: Any] = ["model": object(meanReport(rows.map(\.model)))]
        for k in rows[0].baselines.indices {
            mean["baseline_\(rows[0].baselines[k].name)"] = object(meanReport(rows.map { $0.baselines[k].report }))
        }
        let ink = rows.compactMap(\.inkLightness)
        if !ink.isEmpty { mean["ink_lightness"] = ink.reduce(0, +) / Double(ink.count) }
        let payload: [String: Any] = [
            "model": modelPath, "data": data, "input": input.rawValue, "keep_lines": keepLines, "flat": flat,
            "pages": rows.map(pageObject), "mean": mean,
        ]
        let bytes = try JSONSerialization.data(withJSONObject: payload, options: [.prettyPrinted, .sortedKeys])
        try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        print("wrote \(path)")
    }
}

enum EvaluationInput: String, ExpressibleByArgument, CaseIterable {
    case grey, manga
}

private struct EvaluationRow {
    var page: String
    var model: QualityReport
    var baselines: [(name: String, report: QualityReport)]
    var inkLightness: Double?
}
