import ONNX
import Tensor

/// A ready-to-run operator: built once from its node (attributes parsed and validated, constant weights
/// pre-packed), then run any number of times. `run` touches no strings or dictionaries.
public protocol Operator: Sendable {
    /// Computes the node's outputs. `inputs[i]` is nil when optional input `i` was omitted or is past the
    /// end of the node's input list. Returns one tensor per node output (trailing optional outputs may be
    /// left off). Throw `KernelError` for bad inputs; the engine adds the node's name.
    func run(_ inputs: [Tensor?]) throws -> [Tensor]
    /// What the builder accepted but the user should hear about (a deprecated attribute value run in its
    /// legacy meaning, say). `Plan.warnings` collects them with the node's label; none by default.
    var warnings: [String] { get }
    /// The output shapes `run` gives inputs of these shapes (`shapes[i]` nil: unknown or omitted), with the
    /// inputs known at load time in `constants` — the rule `run` applies, from the attributes `init` parsed.
    /// `ShapeInference` calls it (with sample sizes for symbolic dimensions) for `inspect --shapes`. Entries
    /// left off or nil are unknown; throw `KernelError` where `run` would refuse the shapes. Default: unknown.
    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?]
    /// Floating-point operations of one run (2 per multiply-add of a convolution or matrix product;
    /// element-wise work is not counted, as in the usual GFLOP figures), for `bench`. Default 0.
    func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double
}

extension Operator {
    public var warnings: [String] { [] }
    public func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] { [] }
    public func flops(inputs: [Tensor?], outputs: [Tensor]) -> Double { 0 }
}

/// Operators whose one output has their first input's shape (unary element-wise maps, activations,
/// normalizations, casts).
protocol ShapePreserving: Operator {}

extension ShapePreserving {
    public func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] { [shapes.first ?? nil] }
}

/// Operators whose output is their inputs' multidirectional broadcast (arithmetic, comparison, Where).
protocol Broadcasting: Operator {}

extension Broadcasting {
    public func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard !shapes.isEmpty, shapes.allSatisfy({ $0 != nil }) else { return [] }
        return [try withKernelErrors { try broadcastShape(shapes.map { $0! }) }]
    }
}

/// What an operator's builder sees of its node.
public struct OperatorContext: Sendable {
    public let node: Node
    /// The opset version the model imports for the node's domain.
    public let opset: Int
    /// Inputs whose values are known at load time (initializers and folded constants), by input position.
    public let constants: [Tensor?]
    /// Every opset the model imports (subgraph operators plan their graphs with them).
    public let opsets: [String: Int]

    public init(node: Node, opset: Int, constants: [Tensor?], opsets: [String: Int] = [:]) {
        self.node = node
        self.opset = opset
        self.constants = constants
        self.opsets = opsets.isEmpty ? [node.domain: opset] : opsets
    }

    /// The constant value of input `i`, if it is known at load time.
    public func constant(_ i: Int) -> Tensor? { i < constants.count ? constants[i] : nil }
}

/// A kernel's complaint about its inputs ("input has 3 dimensions, expected 4"). The engine reports it
/// as `RuntimeError.nodeFailed` with the node's label.
public struct KernelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One line of the operator registry: an op type in a domain, the opset versions it implements, and how to
/// build it from a node.
public struct Registration: Sendable {
    public let domain: String
    public let opType: String
    public let versions: ClosedRange<Int>
    public let make: @Sendable (OperatorContext) throws -> any Operator

    public init(_ opType: String, _ versions: ClosedRange<Int>, domain: String = "",
                _ make: @escaping @Sendable (OperatorContext) throws -> any Operator) {
        self.domain = domain
        self.opType = opType
        self.versions = versions
        self.make = make
    }

    /// Registers `opType` for every opset from `since` on.
    public init(_ opType: String, since: Int, domain: String = "",
                _ make: @escaping @Sendable (OperatorContext) throws -> any Operator) {
        self.init(opType, since...Int.max, domain: domain, make)
    }
}

/// An operator given as a closure, for simple kernels; `shape` says how its output's shape follows.
public struct ClosureOperator: Operator {
    public enum ShapeRule: Sendable {
        /// The first input's shape (a unary element-wise map).
        case sameAsInput
        /// Not known without running it.
        case unknown
    }
    let body: @Sendable ([Tensor?]) throws -> [Tensor]
    let shape: ShapeRule
    public init(shape: ShapeRule = .unknown, _ body: @escaping @Sendable ([Tensor?]) throws -> [Tensor]) {
        self.body = body
        self.shape = shape
    }
    public func run(_ inputs: [Tensor?]) throws -> [Tensor] { try body(inputs) }
    public func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        shape == .sameAsInput ? [shapes.first ?? nil] : []
    }
}

/// Input access for kernels.
extension Array where Element == Tensor? {
    /// Input `i`, which must be present.
    @inline(__always)
    public func required(_ i: Int, _ what: String = "") throws -> Tensor {
        guard i < count, let t = self[i] else {
            throw KernelError("required input \(i)\(what.isEmpty ? "" : " (\(what))") is missing")
        }
        return t
    }
    /// Input `i`, or nil when omitted.
    @inline(__always)
    public func optional(_ i: Int) -> Tensor? { i < count ? self[i] : nil }
}
