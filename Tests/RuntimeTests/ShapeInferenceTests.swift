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
