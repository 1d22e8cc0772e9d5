import CProtobufC
import Foundation
import ONNXProto
import Tensor

/// Decoding `.onnx` bytes (protobuf-c) into `Model` values.
///
/// protobuf-c returns NULL on any malformed or truncated input, so a corrupt file becomes
/// `ONNXError.malformed` rather than a crash. Everything is copied out of the C structures before
/// they are freed: `raw_data` has no alignment promise, and tensors own aligned storage.
extension Model {
    /// Decodes the model at `path`. External tensor data is resolved relative to the file's folder.
    public init(contentsOf path: String) throws {
        // The file's bytes are released as soon as protobuf-c has unpacked them (it copies what it keeps).
        let proto: UnsafeMutablePointer<Onnx__ModelProto> = try {
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file"
                throw ONNXError.unreadable(path: path, reason: reason)
            }
            return try Model.unpack(data)
        }()
        defer { onnx__model_proto__free_unpacked(proto, nil) }
        let folder = (path as NSString).deletingLastPathComponent
        try self.init(proto: proto.pointee, externalDataFolder: folder.isEmpty ? "." : folder)
    }

    /// Decodes serialized `ModelProto` bytes.
    public init(bytes: Data, externalDataFolder: String? = nil) throws {
        let proto = try Model.unpack(bytes)
        defer { onnx__model_proto__free_unpacked(proto, nil) }
        try self.init(proto: proto.pointee, externalDataFolder: externalDataFolder)
    }

    /// The unpacked message of serialized `ModelProto` bytes (the caller frees it), after the nesting check.
    static func unpack(_ bytes: Data) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
        if bytes.isEmpty { throw ONNXError.malformed("the file is empty") }
        let depth = bytes.withUnsafeBytes { Nesting.depth(ofModel: $0) }
        if depth > Nesting.limit {
            throw ONNXError.malformed("its messages nest more than \(Nesting.limit) levels deep (graphs inside "
                + "attributes, or types inside types); real models nest a few levels")
        }
        let proto: UnsafeMutablePointer<Onnx__ModelProto>? = bytes.withUnsafeBytes { raw in
            onnx__model_proto__unpack(nil, raw.count, raw.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let proto else {
            throw ONNXError.malformed("protobuf decoding failed (truncated or corrupted file, or not ONNX) at \(bytes.count) bytes")
        }
        return proto
    }

    init(proto m: Onnx__ModelProto, externalDataFolder: String?) throws {
        guard let g = m.graph else { throw ONNXError.malformed("the model has no graph") }
        var opsets: [String: Int] = [:]
        for i in 0..<m.n_opset_import {
            guard let op = m.opset_import[i] else { continue }
            var domain = cString(op.pointee.domain)
            if domain == "ai.onnx" { domain = "" }
            opsets[domain] = Int(op.pointee.version)
        }
        // IR version 3 models may omit opset_import... they must not, but be lenient: assume opset 1.
        if opsets.isEmpty { opsets[""] = 1 }
        var metadata: [String: String] = [:]
        for i in 0..<m.n_metadata_props {
            if let e = m.metadata_props[i] { metadata[cString(e.pointee.key)] = cString(e.pointee.value) }
        }
        let decoder = ProtoDecoder(externalDataFolder: externalDataFolder)
        self.init(irVersion: Int(m.ir_version), opsets: opsets, producerName: cString(m.producer_name),
                  producerVersion: cString(m.producer_version), graph: try decoder.graph(g.pointee),
                  metadata: metadata)
    }
}

extension Tensor {
    /// Decodes a serialized ONNX `TensorProto` (a `.pb` test-data file).
    public init(tensorProtoBytes bytes: Data, name: String = "tensor") throws {
        let proto: UnsafeMutablePointer<Onnx__TensorProto>? = bytes.withUnsafeBytes { raw in
            onnx__tensor_proto__unpack(nil, raw.count, raw.bindMemory(to: UInt8.self).baseAddress)
        }
        guard let proto else { throw ONNXError.malformed("\(name) is not a valid TensorProto") }
        defer { onnx__tensor_proto__free_unpacked(proto, nil) }
        self = try ProtoDecoder(externalDataFolder: nil).tensor(proto.pointee)
    }
}

@inline(__always)
func cString(_ p: UnsafeMutablePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(cString: p)
}

