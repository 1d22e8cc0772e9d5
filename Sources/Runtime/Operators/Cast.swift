import ONNX
import Tensor

// Cast and CastLike: element-type conversion by the rules in Sources/Tensor/Convert.swift.
// NOTE: float8, float4, int4/int2 and the like are not `DType`s here: a model casting to them fails at load
// with a message naming the type. `saturate` (19+) and `round_mode` (24+) only concern those types and are
// ignored.

let castOperators: [Registration] = [
    Registration("Cast", 1...5) { ctx in try CastOperator(legacy: ctx) },
    Registration("Cast", since: 6) { ctx in try CastOperator(ctx) },
    Registration("BitCast", since: 26) { ctx in try BitCastOperator(ctx) },
    Registration("CastLike", since: 15) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "input"), like = try inputs.required(1, "target_type")
            return [try withKernelErrors { try x.converted(to: like.dtype) }]
        }
    },
]

private struct CastOperator: ShapePreserving {
    let to: DType

    init(_ ctx: OperatorContext) throws {
        guard let code = try ctx.node.int("to") else { throw ctx.node.missing("to") }
        guard let dtype = DType(onnxCode: code) else {
            throw ctx.node.invalid("to", "is element type \(castTypeName(code)) (code \(code)), which this runtime "
                                   + "does not carry (no float8, float4, int4, int2 or complex types)")
        }
        to = dtype
    }

    /// Opsets 1-5 name the type as a string ("FLOAT", "INT64", ...).
    init(legacy ctx: OperatorContext) throws {
        guard let name = try ctx.node.string("to") else { throw ctx.node.missing("to") }
        let names: [String: DType] = [
            "FLOAT": .float32, "DOUBLE": .float64, "FLOAT16": .float16, "BFLOAT16": .bfloat16, "INT8": .int8,
            "INT16": .int16, "INT32": .int32, "INT64": .int64, "UINT8": .uint8, "UINT16": .uint16,
            "UINT32": .uint32, "UINT64": .uint64, "BOOL": .bool, "STRING": .string,
        ]
        guard let dtype = names[name.uppercased()] else {
            throw ctx.node.invalid("to", "names an element type this runtime does not carry: \"\(name)\"")
        }
        to = dtype
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        return [try withKernelErrors { try x.converted(to: to) }]
    }
}

/// BitCast: the same bytes read as another type of the same width (little endian, as this machine).
/// NOTE: bytes read as bool are normalised to 0 or 1 (a Swift Bool must be one of those).
private struct BitCastOperator: Operator {
    let to: DType

    init(_ ctx: OperatorContext) throws {
        guard let code = try ctx.node.int("to") else { throw ctx.node.missing("to") }
        guard let dtype = DType(onnxCode: code), dtype != .string else {
            throw ctx.node.invalid("to", "is element type \(castTypeName(code)) (code \(code)), which BitCast here "
                                   + "does not produce (no string, float8, float4, int4, int2 or complex types)")
        }
        to = dtype
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        guard x.dtype != .string, x.dtype.size == to.size else {
            throw KernelError("cannot reinterpret \(x.dtype) as \(to): BitCast needs two types of one bit width")
        }
        let out = Tensor(uninitialized: x.shape, dtype: to)
        out.storage.pointer.copyMemory(from: x.storage.pointer, byteCount: x.byteCount)
        if to == .bool {
            let bytes = out.storage.pointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<out.count { bytes[i] = bytes[i] == 0 ? 0 : 1 }
        }
        return [out]
    }
}

private func castTypeName(_ code: Int) -> String {
    let names = [0: "UNDEFINED", 14: "COMPLEX64", 15: "COMPLEX128", 17: "FLOAT8E4M3FN", 18: "FLOAT8E4M3FNUZ",
                 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4", 23: "FLOAT4E2M1",
                 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2"]
    return names[code] ?? "unknown"
}
