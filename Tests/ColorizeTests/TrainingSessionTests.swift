import Foundation
import Testing
@testable import Colorize
import Tensor
import Training

private func tinySession(_ folder: String, steps: Int) throws -> TrainingSession {
    var config = TrainingConfiguration(imageSize: 32, discriminator: .patch, seed: 5)
    config.generator = GeneratorConfiguration(levels: [[4], [8]])
    config.labelFlipProbability = 0.2
    let pages = (0..<2).map { PageSource.image(synthesizePage(width: 64, height: 64, seed: UInt64($0)).color) }
    let options = TrainingSessionOptions(pages: pages, augment: AugmentOptions(size: 32), steps: steps,
                                         checkpointEvery: 2, validateEvery: 2)
    return try TrainingSession(folder: folder, configuration: config, options: options)
}

private func weights(_ folder: String) throws -> [String: [Float]] {
    let trainer = try TrainingRun.load(folder: URL(fileURLWithPath: folder))
    var out: [String: [Float]] = [:]
    for p in trainer.generator.parameters { out[p.name] = p.value.scalars(as: Float.self) }
    return out
}

/// Serialized: two trainings at once in one process are not bit-identical (a `withSingleThreadedBLAS` region
/// in one sets OpenBLAS's global thread count to 1 for the other's GEMMs), which the resume test detects.
@Suite(.serialized) struct TrainingSessionTests {
    /// `mangacolor train` stopped after a checkpoint and run again must end with exactly the weights of a run
    /// that was never interrupted: same pairs (the loader starts at the resumed step), same RNG, same Adam state.
    @Test func resumedSessionIsBitIdenticalToAnUninterruptedOne() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-session-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try tinySession(root + "/straight", steps: 4).train()
        try tinySession(root + "/interrupted", steps: 2).train()
        try tinySession(root + "/interrupted", steps: 4).train()
        #expect(try weights(root + "/straight") == weights(root + "/interrupted"))
        let lines = try String(contentsOfFile: root + "/interrupted/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(FileManager.default.fileExists(atPath: root + "/interrupted/report.html"))
    }

    @Test func reportFlagsColourfulnessCollapse() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-report-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let records = [(100, 40.0), (200, 30.0), (300, 8.0)].map {
            "{\"step\":\($0.0),\"l1\":0.3,\"psnr\":14,\"colourfulness\":\($0.1),\"targetColourfulness\":60}"
        }
        try records.joined(separator: "\n").write(toFile: root + "/" + TrainingReport.validationName, atomically: true, encoding: .utf8)
        try "{\"step\":1,\"generatorLoss\":5,\"discriminatorLoss\":0.7}\n".write(toFile: root + "/metrics.jsonl", atomically: true, encoding: .utf8)
        let report = TrainingReport(folder: root)
        #expect(report.collapseWarning != nil)
        let html = report.html()
        #expect(html.contains("<svg") && html.contains("mode collapse"))
        #expect(!html.contains("http://") && !html.contains("https://"))  // self-contained
    }

    /// A first run stopped before its first checkpoint leaves metrics lines and no checkpoint: the rerun starts
    /// at step 0 and must not log steps 1 and 2 twice.
    @Test func aFreshRunNeverLogsAStepTwice() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-fresh-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let stale = (1...2).map { "{\"step\":\($0),\"generatorLoss\":5,\"discriminatorLoss\":0.7}" }.joined(separator: "\n") + "\n"
        try stale.write(toFile: root + "/metrics.jsonl", atomically: true, encoding: .utf8)
        try tinySession(root, steps: 2).train()
        let steps = try String(contentsOfFile: root + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["step"] as? Int
        }
        #expect(steps == [1, 2])
    }

    /// Ctrl-C (here: shouldStop) finishes the step, writes a checkpoint holding it, and says how to resume;
    /// the rerun goes on from there without logging any step twice.
    @Test func anInterruptedRunKeepsEveryFinishedStep() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-interrupt-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var steps = 0
        #expect(throws: TrainingInterrupted(step: 3, steps: 6, folder: root)) {
            try tinySession(root, steps: 6).train(progress: { if case .step = $0 { steps += 1 } }, shouldStop: { steps >= 3 })
        }
        #expect(try TrainingRun.load(folder: URL(fileURLWithPath: root)).completedSteps == 3)
        #expect("\(TrainingInterrupted(step: 3, steps: 6, folder: root))".contains("run the same command again"))
        try tinySession(root, steps: 4).train()
        let lines = try String(contentsOfFile: root + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
    }

    /// A killed `train` leaves a checkpoint-sized temporary; the next run in the folder removes it.
    @Test func staleCheckpointTemporariesAreRemoved() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mc-stale-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let stale = root + "/.checkpoint.mcc.tmp-\(finished.processIdentifier)"
        try Data(count: 1024).write(to: URL(fileURLWithPath: stale))
        _ = try tinySession(root, steps: 1)
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    /// A damaged checkpoint header declaring huge tensors is an error before anything is allocated.
    @Test func aCheckpointDeclaringHugeTensorsIsRefused() throws {
        var data = CheckpointFile.encode([("w", Tensor(shape: [2], floats: [1, 2]))])
        // Header: magic 8, count 4, name length 2, "w" 1, dtype 1, rank 1, then the dimension (i64).
        let dimension = 8 + 4 + 2 + 1 + 1 + 1
        withUnsafeBytes(of: Int64(1 << 39).littleEndian) { data.replaceSubrange(dimension..<dimension + 8, with: $0) }
        #expect { _ = try CheckpointFile.decode(data, source: "bad.mcc") } throws: { "\($0)".contains("more than the 8 bytes left") }
    }
}
