import Tensor

/// A decoded `.onnx` file: the model header and its main graph.
public struct Model: Sendable {
    public var irVersion: Int
    /// Operator set version per domain ("" and "ai.onnx" are the same default domain).
    public var opsets: [String: Int]
    public var producerName: String
    public var producerVersion: String
    public var graph: Graph
    public var metadata: [String: String]

    public init(irVersion: Int = 10, opsets: [String: Int] = ["": 17], producerName: String = "mangacolor",
                producerVersion: String = "0.1", graph: Graph, metadata: [String: String] = [:]) {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.graph = graph
        self.metadata = metadata
    }

    /// The opset version the model imports for `domain` ("" = the default ONNX domain).
    public func opset(for domain: String) -> Int? {
        let key = (domain == "ai.onnx") ? "" : domain
        return opsets[key]
    }
}

/// A dimension of a declared value shape: a number, a symbol (`"batch"`, `"height"`), or unknown.
public enum Dimension: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    case symbol(String)
    case unknown

    public var description: String {
        switch self {
        case .fixed(let n): String(n)
        case .symbol(let s): s
        case .unknown: "?"
        }
    }
}

/// A graph input, output or value_info entry: a name with a declared element type and (maybe) a shape.
public struct ValueInfo: Sendable {
    public var name: String
    public var dtype: DType?
    /// nil when the producer declared no shape at all (any rank).
    public var shape: [Dimension]?

    public init(name: String, dtype: DType?, shape: [Dimension]?) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    public var typeDescription: String {
        let t = dtype.map { "tensor(\($0.onnxName))" } ?? "tensor(?)"
        guard let shape else { return t }
        return "\(t)[\(shape.map(\.description).joined(separator: ","))]"
    }
}

/// An ONNX graph: nodes in file order, constant initializers, declared inputs and outputs.
public struct Graph: Sendable {
    public var name: String
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    /// Initializer names in file order (the dictionary loses it; encoding keeps it).
    public var initializerOrder: [String]
    /// Declared inputs, including those that are also initializers (IR < 4 lists them all).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var valueInfos: [ValueInfo]

    public init(name: String = "graph", nodes: [Node] = [], initializers: [String: Tensor] = [:],
                initializerOrder: [String]? = nil, inputs: [ValueInfo] = [], outputs: [ValueInfo] = [],
                valueInfos: [ValueInfo] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.initializerOrder = initializerOrder ?? initializers.keys.sorted()
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfos = valueInfos
    }

    /// The inputs a caller must feed: declared inputs that are not initializers.
    public var runtimeInputs: [ValueInfo] {
        inputs.filter { initializers[$0.name] == nil }
    }

    /// Adds an initializer, keeping file order.
    public mutating func addInitializer(_ name: String, _ tensor: Tensor) {
        if initializers[name] == nil { initializerOrder.append(name) }
        initializers[name] = tensor
    }
}

/// One operator application.
public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    /// Input value names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String = "", opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// How errors refer to this node: `Conv "down3"` (or the first output when the node is unnamed).
    public var label: String {
        let id = name.isEmpty ? (outputs.first.map { "-> \($0)" } ?? "?") : name
        return "\(opType) \"\(id)\""
    }
}

/// An attribute value.
public enum Attribute: Sendable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case graph(Graph)
    case floats([Float])
    case ints([Int])
    case strings([String])
    case tensors([Tensor])
    case graphs([Graph])
    /// A kind this package does not use (sparse tensors, type protos); kept so errors can name it.
    case unsupported(String)

    public var kindName: String {
        switch self {
        case .float: "float"
        case .int: "int"
        case .string: "string"
        case .tensor: "tensor"
        case .graph: "graph"
        case .floats: "floats"
        case .ints: "ints"
        case .strings: "strings"
        case .tensors: "tensors"
        case .graphs: "graphs"
        case .unsupported(let k): k
        }
    }
}
