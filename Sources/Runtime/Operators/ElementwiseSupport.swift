import CKernels
import ONNX
import RealModule
import Tensor

// Dtype dispatch shared by the element-wise operator families (Elementwise, Activation, Binary, Logical).
//
// Each operation is a small struct conforming to one of the protocols below; the dispatch functions are
// generic over it, so the optimizer specialises one loop per (operation, element type). float16 and
// bfloat16 compute in float32 and round back (exact for + - * / and sqrt: float32 has more than twice
// their precision).

/// A float function of one variable, for every floating dtype.
protocol RealMap: Sendable {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T
}

/// A binary numeric operation over floats and integers (integers wrap instead of trapping).
protocol NumericBinary: Sendable {
    static var name: String { get }
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T
    /// nil when the operation does not take integers.
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T?
    /// False for the bitwise operations.
    static var takesFloats: Bool { get }
    /// The C kernel that computes it on float32 (Add, Sub, Mul, Div), if any.
    static var floatKernel: mc_arithmetic? { get }
}

extension NumericBinary {
    static var takesFloats: Bool { true }
    static var floatKernel: mc_arithmetic? { nil }
}

/// A comparison giving a bool for every comparable dtype.
protocol ElementComparison: Sendable {
    func callAsFunction<T: Comparable>(_ a: T, _ b: T) -> Bool
}

/// Runs `body`, turning the Tensor module's typed errors into `KernelError`s the engine labels with the node.
@inline(__always)
func withKernelErrors<R>(_ body: () throws -> R) throws -> R {
    do { return try body() } catch let e as BroadcastError {
        throw KernelError(e.description)
    } catch let e as CastError {
        throw KernelError(e.description)
    } catch let e as TensorTypeError {
        throw KernelError(e.description)
    }
}

func elementTypeError(_ op: String, _ dtype: DType) -> KernelError {
    KernelError("\(op) does not take \(dtype) tensors")
}

/// `f` on every element of a floating tensor.
func mapFloating<F: RealMap>(_ x: Tensor, _ f: F, op: String) throws -> Tensor {
    switch x.dtype {
    case .float32: return x.mapElements(Float.self, to: Float.self) { f($0) }
    case .float64: return x.mapElements(Double.self, to: Double.self) { f($0) }
    case .float16: return x.mapElements(Float16.self, to: Float16.self) { Float16(f(Float($0))) }
    case .bfloat16: return x.mapElements(BFloat16.self, to: BFloat16.self) { BFloat16(f($0.floatValue)) }
    default: throw elementTypeError(op, x.dtype)
    }
}

/// `a op b` with numpy broadcasting for every numeric dtype the operation accepts.
func numericBinary<F: NumericBinary>(_ a: Tensor, _ b: Tensor, _ f: F) throws -> Tensor {
    guard a.dtype == b.dtype else {
        throw KernelError("\(F.name) needs inputs of one element type; got \(a.dtype) and \(b.dtype)")
    }
    if a.dtype.isFloatingPoint && !F.takesFloats { throw elementTypeError(F.name, a.dtype) }
    return try withKernelErrors {
        switch a.dtype {
        case .float32: return try broadcastBinary(a, b, Float.self, Float.self, Float.self) { f.real($0, $1) }
        case .float64: return try broadcastBinary(a, b, Double.self, Double.self, Double.self) { f.real($0, $1) }
        case .float16, .bfloat16:
            let r = try numericBinary(a.converted(to: .float32), b.converted(to: .float32), f)
            return try r.converted(to: a.dtype)
        case .int8: return try integerBinary(a, b, f, Int8.self)
        case .int16: return try integerBinary(a, b, f, Int16.self)
        case .int32: return try integerBinary(a, b, f, Int32.self)
        case .int64: return try integerBinary(a, b, f, Int64.self)
        case .uint8: return try integerBinary(a, b, f, UInt8.self)
        case .uint16: return try integerBinary(a, b, f, UInt16.self)
        case .uint32: return try integerBinary(a, b, f, UInt32.self)
        case .uint64: return try integerBinary(a, b, f, UInt64.self)
        case .bool, .string: throw elementTypeError(F.name, a.dtype)
        }
    }
}

