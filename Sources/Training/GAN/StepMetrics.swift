import Foundation

/// What one training step measured; one JSON object per line in `RUN/metrics.jsonl`.
public struct StepMetrics: Codable, Sendable, Equatable {
    /// 1-based index of the step just taken.
    public var step: Int
    /// Generator objective: adversarial + l1Weight * L1 (+ feature matching).
    public var generatorLoss: Float
    public var generatorAdversarialLoss: Float
    /// Mean |G(x) - y| (images in [-1, 1]).
    public var l1: Float
    public var featureMatching: Float
    /// Rebalanced a*b* cross-entropy (a*b* class generators only).
    public var crossEntropy: Float? = nil
    /// (BCE on real + BCE on fake) / 2, against the noisy labels.
    public var discriminatorLoss: Float
    /// Fraction of real pairs with logit > 0, and of fake pairs with logit < 0.
    public var discriminatorRealAccuracy: Float
    public var discriminatorFakeAccuracy: Float
    public var learningRate: Float
    public var instanceNoise: Float
    /// Images of the global batch per second (all processes together).
    public var imagesPerSecond: Double
    public var seconds: Double
    /// Data-parallel runs: seconds this process spent in the step's gradient all-reduces, and the bytes it
    /// contributed to them (nil for one process).
    public var allReduceSeconds: Double? = nil
    public var allReduceBytes: Int? = nil

    /// One JSON line (keys sorted, no newline).
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Appends `StepMetrics` lines to a JSONL file (created if missing).
public final class MetricsLog {
    private let handle: FileHandle

    public init(url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError.configuration("cannot create metrics file \(url.path)")
            }
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    /// Keeps only the lines of a JSONL log whose "step" is at most `step` (no-op when the file is missing).
    public static func truncate(_ url: URL, after step: Int) throws {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = object["step"] as? Int else { return false }
            return s <= step
        }
        try (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(to: url, atomically: true, encoding: .utf8)
    }

    public func append(_ metrics: StepMetrics) throws {
        try handle.write(contentsOf: Data((metrics.jsonLine() + "\n").utf8))
    }

    deinit { try? handle.close() }
}
