import ONNX
import Tensor
@testable import Runtime

/// Builds `opType` at `opset` from a node with the given attributes through the registry and runs it.
/// Shared by the shape, pad and resize operator tests.
func runShapeFamilyOp(_ opType: String, opset: Int = 19, _ inputs: [Tensor?],
                      _ attributes: [String: Attribute] = [:], outputs: Int = 1) throws -> [Tensor] {
    let node = Node(name: "t", opType: opType, inputs: inputs.indices.map { inputs[$0] == nil ? "" : "in\($0)" },
                    outputs: (0..<outputs).map { "out\($0)" }, attributes: attributes)
    guard let registration = OperatorRegistry.lookup(domain: "", opType: opType, opset: opset) else {
        throw KernelError("\(opType) is not registered at opset \(opset)")
    }
    let op = try registration.make(OperatorContext(node: node, opset: opset, constants: []))
    return try op.run(inputs)
}

func int64s(_ values: [Int]) -> Tensor { Tensor(shape: [values.count], scalars: values.map { Int64($0) }) }
func iota(_ shape: [Int]) -> Tensor { Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map(Float.init)) }
