import Tensor

/// Typed attribute access. Operators read their attributes once, when they are built from the node;
/// a wrong kind or a missing required attribute is an `ONNXError.badAttribute` naming the node.
extension Node {
    public func has(_ name: String) -> Bool { attributes[name] != nil }

    public func int(_ name: String) throws -> Int? {
        switch attributes[name] {
        case nil: return nil
        case .int(let v): return v
        case .some(let other): throw kindError(name, "int", other)
        }
    }
    public func int(_ name: String, default value: Int) throws -> Int { try int(name) ?? value }

    public func float(_ name: String) throws -> Float? {
        switch attributes[name] {
        case nil: return nil
        case .float(let v): return v
        case .int(let v): return Float(v)
        case .some(let other): throw kindError(name, "float", other)
        }
    }
    public func float(_ name: String, default value: Float) throws -> Float { try float(name) ?? value }

    public func string(_ name: String) throws -> String? {
        switch attributes[name] {
        case nil: return nil
        case .string(let v): return v
        case .some(let other): throw kindError(name, "string", other)
        }
    }
    public func string(_ name: String, default value: String) throws -> String { try string(name) ?? value }

    public func ints(_ name: String) throws -> [Int]? {
        switch attributes[name] {
        case nil: return nil
        case .ints(let v): return v
        case .int(let v): return [v]
        case .some(let other): throw kindError(name, "ints", other)
        }
    }
    public func floats(_ name: String) throws -> [Float]? {
        switch attributes[name] {
        case nil: return nil
        case .floats(let v): return v
        case .float(let v): return [v]
        case .some(let other): throw kindError(name, "floats", other)
        }
    }
    public func strings(_ name: String) throws -> [String]? {
        switch attributes[name] {
        case nil: return nil
        case .strings(let v): return v
        case .string(let v): return [v]
        case .some(let other): throw kindError(name, "strings", other)
        }
    }
    public func tensor(_ name: String) throws -> Tensor? {
        switch attributes[name] {
        case nil: return nil
        case .tensor(let v): return v
        case .some(let other): throw kindError(name, "tensor", other)
        }
    }

    /// A required attribute that is missing.
    public func missing(_ name: String) -> ONNXError {
        .badAttribute(node: label, attribute: name, reason: "is required but missing")
    }

    /// An attribute whose value the operator cannot accept.
    public func invalid(_ name: String, _ reason: String) -> ONNXError {
        .badAttribute(node: label, attribute: name, reason: reason)
    }

    private func kindError(_ name: String, _ want: String, _ got: Attribute) -> ONNXError {
        .badAttribute(node: label, attribute: name, reason: "should be \(want), file has \(got.kindName)")
    }
}
