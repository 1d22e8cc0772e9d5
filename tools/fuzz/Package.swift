// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the main package (../..), one executable per target. Its own package so that the
// main package's `swift build` / `swift test` never see it. Build only through run-libfuzzer.sh, which adds
// `-sanitize=fuzzer` (libFuzzer's main and coverage instrumentation) and `-parse-as-library`; a plain
// `swift build` here links without a main and fails.
let package = Package(
    name: "MangaColorFuzz",
    dependencies: [.package(name: "MangaColor", path: "../..")],
    targets: [
        .executableTarget(name: "fuzz-onnx", dependencies: [
            .product(name: "ONNX", package: "MangaColor"),
            .product(name: "Runtime", package: "MangaColor"),
            .product(name: "Tensor", package: "MangaColor"),
        ]),
        .executableTarget(name: "fuzz-png", dependencies: [.product(name: "Colorize", package: "MangaColor")]),
        .executableTarget(name: "fuzz-jpeg", dependencies: [.product(name: "Colorize", package: "MangaColor")]),
    ]
)
