import Tensor

// Running float32 kernels on other element types: pooling, normalization and softmax kernels are written
// for float32; float16, bfloat16, float64 and small integer inputs go through a float32 copy and back.
// (float64 loses digits past float32 precision this way; the conformance tolerances allow it.)

extension Tensor {
    /// This tensor as float32: itself when it already is, otherwise an element-by-element conversion.
    func float32ForKernel() -> Tensor {
        if dtype == .float32 { return self }
        let out = Tensor(uninitialized: shape, dtype: .float32)
        let dst = out.pointer(as: Float.self)
        switch dtype {
        case .float16:
            let src = pointer(as: Float16.self)
            for i in 0..<count { dst[i] = Float(src[i]) }
        case .bfloat16:
            let src = pointer(as: BFloat16.self)
            for i in 0..<count { dst[i] = src[i].floatValue }
        default:
            let values = doubles()
            for i in 0..<count { dst[i] = Float(values[i]) }
        }
        return out
    }

    /// A float32 kernel result converted back to `dtype` (itself when `dtype` is float32).
    func kernelResult(as dtype: DType) -> Tensor {
        precondition(self.dtype == .float32)
        if dtype == .float32 { return self }
        return Tensor.fromDoubles(floats.map(Double.init), shape: shape, dtype: dtype)
    }

    /// A tensor of `dtype` holding `values` (converted as `Cast` would: integers saturate, NaN -> 0).
    static func fromDoubles(_ values: [Double], shape: [Int], dtype: DType) -> Tensor {
        switch dtype {
        case .float32: return Tensor(shape: shape, scalars: values.map { Float($0) })
        case .float64: return Tensor(shape: shape, scalars: values)
        case .float16: return Tensor(shape: shape, scalars: values.map { Float16(Float($0)) })
        case .bfloat16: return Tensor(shape: shape, scalars: values.map { BFloat16(Float($0)) })
        case .int8: return Tensor(shape: shape, scalars: values.map { Int8(fromDouble: $0) })
        case .int16: return Tensor(shape: shape, scalars: values.map { Int16(fromDouble: $0) })
        case .int32: return Tensor(shape: shape, scalars: values.map { Int32(fromDouble: $0) })
        case .int64: return Tensor(shape: shape, scalars: values.map { Int64(fromDouble: $0) })
        case .uint8: return Tensor(shape: shape, scalars: values.map { UInt8(fromDouble: $0) })
        case .uint16: return Tensor(shape: shape, scalars: values.map { UInt16(fromDouble: $0) })
        case .uint32: return Tensor(shape: shape, scalars: values.map { UInt32(fromDouble: $0) })
        case .uint64: return Tensor(shape: shape, scalars: values.map { UInt64(fromDouble: $0) })
        case .bool: return Tensor(shape: shape, scalars: values.map { $0 != 0 })
        case .string: return Tensor(shape: shape, strings: values.map { String($0) })
        }
    }
}

/// Throws unless `t` holds numbers (the kernels here do not take strings).
func requireNumeric(_ t: Tensor, _ what: String) throws {
    if t.dtype == .string { throw KernelError("\(what) is a string tensor; expected numbers") }
}
