import Foundation
@testable import Colorize

/// Paths of committed fixtures (Tests/Fixtures/images, made by tools/make-image-fixtures.py and
/// tools/make-jpeg-fixtures.c) and scratch folders for tests that write files.
enum Fixtures {
    static let images = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/images")

    static func image(_ name: String) -> String { images.appendingPathComponent(name).path }

    /// A fresh empty folder under the system temporary folder.
    static func scratchFolder() throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("colorize-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }
}

/// Largest absolute difference between two equally sized images.
func maxDifference(_ a: Image, _ b: Image) -> Float {
    precondition(a.pixels.count == b.pixels.count)
    return zip(a.pixels, b.pixels).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
