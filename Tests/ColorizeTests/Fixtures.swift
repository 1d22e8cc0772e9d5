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

/// Largest absolute difference between two equally sized images: NaN when any difference is NaN, infinity
/// when the sizes differ or both are empty, so a `< tolerance` check fails instead of passing.
func maxDifference(_ a: Image, _ b: Image) -> Float {
    guard a.pixels.count == b.pixels.count, !a.pixels.isEmpty else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a.pixels, b.pixels) where x != y {
        let d = abs(x - y)
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}
