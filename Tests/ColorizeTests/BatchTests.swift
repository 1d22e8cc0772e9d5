import Foundation
import Testing
@testable import Colorize
import Tensor

@Test func aCorruptPageDoesNotStopTheOthers() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-batch-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let pages = dir + "/in/chapter1"
    try FileManager.default.createDirectory(atPath: pages, withIntermediateDirectories: true)
    for k in 0..<2 {
        let page = synthesizePage(width: 72, height: 64, seed: UInt64(k))
        try writePNG(page.lineArt, path: "\(pages)/p\(k).png")
    }
    try Data("\u{89}PNG\r\n\u{1A}\n garbage".utf8).write(to: URL(fileURLWithPath: "\(pages)/broken.png"))
    let jobs = try collectPages([dir + "/in"])
    #expect(jobs.map(\.relativeOutput) == ["chapter1/broken.png", "chapter1/p0.png", "chapter1/p1.png"])
    // A stand-in generator: grey to a fixed tint, same size.
    let outcome = try colorizePages(jobs, output: dir + "/out", options: ColorizeOptions()) { x in
        let (h, w) = (x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: 3 * h * w)
        for i in 0..<(h * w) { out[i] = x.floats[i]; out[h * w + i] = x.floats[i] * 0.5; out[2 * h * w + i] = -0.5 }
        return Tensor(shape: [1, 3, h, w], floats: out)
    }
    #expect(outcome.written.count == 2)
    #expect(outcome.failed.count == 1 && outcome.failed[0].page.hasSuffix("broken.png"))
    #expect(outcome.failed[0].reason.contains("broken.png"))
    for k in 0..<2 {
        let written = try readImage(path: "\(dir)/out/chapter1/p\(k).png")
        #expect(written.width == 72 && written.height == 64 && written.channels == 3)
    }
    #expect(!FileManager.default.fileExists(atPath: "\(dir)/out/chapter1/broken.png"))
}
