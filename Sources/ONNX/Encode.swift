import CProtobufC
import Foundation
import ONNXProto
import Tensor

/// Encoding `Model` and `Tensor` values to ONNX protobuf bytes with protobuf-c.
///
/// The C message structs are built in an `Arena` that owns every allocation and frees them all
/// once the bytes are packed. Tensors are written as `raw_data` (little-endian), strings as `string_data`.
extension Model {
    public func serialized() -> Data {
        let arena = Arena()
        let m = arena.make(Onnx__ModelProto.self, onnx__model_proto__init)
        m.pointee.has_ir_version = 1
        m.pointee.ir_version = Int64(irVersion)
        m.pointee.producer_name = arena.string(producerName)
        m.pointee.producer_version = arena.string(producerVersion)
        let opsetList = opsets.sorted { $0.key < $1.key }.map { domain, version in
            let o = arena.make(Onnx__OperatorSetIdProto.self, onnx__operator_set_id_proto__init)
            o.pointee.domain = arena.string(domain)
            o.pointee.has_version = 1
            o.pointee.version = Int64(version)
            return o
        }
        (m.pointee.n_opset_import, m.pointee.opset_import) = arena.array(opsetList)
        let props = metadata.sorted { $0.key < $1.key }.map { arena.entry($0.key, $0.value) }
        (m.pointee.n_metadata_props, m.pointee.metadata_props) = arena.array(props)
        m.pointee.graph = arena.graph(graph)
        let size = onnx__model_proto__get_packed_size(m)
        var data = Data(count: size)
        data.withUnsafeMutableBytes { raw in
            _ = onnx__model_proto__pack(m, raw.bindMemory(to: UInt8.self).baseAddress)
        }
        return data
    }

    /// Writes the model to `path` atomically (temporary file, then rename).
    public func write(to path: String) throws {
        try writeAtomically(serialized(), to: path)
    }
}

extension Tensor {
    /// This tensor as a serialized ONNX `TensorProto` (`.pb` test-data file).
    public func tensorProtoBytes(name: String = "") -> Data {
        let arena = Arena()
        let t = arena.tensor(self, name: name)
        let size = onnx__tensor_proto__get_packed_size(t)
        var data = Data(count: size)
        data.withUnsafeMutableBytes { raw in
            _ = onnx__tensor_proto__pack(t, raw.bindMemory(to: UInt8.self).baseAddress)
        }
        return data
    }
}

/// Writes `data` to a temporary file beside `path` and renames it into place, so that a failed write
/// (full disk, interrupted process) never leaves a half-written file under the final name.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temp = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    do {
        try data.write(to: temp)
    } catch {
        try? FileManager.default.removeItem(at: temp)
        throw ONNXError.writeFailed(path: path, reason: error.localizedDescription)
    }
    if rename(temp.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temp)
        throw ONNXError.writeFailed(path: path, reason: reason)
    }
}

/// Owns the C allocations of one encoding.
final class Arena {
    private var frees: [() -> Void] = []
    deinit { for f in frees { f() } }

    func make<T>(_ type: T.Type, _ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        initialize(p)
        frees.append { p.deallocate() }
        return p
    }

