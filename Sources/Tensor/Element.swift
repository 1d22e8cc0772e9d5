/// A Swift type that is the element of some `DType`.
public protocol TensorElement: Sendable {
    static var dtype: DType { get }
    /// Conversion through Double, used by `Cast` and generic kernels (exact for every integer up to 2^53).
    init(fromDouble value: Double)
    var doubleValue: Double { get }
    static var zeroValue: Self { get }
}

extension Float: TensorElement {
    public static var dtype: DType { .float32 }
    public init(fromDouble value: Double) { self = Float(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: Float { 0 }
}
extension Double: TensorElement {
    public static var dtype: DType { .float64 }
    public init(fromDouble value: Double) { self = value }
    public var doubleValue: Double { self }
    public static var zeroValue: Double { 0 }
}
extension Float16: TensorElement {
    public static var dtype: DType { .float16 }
    public init(fromDouble value: Double) { self = Float16(Float(value)) }
    public var doubleValue: Double { Double(Float(self)) }
    public static var zeroValue: Float16 { 0 }
}
extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    public init(fromDouble value: Double) { self = value != 0 }
    public var doubleValue: Double { self ? 1 : 0 }
    public static var zeroValue: Bool { false }
}

/// Integer conversion from Double saturates and maps NaN to 0 instead of trapping, since a Cast
/// of a bad value must not crash the process.
@inline(__always)
func clampedInteger<I: FixedWidthInteger>(_ value: Double) -> I {
    if value.isNaN { return 0 }
    if value >= Double(I.max) { return I.max }
    if value <= Double(I.min) { return I.min }
    return I(value.rounded(.towardZero))
}

extension Int64: TensorElement {
    public static var dtype: DType { .int64 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: Int64 { 0 }
}
extension Int32: TensorElement {
    public static var dtype: DType { .int32 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: Int32 { 0 }
}
extension Int16: TensorElement {
    public static var dtype: DType { .int16 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: Int16 { 0 }
}
extension Int8: TensorElement {
    public static var dtype: DType { .int8 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: Int8 { 0 }
}
extension UInt8: TensorElement {
    public static var dtype: DType { .uint8 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: UInt8 { 0 }
}
extension UInt16: TensorElement {
    public static var dtype: DType { .uint16 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: UInt16 { 0 }
}
extension UInt32: TensorElement {
    public static var dtype: DType { .uint32 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: UInt32 { 0 }
}
extension UInt64: TensorElement {
    public static var dtype: DType { .uint64 }
    public init(fromDouble value: Double) { self = clampedInteger(value) }
    public var doubleValue: Double { Double(self) }
    public static var zeroValue: UInt64 { 0 }
}

/// bfloat16: the top 16 bits of a float32. Stored, converted, never computed in.
public struct BFloat16: TensorElement, Equatable {
    public var bitPattern: UInt16
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }
    public init(_ value: Float) {
        // Round to nearest even on the dropped 16 bits, as onnx.numpy_helper does.
        if value.isNaN { bitPattern = 0x7FC0; return }
        let bits = value.bitPattern
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }
    public static var dtype: DType { .bfloat16 }
    public init(fromDouble value: Double) { self.init(Float(value)) }
    public var doubleValue: Double { Double(floatValue) }
    public static var zeroValue: BFloat16 { BFloat16(bitPattern: 0) }
}
