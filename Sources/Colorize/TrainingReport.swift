import Foundation

// RUN/report.html: one self-contained page (inline SVG plots, the sample grid as a data: URL) made from
// RUN/metrics.jsonl, RUN/validation.jsonl and RUN/sample.png.
//
// Plots: generator and discriminator losses; discriminator accuracy on real and fake pairs; validation L1
// and PSNR; colourfulness of the outputs against the targets'. Colourfulness sinking towards grey while
// the targets stay colourful is the seed report's mode-collapse symptom: the report flags it.
//
// API: TrainingReport(folder:), report.write(), report.html() -> String, report.collapseWarning -> String?

public struct TrainingReport {
    public static let fileName = "report.html"
    public static let validationName = "validation.jsonl"
    public static let sampleName = "sample.png"

    public let folder: String
    var steps: [[String: Double]] = []
    var validation: [ValidationRecord] = []

    public init(folder: String) {
        self.folder = folder
        steps = Self.readJSONLines(folder + "/metrics.jsonl")
        let decoder = JSONDecoder()
        validation = (try? String(contentsOfFile: folder + "/" + Self.validationName, encoding: .utf8))?
            .split(separator: "\n").compactMap { try? decoder.decode(ValidationRecord.self, from: Data($0.utf8)) } ?? []
    }

    static func readJSONLines(_ path: String) -> [[String: Double]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            var row: [String: Double] = [:]
            for (k, v) in object {
                if let d = v as? Double { row[k] = d } else if let n = v as? NSNumber { row[k] = n.doubleValue }
            }
            return row
        }
    }

    /// A sentence when the outputs' colourfulness has fallen towards grey, else nil.
    public var collapseWarning: String? {
        guard validation.count >= 2, let last = validation.last else { return nil }
        let peak = validation.map(\.colourfulness).max() ?? 0
        let target = last.targetColourfulness
        if target > 10 && last.colourfulness < 0.25 * target && last.colourfulness < 0.6 * peak {
            return String(format: "Possible mode collapse: output colourfulness fell to %.1f (peak %.1f; targets %.1f). The seed report saw this as greyish outputs; try more instance noise or label smoothing, or a lower L1 weight.",
                          last.colourfulness, peak, target)
        }
        return nil
    }

    public func write() throws {
        try html().write(toFile: folder + "/" + Self.fileName, atomically: true, encoding: .utf8)
    }

    public func html() -> String {
        func series(_ key: String) -> [(Double, Double)] {
            steps.compactMap { row in row[key].flatMap { v in row["step"].map { ($0, v) } } }.filter { $0.1.isFinite }
        }
        var body = "<h1>Training report</h1>\n<p>\(steps.count) steps logged in <code>\(escape(folder))</code>"
        if let last = steps.last {
            body += String(format: "; last step %.0f, %.2f images/s", last["step"] ?? 0, last["imagesPerSecond"] ?? 0)
        }
        body += ".</p>\n"
        if let warning = collapseWarning { body += "<p class=warn>\(escape(warning))</p>\n" }
        body += plot("Losses", [("G loss", series("generatorLoss"), "#c0392b"), ("D loss", series("discriminatorLoss"), "#2471a3")])
        body += plot("Discriminator accuracy", [("on real", series("discriminatorRealAccuracy"), "#1e8449"),
                                                ("on fake", series("discriminatorFakeAccuracy"), "#b9770e")])
        body += plot("Training L1", [("L1", series("l1"), "#7d3c98")])
        // What the recipe optimises besides L1: feature matching and the a*b* class cross-entropy, when used.
        let matching = series("featureMatching"), crossEntropy = series("crossEntropy")
        if matching.contains(where: { $0.1 != 0 }) { body += plot("Discriminator feature matching", [("L1 of D features", matching, "#2e86c1")]) }
        if !crossEntropy.isEmpty { body += plot("a*b* class cross-entropy (rebalanced)", [("cross-entropy", crossEntropy, "#ca6f1e")]) }
        if !validation.isEmpty {
            let v = validation.map { Double($0.step) }
            body += plot("Validation L1", [("L1", Array(zip(v, validation.map(\.l1))), "#7d3c98")])
            body += plot("Validation PSNR (dB)", [("PSNR", Array(zip(v, validation.map(\.psnr))), "#117a65")])
            body += plot("Colourfulness (Hasler & Süsstrunk)", [
                ("outputs", Array(zip(v, validation.map(\.colourfulness))), "#d35400"),
                ("targets", Array(zip(v, validation.map(\.targetColourfulness))), "#7f8c8d")])
        } else {
            body += "<p>No validation pages were given (<code>--val DIR</code>), so there are no validation curves.</p>\n"
        }
        if let png = FileManager.default.contents(atPath: folder + "/" + Self.sampleName) {
            body += "<h2>Sample: input / output / target</h2>\n<img alt=sample src=\"data:image/png;base64,\(png.base64EncodedString())\">\n"
        }
        return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>MangaColor training report</title>
        <style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}
        svg{background:#fafafa;border:1px solid #ddd} .warn{background:#fdecea;border:1px solid #e74c3c;padding:.6em}
        img{max-width:100%;image-rendering:pixelated}</style></head><body>
        \(body)</body></html>

        """
    }

    /// A line chart as inline SVG (linear axes, min/max labels, legend).
    func plot(_ title: String, _ lines: [(String, [(Double, Double)], String)]) -> String {
        let points = lines.flatMap(\.1)
        guard !points.isEmpty else { return "<h2>\(escape(title))</h2><p>no data yet</p>\n" }
        let w = 900.0, h = 220.0, left = 60.0, bottom = 24.0, top = 10.0
        let xs = points.map(\.0), ys = points.map(\.1)
        let x0 = xs.min()!, x1 = max(xs.max()!, x0 + 1)
        var y0 = ys.min()!, y1 = ys.max()!
        if y1 - y0 < 1e-9 { y0 -= 1; y1 += 1 }
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (w - left - 10) }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom) }
        var svg = "<h2>\(escape(title))</h2>\n<svg width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\">\n"
        svg += String(format: "<text x=\"4\" y=\"%.0f\" font-size=\"11\">%.4g</text><text x=\"4\" y=\"%.0f\" font-size=\"11\">%.4g</text>\n",
                      py(y1) + 10, y1, py(y0), y0)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">step %.0f</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" text-anchor=\"end\">step %.0f</text>\n",
                      left, h - 6, x0, w - 10, h - 6, x1)
        for (i, (name, data, colour)) in lines.enumerated() {
            // Long runs: thin to about 1500 points per line.
            let stride = max(1, data.count / 1500)
            let path = Swift.stride(from: 0, to: data.count, by: stride).map { String(format: "%.1f,%.1f", px(data[$0].0), py(data[$0].1)) }
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.2\" points=\"\(path.joined(separator: " "))\"/>\n"
            svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\" fill=\"%@\">%@</text>\n",
                          w - 160, top + 14 + Double(i) * 14, colour, escape(name))
        }
        return svg + "</svg>\n"
    }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
