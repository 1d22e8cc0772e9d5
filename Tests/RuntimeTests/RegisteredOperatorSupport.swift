import ONNX
import Testing
@testable import Runtime
import Tensor

/// Builds `opType` at `opset` from the registry with `attributes` and runs it on `inputs`
/// (nil = omitted optional input). `outputs` names the node's outputs (their count matters to some ops).
func runRegisteredOperator(_ opType: String, opset: Int, _ inputs: [Tensor?],
                           attributes: [String: Attribute] = [:], outputs: Int = 1) throws -> [Tensor] {
    guard let registration = OperatorRegistry.lookup(domain: "", opType: opType, opset: opset) else {
        throw KernelError("no registration for \(opType) at opset \(opset)")
    }
    let node = Node(name: "test", opType: opType,
                    inputs: inputs.enumerated().map { $0.element == nil ? "" : "in\($0.offset)" },
                    outputs: (0..<outputs).map { "out\($0)" }, attributes: attributes)
    let op = try registration.make(OperatorContext(node: node, opset: opset, constants: []))
    return try op.run(inputs)
}

/// Elementwise closeness with a readable failure.
func expectClose(_ got: Tensor, _ want: [Double], shape: [Int]? = nil, tolerance: Double = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    if let shape { #expect(got.shape == shape, sourceLocation: sourceLocation) }
    let values = got.doubles()
    #expect(values.count == want.count, "got \(values.count) elements, want \(want.count)", sourceLocation: sourceLocation)
    let bad = zip(values, want).enumerated().filter { abs($0.element.0 - $0.element.1) > tolerance
        && !($0.element.0.isNaN && $0.element.1.isNaN) && $0.element.0 != $0.element.1 }
    #expect(bad.isEmpty, "mismatches (index, got, want): \(bad.prefix(4).map { ($0.offset, $0.element.0, $0.element.1) })",
            sourceLocation: sourceLocation)
}
