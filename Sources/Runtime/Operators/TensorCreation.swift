import ONNX
import Tensor

// Operators that make tensors from attributes and shapes: Constant, ConstantOfShape, Range, EyeLike.

let tensorCreationOperators: [Registration] = [
    Registration("Constant", since: 1) { ctx in try ConstantOperator(ctx) },
    Registration("ConstantOfShape", since: 9) { ctx in try ConstantOfShapeOperator(ctx) },
    Registration("Range", since: 11) { _ in RangeOperator() },
    Registration("EyeLike", since: 9) { ctx in try EyeLikeOperator(ctx) },
]

/// Constant: the tensor held by exactly one of `value`, `value_float(s)`, `value_int(s)`, `value_string(s)`.
struct ConstantOperator: Operator {
    let value: Tensor

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] { [value.shape] }

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        if let t = try node.tensor("value") {
            value = t
        } else if let v = try node.float("value_float"), case .float = node.attributes["value_float"] {
            value = Tensor(scalar: v)
        } else if case .floats(let v)? = node.attributes["value_floats"] {
            value = Tensor(shape: [v.count], floats: v)
        } else if case .int(let v)? = node.attributes["value_int"] {
            value = Tensor(scalar: Int64(v))
        } else if case .ints(let v)? = node.attributes["value_ints"] {
            value = Tensor(shape: [v.count], scalars: v.map { Int64($0) })
        } else if case .string(let v)? = node.attributes["value_string"] {
            value = Tensor(shape: [], strings: [v])
        } else if case .strings(let v)? = node.attributes["value_strings"] {
            value = Tensor(shape: [v.count], strings: v)
        } else if node.has("sparse_value") {
            throw node.invalid("sparse_value", "is a sparse tensor, which this runtime does not support")
        } else {
            throw node.missing("value")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}

/// ConstantOfShape: a tensor of the shape given by the input, filled with the one-element `value`
/// (float32 0 by default).
struct ConstantOfShapeOperator: Operator {
    let value: Tensor
    init(_ ctx: OperatorContext) throws {
        let v = try ctx.node.tensor("value") ?? Tensor(scalar: Float(0))
        guard v.count == 1 else { throw ctx.node.invalid("value", "must hold one element; it has \(v.count)") }
        value = v.reshaped([])
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let shape = try inputs.required(0, "input").ints()
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("shape \(shapeString(shape)) has a negative dimension")
        }
        try requireAllocatable(shape, value.dtype)
        return [broadcasted(value, to: shape)]
    }
}

/// Range: start, start + delta, ... while before limit; count max(ceil((limit - start) / delta), 0).
/// The three scalar inputs share the output's type.
struct RangeOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let start = try inputs.required(0, "start"), limit = try inputs.required(1, "limit")
        let delta = try inputs.required(2, "delta")
        guard start.count == 1, limit.count == 1, delta.count == 1 else {
            throw KernelError("start, limit and delta must be scalars")
        }
        let dtype = start.dtype
        if dtype.isInteger {
            let (s, l, d) = (start.ints()[0], limit.ints()[0], delta.ints()[0])
            guard d != 0 else { throw KernelError("delta is 0") }
            // ceil((l - s) / d) in Double: exact enough to refuse, never overflowing.
            let estimate = ((Double(l) - Double(s)) / Double(d)).rounded(.up)
            try requireAllocatable([estimate > 0 ? Int(min(estimate, 9e18)) : 0], dtype)
            let n = max(0, (l - s + d + (d > 0 ? -1 : 1)) / d)
            return [tensorFromDoubles((0..<n).map { Double(s + $0 * d) }, shape: [n], dtype: dtype, rounding: false)]
        }
        let (s, l, d) = (start.doubles()[0], limit.doubles()[0], delta.doubles()[0])
        guard d != 0, s.isFinite, l.isFinite, d.isFinite else {
            throw KernelError("start \(s), limit \(l) and delta \(d) do not make a finite range")
        }
        let estimate = ((l - s) / d).rounded(.up)
        try requireAllocatable([estimate > 0 ? Int(min(estimate, 9e18)) : 0], dtype)
        let n = estimate > 0 ? Int(estimate) : 0
        return [tensorFromDoubles((0..<n).map { s + Double($0) * d }, shape: [n], dtype: dtype, rounding: false)]
    }
}

/// EyeLike: a 2-D tensor of the input's shape with ones on diagonal `k` (k > 0 above the main one),
/// of type `dtype` (default: the input's).
struct EyeLikeOperator: Operator {
    let k: Int
    let dtype: DType?
    init(_ ctx: OperatorContext) throws {
        k = try ctx.node.int("k", default: 0)
        if let code = try ctx.node.int("dtype") {
            guard let d = DType(onnxCode: code), d != .string else {
                throw ctx.node.invalid("dtype", "is type code \(code), which EyeLike cannot produce")
            }
            dtype = d
        } else {
            dtype = nil
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        guard x.rank == 2 else { throw KernelError("input \(shapeString(x.shape)) must be 2-D") }
        let (rows, columns) = (x.shape[0], x.shape[1])
        var values = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows where i + k >= 0 && i + k < columns { values[i * columns + i + k] = 1 }
        return [tensorFromDoubles(values, shape: x.shape, dtype: dtype ?? x.dtype, rounding: false)]
    }
}
