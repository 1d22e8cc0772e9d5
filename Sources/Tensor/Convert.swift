/// Element-type conversion: `Tensor.converted(to:)`, with ONNX `Cast` semantics.
///
/// Rules (ONNX Cast, opset 6+; the reference implementation is numpy's `astype`):
/// - float -> float: round to nearest even; out of range gives ±infinity. bfloat16 rounds to nearest even.
/// - float -> integer: truncate toward zero. NOTE: out of range is undefined in ONNX; here the value first
///   saturates to the 64-bit range (NaN -> 0) and then wraps like an integer, which matches numpy for every
///   value inside the int64 range (-1.0 -> uint8 is 255, as numpy gives).
/// - integer -> integer: keep the low bits, two's complement (200 as int16 -> int8 is -56).
/// - integer -> float: nearest representable value.
/// - anything -> bool: nonzero is true (NaN is true, as numpy). bool -> number: 1 or 0.
/// - number -> string: shortest round-trip form ("0.5", "1e+20", "inf", "nan"); bool -> "True"/"False".
/// - string -> number: decimal or scientific text, "INF"/"+INF"/"-INF"/"NaN" in any case; text that is not a
///   number is an error naming it. float8/int4 are not carried by `DType`, so they never reach here.

/// How an element converts: the family it belongs to decides the rule.
public enum CastKind: Sendable { case floating, signed, unsigned, bool }

/// A `TensorElement` that `converted(to:)` can read and write.
public protocol CastableElement: TensorElement {
    static var castKind: CastKind { get }
    /// Integers and bool: the value sign- or zero-extended to 64 bits.
    var castBits: UInt64 { get }
    /// The value as a Double (integers above 2^53 round).
    var castDouble: Double { get }
    /// Integers: keep the low bits. Floats: the value of the 64-bit integer (`signed` says how to read it).
    init(castBits: UInt64, signed: Bool)
    /// Floats: round to nearest even. Integers: see the file comment.
    init(castDouble: Double)
}

@usableFromInline
func integerBits(fromDouble d: Double, unsignedTarget: Bool) -> UInt64 {
    if d.isNaN { return 0 }
    let t = d.rounded(.towardZero)
    if unsignedTarget && t >= 9_223_372_036_854_775_808.0 {
        return t >= 18_446_744_073_709_551_615.0 ? UInt64.max : UInt64(t)
    }
    if t >= 9_223_372_036_854_775_807.0 { return UInt64(bitPattern: Int64.max) }
    if t <= -9_223_372_036_854_775_808.0 { return UInt64(bitPattern: Int64.min) }
    return UInt64(bitPattern: Int64(t))
}

extension Float: CastableElement {
    public static var castKind: CastKind { .floating }
    public var castBits: UInt64 { integerBits(fromDouble: Double(self), unsignedTarget: false) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) {
        self = signed ? Float(Int64(bitPattern: castBits)) : Float(castBits)
    }
    public init(castDouble: Double) { self = Float(castDouble) }
}
extension Double: CastableElement {
    public static var castKind: CastKind { .floating }
    public var castBits: UInt64 { integerBits(fromDouble: self, unsignedTarget: false) }
    public var castDouble: Double { self }
    public init(castBits: UInt64, signed: Bool) {
        self = signed ? Double(Int64(bitPattern: castBits)) : Double(castBits)
    }
    public init(castDouble: Double) { self = castDouble }
}
extension Float16: CastableElement {
    public static var castKind: CastKind { .floating }
    public var castBits: UInt64 { integerBits(fromDouble: Double(self), unsignedTarget: false) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) {
        self = signed ? Float16(Int64(bitPattern: castBits)) : Float16(castBits)
    }
    /// Directly from Double: going through Float would round twice.
    public init(castDouble: Double) { self = Float16(castDouble) }
}
extension BFloat16: CastableElement {
    public static var castKind: CastKind { .floating }
    public var castBits: UInt64 { integerBits(fromDouble: doubleValue, unsignedTarget: false) }
    public var castDouble: Double { doubleValue }
    public init(castBits: UInt64, signed: Bool) {
        self.init(signed ? Float(Int64(bitPattern: castBits)) : Float(castBits))
    }
    public init(castDouble: Double) { self.init(Float(castDouble)) }
}
extension Bool: CastableElement {
    public static var castKind: CastKind { .bool }
    public var castBits: UInt64 { self ? 1 : 0 }
    public var castDouble: Double { self ? 1 : 0 }
    public init(castBits: UInt64, signed: Bool) { self = castBits != 0 }
    public init(castDouble: Double) { self = castDouble != 0 }
}

