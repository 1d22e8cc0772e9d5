import Foundation
import Testing
@testable import Colorize
import Tensor

// No page is ever lost: collisions, self-overwrite, file-vs-folder outputs and unwritable folders are refused
// before any page is computed; --skip-existing resumes; temporaries of killed runs are swept.

/// A folder with synthetic pages at the given relative paths (PNG, or JPEG for a .jpg name).
private func pageFolder(_ pages: [String]) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-outputs-\(UUID())").path
    for (k, rel) in pages.enumerated() {
        let path = dir + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let art = synthesizePage(width: 64, height: 64, seed: UInt64(k)).lineArt
        if path.hasSuffix(".jpg") { try writeJPEG(art, path: path) } else { try writePNG(art, path: path) }
    }
    return dir
}

/// A stand-in generator that counts its calls: grey to a fixed tint, same size.
private final class CountingGenerator: @unchecked Sendable {
    var calls = 0
    func callAsFunction(_ x: Tensor) -> Tensor {
        calls += 1
        let (h, w) = (x.shape[2], x.shape[3])
        var out = [Float](repeating: -0.5, count: 3 * h * w)
        for i in 0..<(h * w) { out[i] = x.floats[i]; out[h * w + i] = x.floats[i] * 0.5 }
        return Tensor(shape: [1, 3, h, w], floats: out)
    }
}

private func run(_ jobs: [PageJob], _ output: String, skipExisting: Bool = false,
                 _ generator: CountingGenerator = CountingGenerator()) throws -> BatchOutcome {
    try colorizePages(jobs, output: output, options: ColorizeOptions(), skipExisting: skipExisting) { generator($0) }
}

