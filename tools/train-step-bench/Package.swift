// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "train-step-bench",
    dependencies: [.package(name: "MangaColor", path: "../..")],
    targets: [.executableTarget(name: "train-step-bench", dependencies: [.product(name: "Training", package: "MangaColor")])]
)
