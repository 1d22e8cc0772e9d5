import ONNX
import Tensor

/// Errors from planning and running a graph. Each names the node (`Conv "down3"`) or value involved and,
/// where one exists, a hint.
public enum RuntimeError: Error, CustomStringConvertible {
    case unknownOperator(node: String, opType: String, domain: String, opset: Int)
    case unsupportedOpset(node: String, opType: String, domain: String, opset: Int)
    case missingDomain(node: String, domain: String)
    case missingValue(node: String, value: String)
    case duplicateValue(value: String, node: String)
    case cycle(nodes: [String])
    case badGraphInput(name: String, reason: String)
    case missingGraphInput(name: String)
    case wrongInputCount(expected: [String], got: Int)
    case missingGraphOutput(name: String)
    case nodeFailed(node: String, message: String)
    case overBudget(message: String)

    public var description: String {
        switch self {
        case .unknownOperator(let node, let opType, let domain, let opset):
            "\(node): operator \(domain.isEmpty ? "" : domain + ".")\(opType) (opset \(opset)) is not implemented by this runtime"
        case .unsupportedOpset(let node, let opType, let domain, let opset):
            "\(node): \(domain.isEmpty ? "" : domain + ".")\(opType) is implemented, but not its opset \(opset) version; re-export the model at another opset"
        case .missingDomain(let node, let domain):
            "\(node): the model imports no opset for domain \"\(domain)\""
        case .missingValue(let node, let value):
            "\(node): input \"\(value)\" is not a graph input, an initializer, or the output of any node"
        case .duplicateValue(let value, let node):
            "\(node): output \"\(value)\" is already produced by another node or is a graph input"
        case .cycle(let nodes):
            "the graph has a cycle through \(nodes.prefix(5).joined(separator: ", "))\(nodes.count > 5 ? ", ..." : "")"
        case .badGraphInput(let name, let reason): "graph input \"\(name)\": \(reason)"
        case .missingGraphInput(let name): "graph input \"\(name)\" was not given a value"
        case .wrongInputCount(let expected, let got):
            "the model takes \(expected.count) input(s) (\(expected.joined(separator: ", "))), got \(got)"
        case .missingGraphOutput(let name): "graph output \"\(name)\" is not produced by any node, input or initializer"
        case .nodeFailed(let node, let message): "\(node): \(message)"
        case .overBudget(let message): message
        }
    }
}