private func integerBinary<F: NumericBinary, T: FixedWidthInteger & TensorElement>(
    _ a: Tensor, _ b: Tensor, _ f: F, _: T.Type
) throws -> Tensor {
    guard f.integer(T(0), T(1)) != nil else { throw elementTypeError(F.name, a.dtype) }
    return try broadcastBinary(a, b, T.self, T.self, T.self) { f.integer($0, $1)! }
}

/// `compare(a, b)` with numpy broadcasting; bool output. Strings compare as text.
func compareElements<F: ElementComparison>(_ a: Tensor, _ b: Tensor, _ f: F, op: String) throws -> Tensor {
    guard a.dtype == b.dtype else {
        throw KernelError("\(op) needs inputs of one element type; got \(a.dtype) and \(b.dtype)")
    }
    return try withKernelErrors {
        switch a.dtype {
        case .float32: return try broadcastBinary(a, b, Float.self, Float.self, Bool.self) { f($0, $1) }
        case .float64: return try broadcastBinary(a, b, Double.self, Double.self, Bool.self) { f($0, $1) }
        case .float16: return try broadcastBinary(a, b, Float16.self, Float16.self, Bool.self) { f($0, $1) }
        case .bfloat16:
            return try broadcastBinary(a, b, BFloat16.self, BFloat16.self, Bool.self) { f($0.floatValue, $1.floatValue) }
        case .int8: return try broadcastBinary(a, b, Int8.self, Int8.self, Bool.self) { f($0, $1) }
        case .int16: return try broadcastBinary(a, b, Int16.self, Int16.self, Bool.self) { f($0, $1) }
        case .int32: return try broadcastBinary(a, b, Int32.self, Int32.self, Bool.self) { f($0, $1) }
        case .int64: return try broadcastBinary(a, b, Int64.self, Int64.self, Bool.self) { f($0, $1) }
        case .uint8: return try broadcastBinary(a, b, UInt8.self, UInt8.self, Bool.self) { f($0, $1) }
        case .uint16: return try broadcastBinary(a, b, UInt16.self, UInt16.self, Bool.self) { f($0, $1) }
        case .uint32: return try broadcastBinary(a, b, UInt32.self, UInt32.self, Bool.self) { f($0, $1) }
        case .uint64: return try broadcastBinary(a, b, UInt64.self, UInt64.self, Bool.self) { f($0, $1) }
        case .bool: return try broadcastBinary(a, b, Bool.self, Bool.self, Bool.self) { f($0 ? 1 : 0, $1 ? 1 : 0) }
        case .string: return try broadcastStrings(a, b, Bool.self) { f($0, $1) }
        }
    }
}

/// Opset < 7 broadcasting (`broadcast=1`, optional `axis`): B's shape matches a contiguous run of A's
/// dimensions starting at `axis` (default: the trailing ones). Returns B reshaped so that numpy rules apply.
struct LegacyBroadcast: Sendable {
    let enabled: Bool
    let axis: Int?

    init(_ ctx: OperatorContext) throws {
        let flag = try ctx.node.int("broadcast", default: 0)
        enabled = ctx.opset < 7 && flag != 0
        axis = ctx.opset < 7 ? try ctx.node.int("axis") : nil
    }

    func apply(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard enabled, let axis, b.rank > 0 else { return b }
        let start = axis < 0 ? axis + a.rank : axis
        guard start >= 0, start + b.rank <= a.rank else {
            throw KernelError("B \(shapeString(b.shape)) does not fit in A \(shapeString(a.shape)) at axis \(axis)")
        }
        return b.reshaped(Array(repeating: 1, count: start) + b.shape
                          + Array(repeating: 1, count: a.rank - start - b.rank))
    }
}
