import CKernels
import ONNX
import RealModule
import Tensor

// Binary and variadic arithmetic with numpy broadcasting (opset 7+; opsets 1-6 broadcast with the legacy
// `broadcast`/`axis` attributes). Integer arithmetic wraps; integer division truncates toward zero and,
// like numpy, gives 0 for a zero divisor instead of trapping.

let binaryOperators: [Registration] = [
    Registration("Add", since: 1) { ctx in try ArithmeticOperator(ctx, AddOp()) },
    Registration("Sub", since: 1) { ctx in try ArithmeticOperator(ctx, SubOp()) },
    Registration("Mul", since: 1) { ctx in try ArithmeticOperator(ctx, MulOp()) },
    Registration("Div", since: 1) { ctx in try ArithmeticOperator(ctx, DivOp()) },
    Registration("Pow", since: 1) { ctx in try PowOperator(ctx) },
    Registration("Mod", since: 10) { ctx in
        let fmod = try ctx.node.int("fmod", default: 0)
        guard fmod == 0 || fmod == 1 else { throw ctx.node.invalid("fmod", "must be 0 or 1; got \(fmod)") }
        return fmod == 1 ? try ArithmeticOperator(ctx, FmodOp()) : try ArithmeticOperator(ctx, ModOp())
    },
    Registration("Min", since: 1) { _ in VariadicOperator(MinOp(), mean: false) },
    Registration("Max", since: 1) { _ in VariadicOperator(MaxOp(), mean: false) },
    Registration("Sum", since: 1) { _ in VariadicOperator(AddOp(), mean: false) },
    Registration("Mean", since: 1) { _ in VariadicOperator(AddOp(), mean: true) },
    Registration("BitShift", since: 11) { ctx in
        switch try ctx.node.string("direction") {
        case "LEFT": return try ArithmeticOperator(ctx, ShiftLeftOp())
        case "RIGHT": return try ArithmeticOperator(ctx, ShiftRightOp())
        case nil: throw ctx.node.missing("direction")
        case let other?: throw ctx.node.invalid("direction", "must be \"LEFT\" or \"RIGHT\"; got \"\(other)\"")
        }
    },
    Registration("BitwiseAnd", since: 18) { ctx in try ArithmeticOperator(ctx, BitwiseAndOp()) },
    Registration("BitwiseOr", since: 18) { ctx in try ArithmeticOperator(ctx, BitwiseOrOp()) },
    Registration("BitwiseXor", since: 18) { ctx in try ArithmeticOperator(ctx, BitwiseXorOp()) },
]

/// A two-input operator `C = A op B`.
/// NOTE: not generic over the operation: the generic initializer captures a closure specialised for it, so the
/// loop is compiled per operation (a generic struct behind `any Operator` would run unspecialised code).
struct ArithmeticOperator: Broadcasting {
    let apply: @Sendable (Tensor, Tensor) throws -> Tensor
    let legacy: LegacyBroadcast

    init<F: NumericBinary>(_ ctx: OperatorContext, _ f: F) throws {
        if let kernel = F.floatKernel {
            // Add, Sub, Mul, Div on float32: the C kernel. (Not inside numericBinary: with this branch there,
            // the other operations' loops ran 25x slower: Max of a 16x24x74x32 tensor 0.2 -> 5.6 ms.)
            apply = { a, b in
                guard a.dtype == .float32, b.dtype == .float32 else { return try numericBinary(a, b, f) }
                return try withKernelErrors { try floatArithmetic(a, b, kernel) }
            }
        } else {
            apply = { a, b in try numericBinary(a, b, f) }
        }
        legacy = try LegacyBroadcast(ctx)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A")
        let b = try legacy.apply(a, try inputs.required(1, "B"))
        return [try apply(a, b)]
    }
}

/// Min, Max, Sum, Mean: any number of inputs (at least one), folded left to right with broadcasting.
struct VariadicOperator: Broadcasting {
    let name: String
    let apply: @Sendable (Tensor, Tensor) throws -> Tensor
    let mean: Bool

    init<F: NumericBinary>(_ f: F, mean: Bool) {
        name = mean ? "Mean" : F.name
        apply = { a, b in try numericBinary(a, b, f) }
        self.mean = mean
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let values = inputs.compactMap { $0 }
        guard var acc = values.first else { throw KernelError("\(name) needs at least one input") }
        if values.count == 1 && !mean { return [acc] }
        for v in values.dropFirst() { acc = try apply(acc, v) }
        if mean {
            guard acc.dtype.isFloatingPoint else { throw elementTypeError("Mean", acc.dtype) }
            let n = Tensor(scalar: Double(values.count))
            acc = try numericBinary(acc, try n.converted(to: acc.dtype), DivOp())
        }
        return [acc]
    }
}

// MARK: Operations