extension Int8: CastableElement {
    public static var castKind: CastKind { .signed }
    public var castBits: UInt64 { UInt64(bitPattern: Int64(self)) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: false)) }
}
extension Int16: CastableElement {
    public static var castKind: CastKind { .signed }
    public var castBits: UInt64 { UInt64(bitPattern: Int64(self)) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: false)) }
}
extension Int32: CastableElement {
    public static var castKind: CastKind { .signed }
    public var castBits: UInt64 { UInt64(bitPattern: Int64(self)) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: false)) }
}
extension Int64: CastableElement {
    public static var castKind: CastKind { .signed }
    public var castBits: UInt64 { UInt64(bitPattern: self) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: false)) }
}
extension UInt8: CastableElement {
    public static var castKind: CastKind { .unsigned }
    public var castBits: UInt64 { UInt64(self) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: true)) }
}
extension UInt16: CastableElement {
    public static var castKind: CastKind { .unsigned }
    public var castBits: UInt64 { UInt64(self) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: true)) }
}
extension UInt32: CastableElement {
    public static var castKind: CastKind { .unsigned }
    public var castBits: UInt64 { UInt64(self) }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self.init(truncatingIfNeeded: castBits) }
    public init(castDouble: Double) { self.init(truncatingIfNeeded: integerBits(fromDouble: castDouble, unsignedTarget: true)) }
}
extension UInt64: CastableElement {
    public static var castKind: CastKind { .unsigned }
    public var castBits: UInt64 { self }
    public var castDouble: Double { Double(self) }
    public init(castBits: UInt64, signed: Bool) { self = castBits }
    public init(castDouble: Double) { self = integerBits(fromDouble: castDouble, unsignedTarget: true) }
}

/// One element, `S` to `D`, by the rules in the file comment. The switch folds away once specialised.
@inlinable @inline(__always)
public func castElement<S: CastableElement, D: CastableElement>(_ s: S, to _: D.Type) -> D {
    switch (S.castKind, D.castKind) {
    case (.floating, .floating): return D(castDouble: s.castDouble)
    case (.floating, _): return D(castDouble: s.castDouble)   // integers truncate; bool: nonzero
    case (.signed, .floating): return D(castBits: s.castBits, signed: true)
    case (_, .bool): return D(castBits: s.castBits, signed: false)   // nonzero
    default: return D(castBits: s.castBits, signed: S.castKind == .signed)
    }
}

/// A string that `converted(to:)` cannot read as a number.
public struct CastError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Tensor {
    /// This tensor's elements converted to `dtype` (a new tensor; the same tensor, shared, when the dtype
    /// already matches). Throws only for string elements that are not numbers.
    public func converted(to dtype: DType) throws -> Tensor {
        if dtype == self.dtype { return self }
        if self.dtype == .string { return try parsingStrings(to: dtype) }
        if dtype == .string { return formattedAsStrings() }
        switch self.dtype {
        case .float32: return convert(from: Float.self, to: dtype)
        case .float64: return convert(from: Double.self, to: dtype)
        case .float16: return convert(from: Float16.self, to: dtype)
        case .bfloat16: return convert(from: BFloat16.self, to: dtype)
        case .int8: return convert(from: Int8.self, to: dtype)
        case .int16: return convert(from: Int16.self, to: dtype)
        case .int32: return convert(from: Int32.self, to: dtype)
        case .int64: return convert(from: Int64.self, to: dtype)
        case .uint8: return convert(from: UInt8.self, to: dtype)
        case .uint16: return convert(from: UInt16.self, to: dtype)
        case .uint32: return convert(from: UInt32.self, to: dtype)
        case .uint64: return convert(from: UInt64.self, to: dtype)
        case .bool: return convert(from: Bool.self, to: dtype)
        case .string: fatalError("unreachable")
        }
    }

