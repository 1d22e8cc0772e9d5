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
