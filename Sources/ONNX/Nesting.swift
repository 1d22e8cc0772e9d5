// The nesting depth of a serialized ModelProto's recursive messages, measured by an iterative walk of the
// protobuf wire format before protobuf-c unpacks it. protobuf-c (and the decoder after it) recurse once per
// level: a 4.7 MB file of 200 000 graphs nested through If attributes overflowed the stack (SIGSEGV, even in
// `inspect`). Real models nest a few control-flow graphs deep.
//
// Only the fields through which messages recurse are followed (schemas/onnx.proto):
//   ModelProto.graph 7, .functions 25      FunctionProto.node 7, .attribute_proto 11, .value_info 12
//   GraphProto.node 1, .input 11, .output 12, .value_info 13      NodeProto.attribute 5
//   AttributeProto.g 6, .graphs 11, .tp 14, .type_protos 15      ValueInfoProto.type 2
//   TypeProto.sequence_type 4, .map_type 5, .optional_type 9     Sequence/Optional.elem_type 1, Map.value_type 2
// Anything malformed ends the walk; protobuf-c then reports it.

enum Nesting {
    /// Message levels accepted (a graph inside an If inside a graph is three: graph, node, attribute).
    static let limit = 100

    private enum Kind { case model, function, graph, node, attribute, valueInfo, type, sequence, map, optional }

    private static func child(_ kind: Kind, _ field: UInt64) -> Kind? {
        switch (kind, field) {
        case (.model, 7): .graph
        case (.model, 25): .function
        case (.function, 7): .node
        case (.function, 11): .attribute
        case (.function, 12): .valueInfo
        case (.graph, 1): .node
        case (.graph, 11), (.graph, 12), (.graph, 13): .valueInfo
        case (.node, 5): .attribute
        case (.attribute, 6), (.attribute, 11): .graph
        case (.attribute, 14), (.attribute, 15): .type
        case (.valueInfo, 2): .type
        case (.type, 4): .sequence
        case (.type, 5): .map
        case (.type, 9): .optional
        case (.sequence, 1), (.optional, 1), (.map, 2): .type
        default: nil
        }
    }

    /// The deepest message level in `bytes` (a ModelProto), or `limit + 1` as soon as the limit is passed.
    static func depth(ofModel bytes: UnsafeRawBufferPointer) -> Int {
        var stack: [(kind: Kind, end: Int)] = [(.model, bytes.count)]
        var deepest = 1, at = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while at < bytes.count, shift < 64 {
                let b = bytes[at]
                at += 1
                value |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while let top = stack.last {
            if at >= top.end {
                stack.removeLast()
                continue
            }
            // A varint may run past the end of its message: malformed, protobuf-c's to refuse.
            guard let tag = varint(), at <= top.end else { return deepest }
            let skip: Int
            switch tag & 7 {
            case 0: guard varint() != nil else { return deepest }; continue
            case 1: skip = 8
            case 5: skip = 4
            case 2:
                guard let length = varint(), at <= top.end, length <= UInt64(top.end - at) else { return deepest }
                if let kind = child(top.kind, tag >> 3) {
                    stack.append((kind, at + Int(length)))
                    deepest = max(deepest, stack.count)
                    if deepest > limit { return deepest }
                    continue
                }
                skip = Int(length)
            default: return deepest  // groups (3, 4) and invalid wire types: protobuf-c's to refuse
            }
            guard skip <= top.end - at else { return deepest }
            at += skip
        }
        return deepest
    }
}