    private func convert<S: CastableElement>(from _: S.Type, to dtype: DType) -> Tensor {
        switch dtype {
        case .float32: return convertLoop(S.self, Float.self)
        case .float64: return convertLoop(S.self, Double.self)
        case .float16: return convertLoop(S.self, Float16.self)
        case .bfloat16: return convertLoop(S.self, BFloat16.self)
        case .int8: return convertLoop(S.self, Int8.self)
        case .int16: return convertLoop(S.self, Int16.self)
        case .int32: return convertLoop(S.self, Int32.self)
        case .int64: return convertLoop(S.self, Int64.self)
        case .uint8: return convertLoop(S.self, UInt8.self)
        case .uint16: return convertLoop(S.self, UInt16.self)
        case .uint32: return convertLoop(S.self, UInt32.self)
        case .uint64: return convertLoop(S.self, UInt64.self)
        case .bool: return convertLoop(S.self, Bool.self)
        case .string: fatalError("unreachable")
        }
    }

    private func convertLoop<S: CastableElement, D: CastableElement>(_: S.Type, _: D.Type) -> Tensor {
        mapElements(S.self, to: D.self) { castElement($0, to: D.self) }
    }

    private func formattedAsStrings() -> Tensor {
        let text: [String]
        switch dtype {
        case .float32: text = buffer(as: Float.self).map { $0.description }
        case .float64: text = buffer(as: Double.self).map { $0.description }
        case .float16: text = buffer(as: Float16.self).map { $0.description }
        case .bfloat16: text = buffer(as: BFloat16.self).map { $0.floatValue.description }
        case .bool: text = buffer(as: Bool.self).map { $0 ? "True" : "False" }
        case .int64: text = buffer(as: Int64.self).map { $0.description }
        case .uint64: text = buffer(as: UInt64.self).map { $0.description }
        default: text = ints().map { $0.description }
        }
        return Tensor(shape: shape, strings: text)
    }

    private func parsingStrings(to dtype: DType) throws -> Tensor {
        let text = strings
        if dtype.isInteger {
            // Integer text parses exactly (int64 beyond 2^53); other numbers go through Double.
            var bits = [UInt64](repeating: 0, count: text.count)
            for (i, s) in text.enumerated() {
                let t = s.trimmingSpaces
                if let v = Int64(t) { bits[i] = UInt64(bitPattern: v) } else if let v = UInt64(t) { bits[i] = v } else {
                    bits[i] = integerBits(fromDouble: try Self.parseNumber(s), unsignedTarget: !dtype.isSigned)
                }
            }
            return try Tensor(shape: shape, scalars: bits.map { Int64(bitPattern: $0) }).reinterpretedBits(as: dtype)
        }
        let values = try text.map { try Self.parseNumber($0) }
        return try Tensor(shape: shape, scalars: values).converted(to: dtype)
    }

    /// int64 bit patterns -> narrower integer type, keeping low bits (unsigned 64 keeps all).
    private func reinterpretedBits(as dtype: DType) throws -> Tensor {
        if dtype == .uint64 { return mapElements(Int64.self, to: UInt64.self) { UInt64(bitPattern: $0) } }
        return try converted(to: dtype)
    }

    static func parseNumber(_ s: String) throws -> Double {
        let t = s.trimmingSpaces
        switch t.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan", "+nan", "-nan": return .nan
        default: break
        }
        guard let v = Double(t) else { throw CastError("cannot cast the string \"\(s)\" to a number") }
        return v
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" { s.removeLast() }
        return String(s)
    }
}
