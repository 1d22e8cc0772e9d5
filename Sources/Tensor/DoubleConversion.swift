// Building tensors of any dtype from Double values (resize of integer images, pad and fill constants).

/// A one-element tensor of `dtype` holding `value` (saturated for integers).
public func scalarTensor(_ value: Double, dtype: DType) -> Tensor {
    tensorFromDoubles([value], shape: [], dtype: dtype, rounding: false)
}

/// A tensor of `dtype` from Doubles. Integers saturate; with `rounding` they round half to even first
/// (as onnx's `saturate_cast`), otherwise they truncate.
public func tensorFromDoubles(_ values: [Double], shape: [Int], dtype: DType, rounding: Bool) -> Tensor {
    let v = rounding && dtype.isInteger ? values.map { $0.rounded(.toNearestOrEven) } : values
    func make<T: TensorElement>(_: T.Type) -> Tensor { Tensor(shape: shape, scalars: v.map { T(fromDouble: $0) }) }
    switch dtype {
    case .float32: return make(Float.self)
    case .float64: return make(Double.self)
    case .float16: return make(Float16.self)
    case .bfloat16: return make(BFloat16.self)
    case .int8: return make(Int8.self)
    case .int16: return make(Int16.self)
    case .int32: return make(Int32.self)
    case .int64: return make(Int64.self)
    case .uint8: return make(UInt8.self)
    case .uint16: return make(UInt16.self)
    case .uint32: return make(UInt32.self)
    case .uint64: return make(UInt64.self)
    case .bool: return make(Bool.self)
    case .string: return Tensor(shape: shape, strings: v.map { String($0) })
    }
}
