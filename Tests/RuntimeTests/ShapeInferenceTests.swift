import Testing
import ONNX
@testable import Runtime
import Tensor

@Test func symbolicShapesFlowThroughAUNetBlock() {
    var g = Graph(name: "unet-block")
    g.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), .fixed(1), .symbol("H"), .symbol("W")])]
    g.addInitializer("w1", Tensor(zeros: [4, 1, 3, 3]))
    g.addInitializer("wt", Tensor(zeros: [4, 2, 3, 3]))
    g.nodes = [
        Node(name: "c1", opType: "Conv", inputs: ["x", "w1"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])]),
        Node(name: "p1", opType: "MaxPool", inputs: ["a"], outputs: ["b"],
             attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
        Node(name: "up", opType: "ConvTranspose", inputs: ["b", "wt"], outputs: ["c"],
             attributes: ["strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]), "output_padding": .ints([1, 1])]),
        Node(name: "cat", opType: "Concat", inputs: ["c", "a"], outputs: ["y"], attributes: ["axis": .int(1)]),
        Node(name: "act", opType: "LeakyRelu", inputs: ["y"], outputs: ["z"]),
    ]
    g.outputs = [ValueInfo(name: "z", dtype: .float32, shape: nil)]
    let shapes = ShapeInference.infer(Model(graph: g))
    #expect(shapes["b"]?.map(\.description) == ["N", "4", "H/2", "W/2"])
    #expect(shapes["c"]?.map(\.description) == ["N", "2", "H", "W"])
    #expect(shapes["z"]?.map(\.description) == ["N", "6", "H", "W"])
}

@Test func ceilModePoolingShapesAgreeWithTheRuntime() throws {
    // MaxPool kernel 3, stride 2, pad 1, ceil_mode on 16x16: the runtime makes 9x9 (the last window starts at
    // the end padding's edge); inspect --shapes used to say 8.
    var g = Graph(name: "pool")
    g.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.fixed(1), .fixed(1), .fixed(16), .fixed(15)])]
    g.nodes = [Node(name: "p", opType: "MaxPool", inputs: ["x"], outputs: ["y"],
                    attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                                 "ceil_mode": .int(1)])]
    g.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    let model = Model(graph: g)
    let inferred = ShapeInference.infer(model)["y"]?.map(\.description)
    let actual = try Plan(model: model).run([Tensor(zeros: [1, 1, 16, 15])])[0].shape
    #expect(inferred == actual.map(String.init))
    #expect(actual == [1, 1, 9, 8])
}

/// `inspect --shapes` and the runtime cannot disagree: on every committed fixture model (PyTorch exports at
/// four opsets, single-operator golden cases), each shape inference infers — from the declared inputs, symbols
/// included — equals the shape the runtime's step produces on the case's inputs.
@Test(arguments: fixtureCases("parity") + fixtureCases("golden"))
func inferredShapesAgreeWithTheRuntime(folder: String) throws {
    let model = try Model(contentsOf: folder + "/model.onnx")
    let dir = folder + "/test_data_set_0"
    let inputs = try (0..<model.graph.runtimeInputs.count).map { try Tensor(contentsOfFile: "\(dir)/input_\($0).pb") }
    var symbols: [String: Int] = [:]
    for (v, t) in zip(model.graph.runtimeInputs, inputs) {
        for (d, n) in zip(v.shape ?? [], t.shape) { if case .symbol(let s) = d { symbols[s] = n } }
    }
    let inferred = ShapeInference.infer(model)
    var inferredSteps = 0, steps = 0
    let plan = try Plan(model: model, disabledRewrites: Set(GraphRewrites.names))
    _ = try plan.run(inputs) { step, _, outputs, _ in
        steps += 1
        var everyOutput = true
        for (name, t) in zip(step.node.outputs, outputs) where !name.isEmpty {
            guard let dims = inferred[name] else { everyOutput = false; continue }
            #expect(dims.count == t.rank, "\(step.node.label) -> \(name): inferred \(dims), ran \(t.shape)")
            guard dims.count == t.rank else { continue }
            for (d, n) in zip(dims, t.shape) {
                switch d {
                case .value(let v):
                    #expect(v == n, "\(step.node.label) -> \(name): inferred \(dims), ran \(t.shape)")
                case .affine(let s, let num, let den, let off):
                    if let size = symbols[s] {
                        #expect(num * size / den + off == n, "\(step.node.label) -> \(name): inferred \(dims), ran \(t.shape)")
                    }
                case .unknown: break
                }
            }
        }
        if everyOutput { inferredSteps += 1 }
    }
    // Every step of these models has its shapes inferred (U-Nets, ResNets, resize-conv, one-op cases).
    #expect(inferredSteps == steps, "\(folder): \(inferredSteps) of \(steps) steps' shapes inferred")
}
