/// Errors from decoding, encoding and validating ONNX files. Each names what and where.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(String)
    case unsupportedDataType(tensor: String, code: Int)
    case badTensor(name: String, reason: String)
    case badAttribute(node: String, attribute: String, reason: String)
    case externalData(tensor: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .malformed(let what): "not a valid ONNX file: \(what)"
        case .unsupportedDataType(let tensor, let code):
            "tensor \"\(tensor)\" has element type \(Self.dataTypeName(code)) (code \(code)), which this runtime does not carry"
        case .badTensor(let name, let reason): "tensor \"\(name)\": \(reason)"
        case .badAttribute(let node, let attribute, let reason): "\(node): attribute \"\(attribute)\" \(reason)"
        case .externalData(let tensor, let reason): "external data of tensor \"\(tensor)\": \(reason)"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        }
    }

    static func dataTypeName(_ code: Int) -> String {
        let names = [0: "UNDEFINED", 14: "COMPLEX64", 15: "COMPLEX128", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ",
                     19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
                     24: "FLOAT8E8M0"]
        return names[code] ?? "unknown"
    }
}