struct AddOp: NumericBinary {
    static let name = "Add"
    static var floatKernel: mc_arithmetic? { MC_ADD }
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a + b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a &+ b }
}
struct SubOp: NumericBinary {
    static let name = "Sub"
    static var floatKernel: mc_arithmetic? { MC_SUB }
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a - b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a &- b }
}
struct MulOp: NumericBinary {
    static let name = "Mul"
    static var floatKernel: mc_arithmetic? { MC_MUL }
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a * b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a &* b }
}
/// NOTE: integer division truncates toward zero (C, ONNX reference); a zero divisor gives 0 as in numpy.
struct DivOp: NumericBinary {
    static let name = "Div"
    static var floatKernel: mc_arithmetic? { MC_DIV }
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a / b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue
    }
}
/// numpy.mod: the result takes the divisor's sign.
struct ModOp: NumericBinary {
    static let name = "Mod"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T {
        // numpy's npy_divmod: fmod, then shift into the divisor's sign; a zero result keeps b's sign.
        var r = a.truncatingRemainder(dividingBy: b)
        if b == 0 { return r }
        if r != 0 {
            if (b < 0) != (r < 0) { r += b }
        } else {
            r = T(signOf: b, magnitudeOf: 0)
        }
        return r
    }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        if b == 0 { return 0 }
        var r = a.remainderReportingOverflow(dividingBy: b).partialValue
        if r != 0 && ((r < 0) != (b < 0)) { r = r &+ b }
        return r
    }
}
/// C fmod: the result takes the dividend's sign.
struct FmodOp: NumericBinary {
    static let name = "Mod"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a.truncatingRemainder(dividingBy: b) }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        b == 0 ? 0 : a.remainderReportingOverflow(dividingBy: b).partialValue
    }
}
/// numpy.minimum / maximum: NaN in either operand gives NaN.
struct MinOp: NumericBinary {
    static let name = "Min"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { (a < b || a.isNaN) ? a : b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { Swift.min(a, b) }
}
struct MaxOp: NumericBinary {
    static let name = "Max"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { (a > b || a.isNaN) ? a : b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { Swift.max(a, b) }
}
/// Shifts by a negative amount or by the bit width or more give 0 (RIGHT of a negative value: -1),
/// as the ONNX reference does.
struct ShiftLeftOp: NumericBinary {
    static let name = "BitShift"
    static let takesFloats = false
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { .nan }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        (b < 0 || b >= T.bitWidth) ? 0 : a &<< b
    }
}
struct ShiftRightOp: NumericBinary {
    static let name = "BitShift"
    static let takesFloats = false
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { .nan }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        (b < 0 || b >= T.bitWidth) ? (a < 0 ? 0 &- 1 : 0) : a >> b
    }
}
struct BitwiseAndOp: NumericBinary {
    static let name = "BitwiseAnd"
    static let takesFloats = false
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { .nan }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a & b }
}
struct BitwiseOrOp: NumericBinary {
    static let name = "BitwiseOr"
    static let takesFloats = false
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { .nan }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a | b }
}
struct BitwiseXorOp: NumericBinary {
    static let name = "BitwiseXor"
    static let takesFloats = false
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { .nan }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a ^ b }
}

// MARK: Pow

/// Pow: the base's type is the output's; the exponent may be any numeric type (opset 12+). Integer base and
/// exponent use exact wrapping integer powers; otherwise the power is computed in double and converted
/// (float32 ** float32 in float, as numpy does).
private struct PowOperator: Broadcasting {
    let legacy: LegacyBroadcast
    init(_ ctx: OperatorContext) throws { legacy = try LegacyBroadcast(ctx) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let y = try legacy.apply(x, try inputs.required(1, "Y"))
        if x.dtype == y.dtype && (x.dtype.isFloatingPoint || x.dtype.isInteger) {
            return [try numericBinary(x, y, PowOp())]
        }
        guard x.dtype.isFloatingPoint || x.dtype.isInteger else { throw elementTypeError("Pow", x.dtype) }
        guard y.dtype.isFloatingPoint || y.dtype.isInteger else { throw elementTypeError("Pow", y.dtype) }
        // Mixed types: numpy promotes to a common type (float64 for int/float mixes) and casts the result.
        if x.dtype.isInteger && y.dtype.isInteger {
            return [try numericBinary(x, try y.converted(to: x.dtype), PowOp())]
        }
        let r = try withKernelErrors {
            try broadcastBinary(try x.converted(to: .float64), try y.converted(to: .float64),
                                Double.self, Double.self, Double.self) { realPower($0, $1) }
        }
        return [try withKernelErrors { try r.converted(to: x.dtype) }]
    }
}

private struct PowOp: NumericBinary {
    static let name = "Pow"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { realPower(a, b) }
    /// Square-and-multiply with wrapping; negative exponents give 1/a truncated (0 unless |a| == 1).
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
        if b < 0 {
            if a == 1 { return 1 }
            if T.isSigned && a == 0 &- 1 { return b & 1 == 0 ? 1 : a }
            return 0
        }
        var result: T = 1, base = a, e = b
        while e > 0 {
            if e & 1 == 1 { result = result &* base }
            base = base &* base
            e >>= 1
        }
        return result
    }
}

/// x^y as C `pow`: swift-numerics' `pow` is NaN for every negative base, C's only for non-integral y.
private func realPower<T: Real & BinaryFloatingPoint>(_ x: T, _ y: T) -> T {
    if x >= 0 || x.isNaN { return T.pow(x, y) }
    if y.isNaN { return y }
    if y.isInfinite { return T.pow(-x, y) }   // |x| < 1 -> 0 or inf; |x| == 1 -> 1
    guard y.rounded(.towardZero) == y else { return .nan }
    let m = T.pow(-x, y)
    return y.truncatingRemainder(dividingBy: 2) == 0 ? m : -m
}
