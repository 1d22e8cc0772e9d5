import ONNX
import Tensor

// Comparisons (bool output, numpy broadcasting, every numeric dtype plus bool and string for Equal),
// boolean logic, and Where (three-way broadcast). Opsets before 7 broadcast with `broadcast`/`axis`.

let logicalOperators: [Registration] = [
    Registration("Equal", since: 1) { ctx in try ComparisonOperator(ctx, EqualTo(), "Equal") },
    Registration("Less", since: 1) { ctx in try ComparisonOperator(ctx, LessThan(), "Less") },
    Registration("Greater", since: 1) { ctx in try ComparisonOperator(ctx, GreaterThan(), "Greater") },
    Registration("LessOrEqual", since: 12) { ctx in try ComparisonOperator(ctx, LessOrEqualTo(), "LessOrEqual") },
    Registration("GreaterOrEqual", since: 12) { ctx in
        try ComparisonOperator(ctx, GreaterOrEqualTo(), "GreaterOrEqual")
    },
    Registration("Not", since: 1) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "X")
            guard x.dtype == .bool else { throw elementTypeError("Not", x.dtype) }
            return [x.mapElements(Bool.self, to: Bool.self) { !$0 }]
        }
    },
    Registration("And", since: 1) { ctx in try LogicOperator(ctx, "And") { $0 && $1 } },
    Registration("Or", since: 1) { ctx in try LogicOperator(ctx, "Or") { $0 || $1 } },
    Registration("Xor", since: 1) { ctx in try LogicOperator(ctx, "Xor") { $0 != $1 } },
    Registration("Where", since: 9) { _ in WhereOperator() },
]

private struct EqualTo: ElementComparison { func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool { a == b } }
private struct LessThan: ElementComparison { func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool { a < b } }
private struct GreaterThan: ElementComparison { func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool { a > b } }
private struct LessOrEqualTo: ElementComparison {
    func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool { a <= b }
}
private struct GreaterOrEqualTo: ElementComparison {
    func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool { a >= b }
}

/// NOTE: the generic initializer captures a closure specialised for the comparison (see ArithmeticOperator).
private struct ComparisonOperator: Broadcasting {
    let apply: @Sendable (Tensor, Tensor) throws -> Tensor
    let legacy: LegacyBroadcast

    init<F: ElementComparison>(_ ctx: OperatorContext, _ f: F, _ name: String) throws {
        apply = { a, b in try compareElements(a, b, f, op: name) }
        legacy = try LegacyBroadcast(ctx)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A")
        let b = try legacy.apply(a, try inputs.required(1, "B"))
        return [try apply(a, b)]
    }
}

private struct LogicOperator: Broadcasting {
    let name: String
    let legacy: LegacyBroadcast
    let op: @Sendable (Bool, Bool) -> Bool

    init(_ ctx: OperatorContext, _ name: String, _ op: @escaping @Sendable (Bool, Bool) -> Bool) throws {
        self.name = name
        self.op = op
        legacy = try LegacyBroadcast(ctx)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A")
        let b = try legacy.apply(a, try inputs.required(1, "B"))
        guard a.dtype == .bool, b.dtype == .bool else {
            throw KernelError("\(name) takes bool inputs; got \(a.dtype) and \(b.dtype)")
        }
        return [try withKernelErrors { try broadcastBinary(a, b, Bool.self, Bool.self, Bool.self, op) }]
    }
}

/// Where(condition, X, Y): X where condition, else Y; all three broadcast together.
private struct WhereOperator: Broadcasting {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let c = try inputs.required(0, "condition"), x = try inputs.required(1, "X"), y = try inputs.required(2, "Y")
        guard c.dtype == .bool else { throw KernelError("condition must be bool, got \(c.dtype)") }
        guard x.dtype == y.dtype else { throw KernelError("X and Y must have one element type; got \(x.dtype) and \(y.dtype)") }
        return [try withKernelErrors {
            switch x.dtype {
            case .float32: return try select(c, x, y, Float.self)
            case .float64: return try select(c, x, y, Double.self)
            case .float16: return try select(c, x, y, Float16.self)
            case .bfloat16: return try select(c, x, y, BFloat16.self)
            case .int8: return try select(c, x, y, Int8.self)
            case .int16: return try select(c, x, y, Int16.self)
            case .int32: return try select(c, x, y, Int32.self)
            case .int64: return try select(c, x, y, Int64.self)
            case .uint8: return try select(c, x, y, UInt8.self)
            case .uint16: return try select(c, x, y, UInt16.self)
            case .uint32: return try select(c, x, y, UInt32.self)
            case .uint64: return try select(c, x, y, UInt64.self)
            case .bool: return try select(c, x, y, Bool.self)
            case .string:
                // Select indices with the generic kernel, then gather the strings.
                let ix = Tensor(shape: x.shape, scalars: (0..<x.count).map { Int64($0) })
                let iy = Tensor(shape: y.shape, scalars: (0..<y.count).map { -1 - Int64($0) })
                let picked = try select(c, ix, iy, Int64.self).scalars(as: Int64.self)
                let sx = x.strings, sy = y.strings
                return Tensor(shape: try broadcastShape([c.shape, x.shape, y.shape]),
                              strings: picked.map { $0 >= 0 ? sx[Int($0)] : sy[Int(-1 - $0)] })
            }
        }]
    }

    private func select<T: TensorElement>(_ c: Tensor, _ x: Tensor, _ y: Tensor, _: T.Type) throws -> Tensor {
        try broadcastTernary(c, x, y, Bool.self, T.self, T.self, T.self) { $0 ? $1 : $2 }
    }
}