func bytesString(_ b: ProtobufCBinaryData) -> String {
    guard let data = b.data, b.len > 0 else { return "" }
    return String(decoding: UnsafeBufferPointer(start: data, count: b.len), as: UTF8.self)
}

struct ProtoDecoder {
    let externalDataFolder: String?

    func graph(_ g: Onnx__GraphProto) throws -> Graph {
        var graph = Graph(name: cString(g.name))
        for i in 0..<g.n_initializer {
            guard let t = g.initializer[i] else { continue }
            let tensor = try tensor(t.pointee)
            graph.addInitializer(cString(t.pointee.name), tensor)
            // The weights are in the tensor now: give their bytes in the unpacked message back at once, so a
            // model's weights are held about once while it decodes, not twice (protobuf-c's default allocator
            // is malloc/free; free_unpacked skips a NULL buffer).
            if t.pointee.has_raw_data != 0, let bytes = t.pointee.raw_data.data {
                free(bytes)
                t.pointee.raw_data.data = nil
                t.pointee.raw_data.len = 0
            }
        }
        if g.n_sparse_initializer > 0 {
            throw ONNXError.malformed("graph \"\(graph.name)\" has sparse initializers, which this runtime does not support")
        }
        graph.inputs = try (0..<g.n_input).compactMap { g.input[$0] }.map { try valueInfo($0.pointee) }
        graph.outputs = try (0..<g.n_output).compactMap { g.output[$0] }.map { try valueInfo($0.pointee) }
        graph.valueInfos = try (0..<g.n_value_info).compactMap { g.value_info[$0] }.map { try valueInfo($0.pointee) }
        graph.nodes = try (0..<g.n_node).compactMap { g.node[$0] }.map { try node($0.pointee) }
        return graph
    }

    func node(_ n: Onnx__NodeProto) throws -> Node {
        var node = Node(name: cString(n.name), opType: cString(n.op_type), domain: cString(n.domain),
                        inputs: (0..<n.n_input).map { cString(n.input[$0]) },
                        outputs: (0..<n.n_output).map { cString(n.output[$0]) })
        if node.domain == "ai.onnx" { node.domain = "" }
        for i in 0..<n.n_attribute {
            guard let a = n.attribute[i] else { continue }
            do {
                node.attributes[cString(a.pointee.name)] = try attribute(a.pointee)
            } catch let error as ONNXError {
                throw ONNXError.badAttribute(node: node.label, attribute: cString(a.pointee.name), reason: "\(error)")
            }
        }
        return node
    }

    func attribute(_ a: Onnx__AttributeProto) throws -> Attribute {
        var type = a.has_type != 0 ? Int(a.type.rawValue) : 0
        if type == 0 {
            // IR < 3 files may omit `type`: infer it from which field is set.
            if a.has_f != 0 { type = 1 } else if a.has_i != 0 { type = 2 } else if a.has_s != 0 { type = 3 }
            else if a.t != nil { type = 4 } else if a.g != nil { type = 5 } else if a.n_floats > 0 { type = 6 }
            else if a.n_ints > 0 { type = 7 } else if a.n_strings > 0 { type = 8 } else if a.n_tensors > 0 { type = 9 }
        }
        switch type {
        case 1: return .float(a.f)
        case 2: return .int(Int(a.i))
        case 3: return .string(bytesString(a.s))
        case 4:
            guard let t = a.t else { throw ONNXError.malformed("tensor attribute without a tensor") }
            return .tensor(try tensor(t.pointee))
        case 5:
            guard let g = a.g else { throw ONNXError.malformed("graph attribute without a graph") }
            return .graph(try graph(g.pointee))
        case 6: return .floats(Array(UnsafeBufferPointer(start: a.floats, count: a.n_floats)))
        case 7: return .ints(UnsafeBufferPointer(start: a.ints, count: a.n_ints).map { Int($0) })
        case 8: return .strings((0..<a.n_strings).map { bytesString(a.strings[$0]) })
        case 9: return .tensors(try (0..<a.n_tensors).compactMap { a.tensors[$0] }.map { try tensor($0.pointee) })
        case 10: return .graphs(try (0..<a.n_graphs).compactMap { a.graphs[$0] }.map { try graph($0.pointee) })
        case 11: return .unsupported("sparse_tensor")
        case 12: return .unsupported("sparse_tensors")
        case 13: return .unsupported("type_proto")
        case 14: return .unsupported("type_protos")
        default: return .ints([])  // an empty list attribute: type lost, value empty either way
        }
    }

