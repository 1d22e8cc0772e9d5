import Foundation
import Testing
@testable import ONNX
import Tensor
import ONNXProto

@Test func modelRoundTripsThroughProtobuf() throws {
    var graph = Graph(name: "g")
    graph.addInitializer("w", Tensor(shape: [2, 2], floats: [1, 2, 3, 4]))
    graph.addInitializer("k", Tensor(shape: [3], scalars: [Int64(1), -2, 3]))
    graph.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), .fixed(2)])]
    graph.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    graph.nodes = [Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"],
                        attributes: ["f": .float(0.5), "i": .int(-3), "s": .string("abc"), "is": .ints([1, 2]),
                                     "fs": .floats([0.25]), "ss": .strings(["a", "b"]),
                                     "t": .tensor(Tensor(scalar: Float(7)))])]
    let model = Model(irVersion: 9, opsets: ["": 17, "com.example": 1], graph: graph, metadata: ["k": "v"])
    let decoded = try Model(bytes: model.serialized())
    #expect(decoded.irVersion == 9)
    #expect(decoded.opsets == ["": 17, "com.example": 1])
    #expect(decoded.metadata == ["k": "v"])
    #expect(decoded.graph.initializerOrder == ["w", "k"])
    #expect(decoded.graph.initializers["w"]?.scalars(as: Float.self) == [1, 2, 3, 4])
    #expect(decoded.graph.initializers["k"]?.ints() == [1, -2, 3])
    #expect(decoded.graph.inputs[0].shape == [.symbol("N"), .fixed(2)])
    #expect(decoded.graph.outputs[0].shape == nil)
    let node = decoded.graph.nodes[0]
    #expect(node.label == "MatMul \"mm\"")
    #expect(try node.float("f") == 0.5)
    #expect(try node.int("i") == -3)
    #expect(try node.string("s") == "abc")
    #expect(try node.ints("is") == [1, 2])
    #expect(try node.strings("ss") == ["a", "b"])
    #expect(try node.tensor("t")?.scalars(as: Float.self) == [7])
    #expect(throws: ONNXError.self) { try node.int("s") }
}

@Test func corruptAndTruncatedFilesAreErrorsNotCrashes() throws {
    let model = Model(graph: Graph(nodes: [Node(opType: "Relu", inputs: ["x"], outputs: ["y"])],
                                   inputs: [ValueInfo(name: "x", dtype: .float32, shape: [.fixed(1)])]))
    let bytes = model.serialized()
    for cut in [1, 5, bytes.count / 2, bytes.count - 1] {
        #expect(throws: ONNXError.self) { try Model(bytes: bytes.prefix(cut)) }
    }
    #expect(throws: ONNXError.self) { try Model(bytes: Data()) }
    #expect(throws: ONNXError.self) { try Model(bytes: Data("not a model at all".utf8)) }
    #expect(throws: ONNXError.self) { try Model(contentsOf: "/nonexistent/model.onnx") }
}

@Test func tensorFilesRoundTrip() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-tensorfiles-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let cases: [Tensor] = [
        Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]),
        Tensor(shape: [], scalars: [Int64(42)]),
        Tensor(shape: [0, 2], floats: []),
        Tensor(shape: [3], scalars: [true, false, true]),
        Tensor(shape: [2], scalars: [Float16(1.5), Float16(-2)]),
    ]
    for (i, t) in cases.enumerated() {
        for format in TensorFileFormat.allCases {
            let path = "\(dir)/t\(i).\(format.rawValue)"
            try t.write(to: path, format: format)
            let back = try Tensor(contentsOfFile: path)
            #expect(back.shape == t.shape && back.dtype == t.dtype && back.doubles() == t.doubles(), "\(format) \(t)")
        }
    }
    try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 200, 0]).write(to: URL(fileURLWithPath: dir + "/bad.npy"))
    #expect(throws: ONNXError.self) { try Tensor(contentsOfFile: dir + "/bad.npy") }
}

@Test func externalDataIsReadAndConfinedToTheModelFolder() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mc-external-\(UUID())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var floats: [Float] = [9, 9, 1.5, 2.5]
    try Data(bytes: &floats, count: 16).write(to: URL(fileURLWithPath: dir + "/weights.bin"))
    // Build a model whose initializer points at weights.bin offset 8, by patching a serialized tensor.
    let decoder = ProtoDecoder(externalDataFolder: dir)
    let arena = Arena()
    let t = arena.tensor(Tensor(shape: [2], floats: [0, 0]), name: "w")
    t.pointee.has_raw_data = 0
    t.pointee.has_data_location = 1
    t.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
    (t.pointee.n_external_data, t.pointee.external_data) = arena.array([arena.entry("location", "weights.bin"),
                                                                         arena.entry("offset", "8"), arena.entry("length", "8")])
    #expect(try decoder.tensor(t.pointee).scalars(as: Float.self) == [1.5, 2.5])
    (t.pointee.n_external_data, t.pointee.external_data) = arena.array([arena.entry("location", "../weights.bin")])
    #expect(throws: ONNXError.self) { try decoder.tensor(t.pointee) }
    // A link inside the folder that leads out of it, and a device, are refused too.
    try FileManager.default.createSymbolicLink(atPath: dir + "/escape.bin", withDestinationPath: "/etc/hostname")
    try FileManager.default.createSymbolicLink(atPath: dir + "/zero.bin", withDestinationPath: "/dev/zero")
    for location in ["escape.bin", "zero.bin"] {
        (t.pointee.n_external_data, t.pointee.external_data) = arena.array([arena.entry("location", location)])
        #expect(throws: ONNXError.self) { try decoder.tensor(t.pointee) }
    }
}

/// The nesting pre-check walks untrusted bytes: varints and lengths that run past their message, every
/// truncation and random flips of a real model are errors or models, never traps.
@Test func nestingCheckSurvivesDamagedBytes() throws {
    var g = Graph(name: "g")
    g.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.fixed(1)])]
    g.nodes = [Node(name: "n", opType: "Relu", inputs: ["x"], outputs: ["y"])]
    g.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    let bytes = [UInt8](try Model(graph: g).serialized())
    var generator = SystemRandomNumberGenerator()
    for cut in 1..<bytes.count { _ = try? Model(bytes: Data(bytes.prefix(cut))) }
    for _ in 0..<2000 {
        var damaged = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) {
            damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
        }
        _ = try? Model(bytes: Data(damaged))
    }
    // A length-delimited field whose varint length runs past the end of its message.
    _ = try? Model(bytes: Data([0x3A, 0x02, 0x0A, 0xFF, 0xFF, 0xFF]))
}

@Test func aNegativeDimValueIsADynamicAxis() throws {
    // paddle2onnx writes dim_value -1 for a batch axis (ppocr-mobile-v2-cls); onnxruntime treats it as unknown.
    var graph = Graph(name: "g")
    graph.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.fixed(-1), .fixed(3)])]
    graph.outputs = [ValueInfo(name: "x", dtype: .float32, shape: nil)]
    let decoded = try Model(bytes: Model(graph: graph).serialized())
    #expect(decoded.graph.inputs[0].shape == [.unknown, .fixed(3)])
}