@Test func twoChaptersWithTheSamePageNamesKeepTheirFolderNames() throws {
    let dir = try pageFolder(["vol1/001.png", "vol2/001.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let jobs = try collectPages([dir + "/vol1", dir + "/vol2"])
    #expect(jobs.map(\.relativeOutput) == ["vol1/001.png", "vol2/001.png"])
    let outcome = try run(jobs, dir + "/out")
    #expect(outcome.written.count == 2)
    #expect(FileManager.default.fileExists(atPath: dir + "/out/vol1/001.png"))
    #expect(FileManager.default.fileExists(atPath: dir + "/out/vol2/001.png"))
    // One folder alone keeps the old layout (relative paths directly under OUT).
    #expect(try collectPages([dir + "/vol1"]).map(\.relativeOutput) == ["001.png"])
    // A page named twice is done once.
    #expect(try collectPages([dir + "/vol1", dir + "/vol1/../vol1"]).map(\.relativeOutput) == ["vol1/001.png"])
}

@Test func collidingOutputsAreRefusedBeforeAnyWork() throws {
    let dir = try pageFolder(["ch/p.png", "ch/p.jpg", "a/001.png", "b/001.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let generator = CountingGenerator()
    #expect { _ = try run(try collectPages([dir + "/ch"]), dir + "/out", generator) } throws: { error in
        guard case BatchError.collision(let target, let sources) = error else { return false }
        return target.hasSuffix("out/p.png") && sources.count == 2 && "\(error)".contains("nothing was written")
    }
    // With --layers, q.ink.png beside q.png is an output too: it would overwrite the page q.ink.png's result.
    let layered = try pageFolder(["q.png", "q.ink.png"])
    defer { try? FileManager.default.removeItem(atPath: layered) }
    let both = try collectPages([layered + "/q.png", layered + "/q.ink.png"])
    #expect(try outputPaths(for: both, output: layered + "/out").count == 2)
    #expect(throws: BatchError.self) { _ = try outputPaths(for: both, output: layered + "/out", layers: ["ink"]) }
    // A glob matching two folders' 001.png.
    #expect(throws: BatchError.self) { _ = try run(try collectPages([dir + "/[ab]/001.png"]), dir + "/out", generator) }
    #expect(generator.calls == 0)
    #expect(!FileManager.default.fileExists(atPath: dir + "/out/p.png"))
}

@Test func outputsThatDifferOnlyInCaseAreRefused() throws {
    // A.png and a.png from two folders, given as files, both go directly under OUT: one file on macOS.
    let dir = try pageFolder(["x/A.png", "y/a.png", "p/Vol1/001.png", "q/vol1/001.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let generator = CountingGenerator()
    let files = try collectPages([dir + "/x/A.png", dir + "/y/a.png"])
    #expect(files.map(\.relativeOutput) == ["A.png", "a.png"])
    #expect { _ = try run(files, dir + "/out", generator) } throws: { error in
        guard case BatchError.caseCollision(let targets, let sources) = error else { return false }
        return targets == [dir + "/out/A.png", dir + "/out/a.png"] && sources == [dir + "/x/A.png", dir + "/y/a.png"]
            && "\(error)".contains("letter case") && "\(error)".contains("nothing was written")
    }
    // Two chapter folders named Vol1 and vol1 keep their names under OUT, and collide the same way.
    #expect { _ = try run(try collectPages([dir + "/p/Vol1", dir + "/q/vol1"]), dir + "/out", generator) } throws: { error in
        guard case BatchError.caseCollision(let targets, _) = error else { return false }
        return targets == [dir + "/out/Vol1/001.png", dir + "/out/vol1/001.png"]
    }
    #expect(generator.calls == 0)
    #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
}

@Test func anExistingOutputThatIsAnInputUnderAnotherNameIsRefused() throws {
    // A hard link stands in for a case-insensitive disk's other spelling (-o A.png for a.png): the path
    // differs, the file is the same.
    let dir = try pageFolder(["a.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try FileManager.default.linkItem(atPath: dir + "/a.png", toPath: dir + "/same.png")
    let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.png"))
    let generator = CountingGenerator()
    #expect(throws: BatchError.overwritesInput(target: dir + "/same.png", source: dir + "/a.png")) {
        _ = try run(try collectPages([dir + "/a.png"]), dir + "/same.png", generator)
    }
    #expect(generator.calls == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.png")) == before)
}

@Test func anInputIsNeverOverwritten() throws {
    let dir = try pageFolder(["a.png", "pages/p0.png", "pages/p1.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let before = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.png"))
    let generator = CountingGenerator()
    // colorize a.png -o a.png, also spelled differently.
    #expect(throws: BatchError.overwritesInput(target: dir + "/a.png", source: dir + "/a.png")) {
        _ = try run(try collectPages([dir + "/a.png"]), dir + "/a.png", generator)
    }
    #expect(throws: BatchError.self) { _ = try run(try collectPages([dir + "/a.png"]), dir + "/pages/../a.png", generator) }
    // colorize pages -o pages
    #expect(throws: BatchError.self) { _ = try run(try collectPages([dir + "/pages"]), dir + "/pages", generator) }
    #expect(generator.calls == 0)
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.png")) == before)
}

@Test func aPNGOutputNamesOnePageOnly() throws {
    let dir = try pageFolder(["p0.png", "p1.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let two = try collectPages([dir + "/p0.png", dir + "/p1.png"])
    #expect(throws: BatchError.fileOutputForManyPages(output: dir + "/two.png", pages: 2)) { _ = try run(two, dir + "/two.png") }
    #expect(!FileManager.default.fileExists(atPath: dir + "/two.png"))
    #expect(throws: BatchError.notPNGOutput(output: dir + "/one.jpg")) { _ = try run([two[0]], dir + "/one.jpg") }
    let outcome = try run([two[0]], dir + "/one.png")
    #expect(outcome.written == [dir + "/one.png"])
    #expect(try readImage(path: dir + "/one.png").channels == 3)
}

@Test func anUnwritableOutputIsFoundBeforeAnyPageIsComputed() throws {
    let dir = try pageFolder(["p0.png", "p1.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Data("not a folder".utf8).write(to: URL(fileURLWithPath: dir + "/file"))
    let generator = CountingGenerator()
    #expect { _ = try run(try collectPages([dir]), dir + "/file/out", generator) } throws: { error in
        guard case BatchError.outputNotWritable(let folder, _) = error else { return false }
        return folder == dir + "/file/out" && "\(error)".contains("nothing was computed")
    }
    #expect { _ = try run(try collectPages([dir]), dir + "/file", generator) } throws: { "\($0)".contains("it is a file") }
    #expect(generator.calls == 0)
}

@Test func skipExistingResumesAnInterruptedChapter() throws {
    let dir = try pageFolder(["ch/p0.png", "ch/p1.png", "ch/p2.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let jobs = try collectPages([dir + "/ch"])
    #expect(try run(jobs, dir + "/out").written.count == 3)
    try FileManager.default.removeItem(atPath: dir + "/out/p1.png")   // as if the run had stopped there
    let generator = CountingGenerator()
    let outcome = try run(jobs, dir + "/out", skipExisting: true, generator)
    #expect(generator.calls == 1)
    #expect(outcome.written == [dir + "/out/p1.png"])
    #expect(outcome.kept == [dir + "/out/p0.png", dir + "/out/p2.png"])
}

@Test func temporariesOfKilledRunsAreSwept() throws {
    let dir = try pageFolder(["ch/p0.png"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A process that has exited: its PID no longer runs.
    let finished = Process()
    finished.executableURL = URL(fileURLWithPath: "/bin/true")
    try finished.run()
    finished.waitUntilExit()
    let dead = finished.processIdentifier
    let own = ProcessInfo.processInfo.processIdentifier
    try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
    let stale = dir + "/out/.p0.png.tmp-\(dead)-12345", live = dir + "/out/.p9.png.tmp-\(own)-1"
    for path in [stale, live] { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path)) }
    _ = try run(try collectPages([dir + "/ch"]), dir + "/out")
    #expect(!FileManager.default.fileExists(atPath: stale))
    #expect(FileManager.default.fileExists(atPath: live))   // this process's own: maybe being written
    // Hidden temporaries are never taken for pages.
    #expect(try collectPages([dir + "/out"]).map(\.relativeOutput) == ["p0.png"])
}

@Test func interruptedWritesLeaveNoTemporaries() throws {
    // What SIGINT/SIGTERM run for every registered temporary, here for this test's own only (tests run in
    // parallel; the end-to-end signal check is manual: see the branch report).
    let dir = try pageFolder([])
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let temporary = temporaryName(for: dir + "/page.png")
    try Data([0]).write(to: URL(fileURLWithPath: temporary))
    let slot = InFlightTemporaries.register(temporary)
    #expect(slot >= 0)
    #expect(InFlightTemporaries.remove(slot))
    #expect(!FileManager.default.fileExists(atPath: temporary))
    // A finished write leaves only its page.
    try writePNG(Image(width: 2, height: 2, channels: 1, fill: 0.5), path: dir + "/page.png")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["page.png"])
}

@Test func trainingPagesWithoutColourOrUnreadableAreSkipped() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-screen-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let page = synthesizePage(width: 64, height: 64, seed: 3)
    try writePNG(page.color, path: dir + "/colour.png")
    try writePNG(page.lineArt, path: dir + "/grey.png")
    try writePNG(page.lineArt.rgb(), path: dir + "/grey-rgb.png")
    try Data("\u{89}PNG\r\n\u{1A}\n broken".utf8).write(to: URL(fileURLWithPath: dir + "/broken.png"))
    let screening = screenTrainingPages(["colour", "grey", "grey-rgb", "broken"].map { dir + "/\($0).png" })
    #expect(screening.usable == [dir + "/colour.png"])
    #expect(screening.skipped.map { ($0.page as NSString).lastPathComponent } == ["grey.png", "grey-rgb.png", "broken.png"])
    #expect(screening.skipped[1].reason.contains("no colour"))
}
