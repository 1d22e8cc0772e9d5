// swift-tools-version:6.0
// Timing of the Colorize image layer in a release build (timings stay out of the test suite).
//   cd tools/bench-colorize && swift run -c release bench-colorize [PAGE.png ...]
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which differs between checkouts and worktrees.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../..").standardized.lastPathComponent.lowercased()

let package = Package(
    name: "bench-colorize",
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(name: "bench-colorize", dependencies: [.product(name: "Colorize", package: root)]),
    ]
)
