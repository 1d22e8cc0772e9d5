import Testing
import ONNX
@testable import Runtime
import Tensor

/// A graph whose Conv weight expects 4 input channels, fed 3: the error names the node and both shapes.
@Test func shapeMismatchNamesTheNodeAndShapes() throws {
    var g = Graph(name: "mismatch")
    g.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.symbol("N"), .symbol("C"), .symbol("H"), .symbol("W")])]
    g.addInitializer("w", Tensor(zeros: [2, 4, 3, 3]))
    g.nodes = [Node(name: "down3", opType: "Conv", inputs: ["x", "w"], outputs: ["y"])]
    g.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    let plan = try Plan(model: Model(graph: g))
    #expect {
        _ = try plan.run([Tensor(zeros: [1, 3, 8, 8])])
    } throws: { error in
        let text = "\(error)"
        return text.contains("Conv \"down3\"") && text.contains("3") && text.contains("4") && text.contains("[1,3,8,8]")
    }
}

/// Inputs are checked against the declared type and fixed dimensions before anything runs.
@Test func wrongInputTypeOrRankIsRejected() throws {
    var g = Graph(name: "id")
    g.inputs = [ValueInfo(name: "x", dtype: .float32, shape: [.fixed(1), .symbol("C")])]
    g.nodes = [Node(name: "i", opType: "Identity", inputs: ["x"], outputs: ["y"])]
    g.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    let plan = try Plan(model: Model(graph: g))
    #expect(throws: RuntimeError.self) { try plan.run([Tensor(zeros: [1, 2], dtype: .float64)]) }
    #expect(throws: RuntimeError.self) { try plan.run([Tensor(zeros: [2, 2])]) }
    #expect(throws: RuntimeError.self) { try plan.run([Tensor(zeros: [1, 2, 3])]) }
    #expect(throws: RuntimeError.self) { try plan.run([]) }
    #expect(try plan.run([Tensor(shape: [1, 2], floats: [3, 4])])[0].scalars(as: Float.self) == [3, 4])
}
