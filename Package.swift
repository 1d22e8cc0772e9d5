// swift-tools-version:6.0
import Foundation
import PackageDescription

// Data-parallel training over MPI (`mpirun -n N mangacolor train`) is built in when Open MPI's C library is
// installed (pkg-config `ompi-c`, Debian's libopenmpi-dev); without it the package builds and runs exactly as
// before, single-process. MANGACOLOR_MPI=1 requires it, MANGACOLOR_MPI=0 leaves it out.
func openMPIIsInstalled() -> Bool {
    let environment = ProcessInfo.processInfo.environment
    var folders = (environment["PKG_CONFIG_PATH"] ?? "").split(separator: ":").map(String.init)
    folders += ["/usr/lib/pkgconfig", "/usr/share/pkgconfig", "/usr/local/lib/pkgconfig", "/opt/homebrew/lib/pkgconfig"]
    if let multiarch = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib") {
        folders += multiarch.map { "/usr/lib/\($0)/pkgconfig" }
    }
    return folders.contains { FileManager.default.fileExists(atPath: $0 + "/ompi-c.pc") }
}
let withMPI = ProcessInfo.processInfo.environment["MANGACOLOR_MPI"].map { $0 != "0" } ?? openMPIIsInstalled()
let mpiTargets: [Target] = withMPI ? [
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "MPICollectives", dependencies: ["CMPI", "Training"]),
] : []

// Dependencies flow one way: Tensor <- ONNX <- Runtime; Tensor <- Training -> ONNX;
// Colorize -> Runtime; the CLI on top. See ../shared/DESIGN.md.
let package = Package(
    name: "MangaColor",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mangacolor", targets: ["mangacolor"]),
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Colorize", targets: ["Colorize"]),
        // Tensor and ONNX are products only for tools/fuzz (the libFuzzer package), which imports them.
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "ONNX", targets: ["ONNX"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .target(name: "ONNXProto", dependencies: ["CProtobufC"], path: "Sources/ONNXProto"),
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG"], path: "Sources/CImageCodecs"),
        // Element-wise and depthwise inner loops compiled for AVX-512, AVX2 and baseline x86-64, picked at load.
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "Tensor", dependencies: [
            "CBLAS", "CKernels", .product(name: "Numerics", package: "swift-numerics"),
        ], swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "ONNX", dependencies: ["Tensor", "ONNXProto", "CProtobufC"]),
        .target(name: "Runtime", dependencies: ["Tensor", "ONNX", "CKernels",
            .product(name: "Numerics", package: "swift-numerics")], exclude: ["Operators/Extended/README.md"]),
        .target(name: "Training", dependencies: ["Tensor", "ONNX",
            .product(name: "Numerics", package: "swift-numerics")]),
        .target(name: "Colorize", dependencies: ["Tensor", "Runtime", "Training", "CPNG", "CJPEG", "CImageCodecs",
            .product(name: "Numerics", package: "swift-numerics")]),
        .executableTarget(name: "mangacolor", dependencies: [
            "Tensor", "ONNX", "Runtime", "Training", "Colorize",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ] + (withMPI ? ["MPICollectives"] : []), swiftSettings: withMPI ? [.define("MANGACOLOR_MPI")] : []),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Tensor"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "ONNX", "Tensor"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Runtime", "ONNX", "Tensor"]),
        .testTarget(name: "ColorizeTests", dependencies: ["Colorize", "Runtime", "Training", "Tensor"]),
    ] + mpiTargets
)
