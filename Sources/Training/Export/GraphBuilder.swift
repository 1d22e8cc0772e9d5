import ONNX
import Tensor

/// Builds an `ONNX.Graph` node by node: unique value names, initializers from parameters (copied, in
/// first-use order), attributes as ONNX attributes.
public struct GraphBuilder {
    public private(set) var graph: Graph
    private var counter = 0
    private var used: Set<String> = []

    public init(name: String) { graph = Graph(name: name) }

    /// Adds the parameter as an initializer named as the parameter; returns the name.
    public mutating func initializer(_ v: Variable) -> String { constant(v.name, v.value) }

    /// Adds a constant initializer (a copy of `t`) under `name`.
    public mutating func constant(_ name: String, _ t: Tensor) -> String {
        if graph.initializers[name] == nil { graph.addInitializer(name, t.copy()) }
        return name
    }

    /// Appends a node with one output; returns the output's name.
    public mutating func node(_ op: String, _ inputs: [String], _ attributes: [String: Attribute] = [:], name: String? = nil) -> String {
        counter += 1
        var base = name ?? "\(op.lowercased())_\(counter)"
        if used.contains(base) { base += "_\(counter)" }
        used.insert(base)
        let output = "\(base):0"
        graph.nodes.append(Node(name: base, opType: op, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Renames the producer output `value` to `name` (graph outputs get stable names).
    public mutating func rename(_ value: String, to name: String) {
        for i in graph.nodes.indices {
            graph.nodes[i].outputs = graph.nodes[i].outputs.map { $0 == value ? name : $0 }
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == value ? name : $0 }
        }
    }

    public mutating func setInputs(_ inputs: [ValueInfo]) { graph.inputs = inputs }
    public mutating func setOutputs(_ outputs: [ValueInfo]) { graph.outputs = outputs }

    /// The finished model (IR 8, default opset 17).
    public func model(metadata: [String: String] = [:]) -> Model {
        Model(irVersion: 8, opsets: ["": 17], graph: graph, metadata: metadata)
    }
}
