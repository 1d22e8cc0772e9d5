import Testing
import ONNX
@testable import Runtime
import Tensor

private func model(_ nodes: [Node], inputs: [String] = ["x"], outputs: [String] = ["y"], opset: Int = 17) -> Model {
    Model(opsets: ["": opset], graph: Graph(nodes: nodes,
        inputs: inputs.map { ValueInfo(name: $0, dtype: .float32, shape: nil) },
        outputs: outputs.map { ValueInfo(name: $0, dtype: .float32, shape: nil) }))
}

@Test func unknownOperatorIsNamed() {
    let m = model([Node(name: "weird", opType: "FrobnicateNd", inputs: ["x"], outputs: ["y"])])
    #expect {
        try Plan(model: m)
    } throws: { error in
        "\(error)".contains("FrobnicateNd \"weird\"") && "\(error)".contains("not implemented")
    }
}

@Test func cycleIsReported() {
    let m = model([Node(name: "a", opType: "Relu", inputs: ["b_out"], outputs: ["a_out"]),
                   Node(name: "b", opType: "Relu", inputs: ["a_out"], outputs: ["b_out"]),
                   Node(name: "c", opType: "Relu", inputs: ["x"], outputs: ["y"])])
    #expect {
        try Plan(model: m)
    } throws: { error in
        "\(error)".contains("cycle") && "\(error)".contains("\"a\"") && "\(error)".contains("\"b\"")
    }
}

@Test func missingInputIsNamed() {
    let m = model([Node(name: "n1", opType: "Relu", inputs: ["nowhere"], outputs: ["y"])])
    #expect {
        try Plan(model: m)
    } throws: { error in
        "\(error)".contains("n1") && "\(error)".contains("\"nowhere\"")
    }
}

@Test func missingOpsetDomainIsNamed() {
    let m = model([Node(name: "n1", opType: "Foo", domain: "com.vendor", inputs: ["x"], outputs: ["y"])])
    #expect {
        try Plan(model: m)
    } throws: { error in
        "\(error)".contains("com.vendor")
    }
}
