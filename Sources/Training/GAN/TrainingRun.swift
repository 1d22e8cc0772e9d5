import Foundation
import ONNX
import Tensor

/// A run folder, what `mangacolor train --out RUN` writes and rereads:
///
///     RUN/checkpoint.mcc     the whole training state (`GANTrainer.saveCheckpoint`), replaced atomically
///     RUN/config.json        the configuration, for people (the checkpoint holds the authoritative copy)
///     RUN/metrics.jsonl      one `StepMetrics` JSON object per step, appended
///
/// Opening a folder that holds a checkpoint resumes it with the stored configuration.
public final class TrainingRun {
    public static let checkpointName = "checkpoint.mcc"
    public static let configurationName = "config.json"
    public static let metricsName = "metrics.jsonl"

    public let folder: URL
    public let trainer: GANTrainer
    /// true when the folder held a checkpoint and training continues from it.
    public let resumed: Bool
    /// true when resuming and the configuration passed in differs from the stored one (which wins).
    public let storedConfigurationDiffers: Bool
    /// The generator parameters `initialGenerator` did not provide (an output head of another colour).
    public let freshFromInitialGenerator: [String]
    /// Only rank 0 of a collective writes (checkpoint, config, metrics); the others keep nothing on disk.
    public var writes: Bool { trainer.collective.isRoot }
    private let metrics: MetricsLog?

    public var checkpointURL: URL { folder.appendingPathComponent(Self.checkpointName) }

    /// Opens or creates the run in `folder`. `configuration` is used only for a new run; so is
    /// `initialGenerator` (`train --init`: its weights start the generator), which is called only then, and
    /// only on rank 0.
    ///
    /// With a collective of several processes, rank 0 opens the folder and then sends the whole training
    /// state (its checkpoint bytes) to the others, which never read the folder: every process starts from
    /// rank 0's weights, optimiser moments and random state, on one machine or several.
    public init(folder: URL, configuration: TrainingConfiguration, initialGenerator: (() throws -> Model)? = nil,
                collective: any Collective = SingleProcess()) throws {
        self.folder = folder
        guard collective.isRoot else {
            var bytes: [UInt8] = []
            try collective.broadcast(&bytes)
            guard let flag = bytes.first else { throw TrainingError.checkpoint("rank 0 sent no training state") }
            trainer = try GANTrainer(checkpointEntries: CheckpointFile.decode(Data(bytes.dropFirst()), source: "rank 0's training state"))
            trainer.collective = collective
            resumed = flag == 1
            storedConfigurationDiffers = trainer.configuration != configuration
            freshFromInitialGenerator = []
            metrics = nil
            return
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw TrainingError.configuration("cannot create the run folder \(folder.path): \(error.localizedDescription)")
        }
        let checkpoint = folder.appendingPathComponent(Self.checkpointName)
        CheckpointFile.removeStaleTemporaries(of: checkpoint)
        if FileManager.default.fileExists(atPath: checkpoint.path) {
            trainer = try GANTrainer(resumingFrom: checkpoint)
            resumed = true
            storedConfigurationDiffers = trainer.configuration != configuration
            freshFromInitialGenerator = []
            // Steps logged after the checkpoint will run again: drop their lines before the log is reopened.
            try MetricsLog.truncate(folder.appendingPathComponent(Self.metricsName), after: trainer.completedSteps)
        } else {
            trainer = try GANTrainer(configuration: configuration)
            resumed = false
            storedConfigurationDiffers = false
            let trainer = self.trainer
            freshFromInitialGenerator = try initialGenerator.map { try trainer.loadGeneratorWeights(from: $0()) } ?? []
            // No checkpoint: lines of an earlier run stopped before its first checkpoint would be logged twice.
            try MetricsLog.truncate(folder.appendingPathComponent(Self.metricsName), after: 0)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(configuration).write(to: folder.appendingPathComponent(Self.configurationName))
        }
        metrics = try MetricsLog(url: folder.appendingPathComponent(Self.metricsName))
        trainer.collective = collective
        if collective.size > 1 {
            var bytes = [UInt8(resumed ? 1 : 0)] + [UInt8](CheckpointFile.encode(trainer.checkpointEntries()))
            try collective.broadcast(&bytes)
        }
    }

    /// One training step; its metrics are appended to `metrics.jsonl`.
    @discardableResult
    public func step(batch: TrainingBatch) throws -> StepMetrics {
        let m = try trainer.step(batch: batch)
        try metrics?.append(m)
        return m
    }

    /// Writes the checkpoint (atomically; rank 0 only).
    public func save() throws { if writes { try trainer.saveCheckpoint(to: checkpointURL) } }

    /// The trainer stored in a run folder (for `export` and `verify`).
    public static func load(folder: URL) throws -> GANTrainer {
        let checkpoint = folder.appendingPathComponent(checkpointName)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw TrainingError.checkpoint("\(folder.path) holds no \(checkpointName); train into it first (mangacolor train --out \(folder.path))")
        }
        return try GANTrainer(resumingFrom: checkpoint)
    }
}
