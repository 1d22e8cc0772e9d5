import ONNX
import RealModule
import Tensor

// Unary math: one input X, one output Y of X's shape. Float-only functions compute in the input's own
// precision (float16/bfloat16 through float32); Abs, Neg and Sign also take integers; IsNaN/IsInf give bool.

let elementwiseOperators: [Registration] = [
    Registration("Sqrt", since: 1) { _ in floatingMap("Sqrt", Sqrt()) },
    Registration("Exp", since: 1) { _ in floatingMap("Exp", Exp()) },
    Registration("Log", since: 1) { _ in floatingMap("Log", Log()) },
    Registration("Reciprocal", since: 1) { _ in floatingMap("Reciprocal", Reciprocal()) },
    Registration("Floor", since: 1) { _ in floatingMap("Floor", Floor()) },
    Registration("Ceil", since: 1) { _ in floatingMap("Ceil", Ceil()) },
    Registration("Round", since: 11) { _ in floatingMap("Round", RoundHalfEven()) },
    Registration("Erf", since: 9) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "X")
            // float32: the vectorised rational approximation (GELU's primitive spelling runs on it).
            guard x.dtype == .float32 else { return [try mapFloating(x, Erf(), op: "Erf")] }
            let y = Tensor(uninitialized: x.shape, dtype: .float32)
            let src = UnsafePointer(x.pointer(as: Float.self)), dst = y.pointer(as: Float.self)
            parallelChunks(x.count) { range in for i in range { dst[i] = FastFloat.erf(src[i]) } }
            return [y]
        }
    },
    Registration("Sin", since: 7) { _ in floatingMap("Sin", Sin()) },
    Registration("Cos", since: 7) { _ in floatingMap("Cos", Cos()) },
    Registration("Tan", since: 7) { _ in floatingMap("Tan", Tan()) },
    Registration("Asin", since: 7) { _ in floatingMap("Asin", Asin()) },
    Registration("Acos", since: 7) { _ in floatingMap("Acos", Acos()) },
    Registration("Atan", since: 7) { _ in floatingMap("Atan", Atan()) },
    Registration("Sinh", since: 9) { _ in floatingMap("Sinh", Sinh()) },
    Registration("Cosh", since: 9) { _ in floatingMap("Cosh", Cosh()) },
    Registration("Asinh", since: 9) { _ in floatingMap("Asinh", Asinh()) },
    Registration("Acosh", since: 9) { _ in floatingMap("Acosh", Acosh()) },
    Registration("Atanh", since: 9) { _ in floatingMap("Atanh", Atanh()) },
    Registration("Abs", since: 1) { _ in ClosureOperator(shape: .sameAsInput) { [try absolute(try $0.required(0, "X"))] } },
    Registration("Neg", since: 1) { _ in ClosureOperator(shape: .sameAsInput) { [try negate(try $0.required(0, "X"))] } },
    Registration("Sign", since: 9) { _ in ClosureOperator(shape: .sameAsInput) { [try sign(try $0.required(0, "X"))] } },
    Registration("IsNaN", since: 9) { _ in ClosureOperator(shape: .sameAsInput) { [try isNaN(try $0.required(0, "X"))] } },
    Registration("IsInf", since: 10) { ctx in try IsInfOperator(ctx) },
    Registration("BitwiseNot", since: 18) { _ in ClosureOperator(shape: .sameAsInput) { [try bitwiseNot(try $0.required(0, "X"))] } },
]

/// An operator applying a float function to its one input.
func floatingMap<F: RealMap>(_ name: String, _ f: F) -> any Operator {
    ClosureOperator(shape: .sameAsInput) { inputs in [try mapFloating(try inputs.required(0, "X"), f, op: name)] }
}

// MARK: Float functions

private struct Sqrt: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x.squareRoot() } }
private struct Exp: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.exp(x) } }
private struct Log: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.log(x) } }
private struct Reciprocal: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { 1 / x } }
private struct Floor: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x.rounded(.down) } }
private struct Ceil: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x.rounded(.up) } }
/// NOTE: halves round to even (2.5 -> 2, -1.5 -> -2), as numpy and the ONNX spec do.
private struct RoundHalfEven: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x.rounded(.toNearestOrEven) }
}
private struct Erf: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.erf(x) } }
private struct Sin: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.sin(x) } }
private struct Cos: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.cos(x) } }
private struct Tan: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.tan(x) } }
private struct Asin: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.asin(x) } }
private struct Acos: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.acos(x) } }
private struct Atan: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.atan(x) } }
private struct Sinh: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.sinh(x) } }
private struct Cosh: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.cosh(x) } }
private struct Asinh: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.asinh(x) } }
private struct Acosh: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.acosh(x) } }
private struct Atanh: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.atanh(x) } }

// MARK: Functions that also take integers