    func buffer<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        if values.isEmpty { return nil }
        let p = UnsafeMutablePointer<T>.allocate(capacity: values.count)
        p.initialize(from: values, count: values.count)
        frees.append { p.deallocate() }
        return p
    }

    func array<T>(_ values: [UnsafeMutablePointer<T>]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) {
        (values.count, buffer(values.map { Optional($0) }))
    }

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        frees.append { free(p) }
        return p
    }

    func binary(_ bytes: UnsafeRawBufferPointer) -> ProtobufCBinaryData {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        if let base = bytes.baseAddress, bytes.count > 0 { p.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        frees.append { p.deallocate() }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    func binary(_ s: String) -> ProtobufCBinaryData {
        var s = s
        return s.withUTF8 { binary(UnsafeRawBufferPointer($0)) }
    }

    func entry(_ key: String, _ value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let e = make(Onnx__StringStringEntryProto.self, onnx__string_string_entry_proto__init)
        e.pointee.key = string(key)
        e.pointee.value = string(value)
        return e
    }

    func tensor(_ t: Tensor, name: String) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let p = make(Onnx__TensorProto.self, onnx__tensor_proto__init)
        p.pointee.name = string(name)
        p.pointee.has_data_type = 1
        p.pointee.data_type = Int32(t.dtype.onnxCode)
        p.pointee.n_dims = t.rank
        p.pointee.dims = buffer(t.shape.map { Int64($0) })
        if t.dtype == .string {
            let strings = t.strings.map { binary($0) }
            p.pointee.n_string_data = strings.count
            p.pointee.string_data = buffer(strings)
        } else {
            p.pointee.has_raw_data = 1
            p.pointee.raw_data = binary(UnsafeRawBufferPointer(start: t.storage.pointer, count: t.byteCount))
        }
        return p
    }

    func valueInfo(_ v: ValueInfo) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let p = make(Onnx__ValueInfoProto.self, onnx__value_info_proto__init)
        p.pointee.name = string(v.name)
        let type = make(Onnx__TypeProto.self, onnx__type_proto__init)
        let tt = make(Onnx__TypeProto__Tensor.self, onnx__type_proto__tensor__init)
        if let dtype = v.dtype {
            tt.pointee.has_elem_type = 1
            tt.pointee.elem_type = Int32(dtype.onnxCode)
        }
        if let shape = v.shape {
            let s = make(Onnx__TensorShapeProto.self, onnx__tensor_shape_proto__init)
            let dims = shape.map { d in
                let dim = make(Onnx__TensorShapeProto__Dimension.self, onnx__tensor_shape_proto__dimension__init)
                switch d {
                case .fixed(let n):
                    dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    dim.pointee.dim_value = Int64(n)
                case .symbol(let name):
                    dim.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    dim.pointee.dim_param = string(name)
                case .unknown: break
                }
                return dim
            }
            (s.pointee.n_dim, s.pointee.dim) = array(dims)
            tt.pointee.shape = s
        }
        type.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
        type.pointee.tensor_type = tt
        p.pointee.type = type
        return p
    }

    func attribute(_ name: String, _ value: Attribute) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let a = make(Onnx__AttributeProto.self, onnx__attribute_proto__init)
        a.pointee.name = string(name)
        a.pointee.has_type = 1
        typealias T = Onnx__AttributeProto__AttributeType
        switch value {
        case .float(let f):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            a.pointee.has_f = 1; a.pointee.f = f
        case .int(let i):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            a.pointee.has_i = 1; a.pointee.i = Int64(i)
        case .string(let s):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            a.pointee.has_s = 1; a.pointee.s = binary(s)
        case .tensor(let t):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            a.pointee.t = tensor(t, name: "")
        case .graph(let g):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
            a.pointee.g = graph(g)
        case .floats(let fs):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            a.pointee.n_floats = fs.count; a.pointee.floats = buffer(fs)
        case .ints(let xs):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            a.pointee.n_ints = xs.count; a.pointee.ints = buffer(xs.map { Int64($0) })
        case .strings(let ss):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            let bs = ss.map { binary($0) }
            a.pointee.n_strings = bs.count; a.pointee.strings = buffer(bs)
        case .tensors(let ts):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS
            (a.pointee.n_tensors, a.pointee.tensors) = array(ts.map { tensor($0, name: "") })
        case .graphs(let gs):
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS
            (a.pointee.n_graphs, a.pointee.graphs) = array(gs.map { graph($0) })
        case .unsupported:
            a.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
        }
        return a
    }

    func node(_ n: Node) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let p = make(Onnx__NodeProto.self, onnx__node_proto__init)
        p.pointee.name = string(n.name)
        p.pointee.op_type = string(n.opType)
        if !n.domain.isEmpty { p.pointee.domain = string(n.domain) }
        (p.pointee.n_input, p.pointee.input) = array(n.inputs.map { string($0) })
        (p.pointee.n_output, p.pointee.output) = array(n.outputs.map { string($0) })
        let attrs = n.attributes.sorted { $0.key < $1.key }.map { attribute($0.key, $0.value) }
        (p.pointee.n_attribute, p.pointee.attribute) = array(attrs)
        return p
    }

    func graph(_ g: Graph) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let p = make(Onnx__GraphProto.self, onnx__graph_proto__init)
        p.pointee.name = string(g.name)
        (p.pointee.n_node, p.pointee.node) = array(g.nodes.map { node($0) })
        let order = g.initializerOrder.filter { g.initializers[$0] != nil }
        (p.pointee.n_initializer, p.pointee.initializer) = array(order.map { tensor(g.initializers[$0]!, name: $0) })
        (p.pointee.n_input, p.pointee.input) = array(g.inputs.map { valueInfo($0) })
        (p.pointee.n_output, p.pointee.output) = array(g.outputs.map { valueInfo($0) })
        (p.pointee.n_value_info, p.pointee.value_info) = array(g.valueInfos.map { valueInfo($0) })
        return p
    }
}