    func valueInfo(_ v: Onnx__ValueInfoProto) throws -> ValueInfo {
        let name = cString(v.name)
        guard let type = v.type, type.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tt = type.pointee.tensor_type else {
            return ValueInfo(name: name, dtype: nil, shape: nil)
        }
        let dtype = tt.pointee.has_elem_type != 0 ? DType(onnxCode: Int(tt.pointee.elem_type)) : nil
        var shape: [Dimension]? = nil
        if let s = tt.pointee.shape {
            shape = (0..<s.pointee.n_dim).map { i in
                guard let d = s.pointee.dim[i] else { return .unknown }
                switch d.pointee.value_case {
                case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                    // Some exporters (paddle2onnx) write -1 for a dynamic axis; onnxruntime reads any negative
                    // dim_value as unknown, and so does this decoder.
                    return d.pointee.dim_value < 0 ? .unknown : .fixed(Int(d.pointee.dim_value))
                case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                    let p = cString(d.pointee.dim_param)
                    return p.isEmpty ? .unknown : .symbol(p)
                default: return .unknown
                }
            }
        }
        return ValueInfo(name: name, dtype: dtype, shape: shape)
    }

    func tensor(_ t: Onnx__TensorProto) throws -> Tensor {
        let name = cString(t.name)
        let code = Int(t.data_type)
        guard let dtype = DType(onnxCode: code) else { throw ONNXError.unsupportedDataType(tensor: name, code: code) }
        let shape = (0..<t.n_dims).map { Int(t.dims[$0]) }
        if shape.contains(where: { $0 < 0 }) {
            throw ONNXError.badTensor(name: name, reason: "negative dimension in \(shape)")
        }
        // Every size is checked against what the file holds *before* allocating: a few bytes may declare
        // 10^12 elements.
        guard let count = checkedElementCount(shape), count.multipliedReportingOverflow(by: max(dtype.size, 1)).overflow == false else {
            throw ONNXError.badTensor(name: name, reason: "shape \(shape) has more elements than 64 bits can count")
        }
        let byteCount = count * dtype.size
        if t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            return try externalTensor(t, name: name, shape: shape, dtype: dtype, count: count)
        }
        if dtype == .string {
            guard t.n_string_data == count else {
                throw ONNXError.badTensor(name: name, reason: "shape \(shape) needs \(count) strings, file has \(t.n_string_data)")
            }
            return Tensor(shape: shape, strings: (0..<count).map { bytesString(t.string_data[$0]) })
        }
        if t.has_raw_data != 0 {
            guard t.raw_data.len == byteCount else {
                throw ONNXError.badTensor(name: name,
                    reason: "raw_data holds \(t.raw_data.len) bytes, shape \(shape) of \(dtype) needs \(byteCount)")
            }
            let out = try allocate(shape, dtype, name)
            if byteCount > 0, let src = t.raw_data.data { out.storage.pointer.copyMemory(from: src, byteCount: byteCount) }
            return out
        }
        let (field, present) = typedField(t, dtype)
        // An initializer with no data at all is an empty/zero tensor only when count is 0.
        guard present == count else {
            throw ONNXError.badTensor(name: name, reason: "shape \(shape) needs \(count) values, \(field) has \(present)")
        }
        let out = try allocate(shape, dtype, name)
        let p = out.storage.pointer
        switch dtype {
        case .float32:
            if count > 0 { p.copyMemory(from: t.float_data, byteCount: byteCount) }
        case .float64:
            if count > 0 { p.copyMemory(from: t.double_data, byteCount: byteCount) }
        case .int64:
            if count > 0 { p.copyMemory(from: t.int64_data, byteCount: byteCount) }
        case .uint32, .uint64:
            for i in 0..<count {
                if dtype == .uint32 { p.storeBytes(of: UInt32(truncatingIfNeeded: t.uint64_data[i]), toByteOffset: 4 * i, as: UInt32.self) }
                else { p.storeBytes(of: t.uint64_data[i], toByteOffset: 8 * i, as: UInt64.self) }
            }
        case .int32, .int16, .int8, .uint16, .uint8, .bool, .float16, .bfloat16:
            // These all travel in int32_data; 16-bit floats as their bit patterns.
            for i in 0..<count {
                let v = t.int32_data[i]
                switch dtype.size {
                case 4: p.storeBytes(of: v, toByteOffset: 4 * i, as: Int32.self)
                case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v), toByteOffset: 2 * i, as: UInt16.self)
                default:
                    let byte = dtype == .bool ? UInt8(v != 0 ? 1 : 0) : UInt8(truncatingIfNeeded: v)
                    p.storeBytes(of: byte, toByteOffset: i, as: UInt8.self)
                }
            }
        case .string: break
        }
        return out
    }

    /// The typed-data field a tensor of `dtype` stores its values in, and how many values it holds.
    func typedField(_ t: Onnx__TensorProto, _ dtype: DType) -> (String, Int) {
        switch dtype {
        case .float32: ("float_data", t.n_float_data)
        case .float64: ("double_data", t.n_double_data)
        case .int64: ("int64_data", t.n_int64_data)
        case .uint32, .uint64: ("uint64_data", t.n_uint64_data)
        case .string: ("string_data", t.n_string_data)
        default: ("int32_data", t.n_int32_data)
        }
    }

    /// Storage for a tensor whose data the file was shown to hold, within the memory budget.
    func allocate(_ shape: [Int], _ dtype: DType, _ name: String) throws -> Tensor {
        try checkBudget(shape, dtype, name)
        return Tensor(uninitialized: shape, dtype: dtype)
    }

    func checkBudget(_ shape: [Int], _ dtype: DType, _ name: String) throws {
        do {
            try MemoryBudget.current.check(shape: shape, dtype: dtype, what: "the tensor")
        } catch {
            throw ONNXError.badTensor(name: name, reason: error.message)
        }
    }

    func externalTensor(_ t: Onnx__TensorProto, name: String, shape: [Int], dtype: DType, count: Int) throws -> Tensor {
        var location = "", offset = 0, length: Int? = nil
        for i in 0..<t.n_external_data {
            guard let e = t.external_data[i] else { continue }
            let key = cString(e.pointee.key), value = cString(e.pointee.value)
            switch key {
            case "location": location = value
            case "offset": offset = Int(value) ?? -1
            case "length": length = Int(value)
            default: break
            }
        }
        guard let folder = externalDataFolder else {
            throw ONNXError.externalData(tensor: name, reason: "the tensor refers to external data but no model folder is known")
        }
        guard !location.isEmpty, !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ONNXError.externalData(tensor: name, reason: "location \"\(location)\" must be a relative path inside the model's folder")
        }
        guard offset >= 0 else { throw ONNXError.externalData(tensor: name, reason: "bad offset") }
        let byteCount = count * dtype.size
        try checkBudget(shape, dtype, name)
        let path = folder + "/" + location
        // A symbolic link inside the folder must not lead out of it either (a crafted model could read any
        // file the user can into a tensor).
        let root = URL(fileURLWithPath: folder).resolvingSymlinksInPath().path
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw ONNXError.externalData(tensor: name, reason: "location \"\(location)\" leads outside the model's folder (to \(resolved))")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder), !isFolder.boolValue,
              (try? FileManager.default.attributesOfItem(atPath: resolved)[.type] as? FileAttributeType) == .typeRegular else {
            throw ONNXError.externalData(tensor: name, reason: "\(path) is missing or not a regular file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ONNXError.externalData(tensor: name, reason: "cannot open \(path)")
        }
        defer { try? handle.close() }
        if let length, length != byteCount {
            throw ONNXError.externalData(tensor: name, reason: "length \(length) does not match shape \(shape) of \(dtype) (\(byteCount) bytes)")
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if let fileSize, (checkedSum(offset, byteCount) ?? .max) > fileSize {
            throw ONNXError.externalData(tensor: name,
                reason: "\(path) holds \(fileSize) bytes; shape \(shape) of \(dtype) at offset \(offset) needs \(byteCount) after it")
        }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.read(upToCount: byteCount) ?? Data()
        guard data.count == byteCount else {
            throw ONNXError.externalData(tensor: name, reason: "\(path) ends after \(data.count) of \(byteCount) bytes at offset \(offset)")
        }
        let out = Tensor(uninitialized: shape, dtype: dtype)
        data.withUnsafeBytes { raw in
            if byteCount > 0 { out.storage.pointer.copyMemory(from: raw.baseAddress!, byteCount: byteCount) }
        }
        return out
    }
}