/// |x|; integers wrap (|Int8.min| stays Int8.min, as numpy).
private func absolute(_ x: Tensor) throws -> Tensor {
    switch x.dtype {
    case .int8: return x.mapElements(Int8.self, to: Int8.self) { $0 < 0 ? 0 &- $0 : $0 }
    case .int16: return x.mapElements(Int16.self, to: Int16.self) { $0 < 0 ? 0 &- $0 : $0 }
    case .int32: return x.mapElements(Int32.self, to: Int32.self) { $0 < 0 ? 0 &- $0 : $0 }
    case .int64: return x.mapElements(Int64.self, to: Int64.self) { $0 < 0 ? 0 &- $0 : $0 }
    case .uint8, .uint16, .uint32, .uint64: return x
    default: return try mapFloating(x, Absolute(), op: "Abs")
    }
}
private struct Absolute: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x.magnitude } }

/// -x; signed integers wrap.
private func negate(_ x: Tensor) throws -> Tensor {
    switch x.dtype {
    case .int8: return x.mapElements(Int8.self, to: Int8.self) { 0 &- $0 }
    case .int16: return x.mapElements(Int16.self, to: Int16.self) { 0 &- $0 }
    case .int32: return x.mapElements(Int32.self, to: Int32.self) { 0 &- $0 }
    case .int64: return x.mapElements(Int64.self, to: Int64.self) { 0 &- $0 }
    default: return try mapFloating(x, Negate(), op: "Neg")
    }
}
private struct Negate: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { -x } }

/// -1, 0 or 1 (NaN stays NaN, as numpy).
private func sign(_ x: Tensor) throws -> Tensor {
    func s<T: FixedWidthInteger & TensorElement>(_: T.Type) -> Tensor {
        x.mapElements(T.self, to: T.self) { $0 > 0 ? 1 : ($0 < 0 ? 0 &- 1 : 0) }
    }
    switch x.dtype {
    case .int8: return s(Int8.self)
    case .int16: return s(Int16.self)
    case .int32: return s(Int32.self)
    case .int64: return s(Int64.self)
    case .uint8: return s(UInt8.self)
    case .uint16: return s(UInt16.self)
    case .uint32: return s(UInt32.self)
    case .uint64: return s(UInt64.self)
    default: return try mapFloating(x, Sign(), op: "Sign")
    }
}
private struct Sign: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x > 0 ? 1 : (x < 0 ? -1 : x) }
}

// MARK: Predicates

private func isNaN(_ x: Tensor) throws -> Tensor {
    switch x.dtype {
    case .float32: return x.mapElements(Float.self, to: Bool.self) { $0.isNaN }
    case .float64: return x.mapElements(Double.self, to: Bool.self) { $0.isNaN }
    case .float16: return x.mapElements(Float16.self, to: Bool.self) { $0.isNaN }
    case .bfloat16: return x.mapElements(BFloat16.self, to: Bool.self) { $0.floatValue.isNaN }
    default: throw elementTypeError("IsNaN", x.dtype)
    }
}

/// IsInf with `detect_negative` / `detect_positive` (both default 1).
private struct IsInfOperator: ShapePreserving {
    let negative: Bool
    let positive: Bool

    init(_ ctx: OperatorContext) throws {
        negative = try ctx.node.int("detect_negative", default: 1) != 0
        positive = try ctx.node.int("detect_positive", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let (neg, pos) = (negative, positive)
        switch x.dtype {
        case .float32: return [x.mapElements(Float.self, to: Bool.self) { $0.isInfinite && ($0 < 0 ? neg : pos) }]
        case .float64: return [x.mapElements(Double.self, to: Bool.self) { $0.isInfinite && ($0 < 0 ? neg : pos) }]
        case .float16: return [x.mapElements(Float16.self, to: Bool.self) { $0.isInfinite && ($0 < 0 ? neg : pos) }]
        case .bfloat16:
            return [x.mapElements(BFloat16.self, to: Bool.self) {
                $0.floatValue.isInfinite && ($0.floatValue < 0 ? neg : pos)
            }]
        default: throw elementTypeError("IsInf", x.dtype)
        }
    }
}

private func bitwiseNot(_ x: Tensor) throws -> Tensor {
    switch x.dtype {
    case .int8: return x.mapElements(Int8.self, to: Int8.self) { ~$0 }
    case .int16: return x.mapElements(Int16.self, to: Int16.self) { ~$0 }
    case .int32: return x.mapElements(Int32.self, to: Int32.self) { ~$0 }
    case .int64: return x.mapElements(Int64.self, to: Int64.self) { ~$0 }
    case .uint8: return x.mapElements(UInt8.self, to: UInt8.self) { ~$0 }
    case .uint16: return x.mapElements(UInt16.self, to: UInt16.self) { ~$0 }
    case .uint32: return x.mapElements(UInt32.self, to: UInt32.self) { ~$0 }
    case .uint64: return x.mapElements(UInt64.self, to: UInt64.self) { ~$0 }
    default: throw elementTypeError("BitwiseNot", x.dtype)
    }
}
