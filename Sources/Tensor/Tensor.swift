/// A dense, row-major, contiguous n-dimensional array.
///
/// Layout: NCHW for images, OIHW for convolution weights, (C_in, C_out/group, kH, kW) for transposed
/// convolution weights. A `Tensor` is a value: `shape` and `dtype` never change; `storage` may be shared
/// between tensors that view the same bytes (reshape, identity). Kernels never write into their inputs.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let dtype: DType
    public let storage: TensorStorage

    /// Number of elements (1 for a scalar, 0 when any dimension is 0).
    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var isScalar: Bool { shape.isEmpty }

    /// A zero-filled tensor.
    public init(zeros shape: [Int], dtype: DType = .float32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.dtype = dtype
        self.storage = TensorStorage(byteCount: shape.reduce(1, *) * dtype.size)
        if dtype == .string { storage.strings = Array(repeating: "", count: shape.reduce(1, *)) }
    }

    /// A tensor whose elements the caller will all overwrite.
    public init(uninitialized shape: [Int], dtype: DType = .float32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.dtype = dtype
        self.storage = TensorStorage(uninitializedByteCount: shape.reduce(1, *) * dtype.size)
        if dtype == .string { storage.strings = Array(repeating: "", count: shape.reduce(1, *)) }
    }

    /// Wraps existing storage (shares it).
    public init(shape: [Int], dtype: DType, storage: TensorStorage) {
        precondition(dtype == .string || shape.reduce(1, *) * dtype.size <= storage.byteCount)
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// A tensor holding a copy of `scalars`.
    public init<T: TensorElement>(shape: [Int], scalars: [T]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements, got \(scalars.count)")
        self.init(uninitialized: shape, dtype: T.dtype)
        let p = storage.pointer.bindMemory(to: T.self, capacity: scalars.count)
        scalars.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.update(from: base, count: scalars.count) }
        }
    }

    /// A float32 tensor.
    public init(shape: [Int], floats: [Float]) { self.init(shape: shape, scalars: floats) }

    /// A rank-0 tensor.
    public init<T: TensorElement>(scalar: T) { self.init(shape: [], scalars: [scalar]) }

    /// A string tensor.
    public init(shape: [Int], strings: [String]) {
        precondition(shape.reduce(1, *) == strings.count)
        self.shape = shape
        self.dtype = .string
        self.storage = TensorStorage(byteCount: 0)
        storage.strings = strings
    }

    // MARK: Borrowing storage

    /// Typed pointer to the elements. The element type must match `dtype`.
    @inline(__always)
    public func pointer<T: TensorElement>(as type: T.Type) -> UnsafeMutablePointer<T> {
        precondition(T.dtype == dtype, "tensor is \(dtype), accessed as \(T.dtype)")
        return storage.pointer.assumingMemoryBound(to: T.self)
    }

    /// The float32 elements, borrowed.
    @inline(__always)
    public var floats: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer(as: Float.self), count: count)
    }

    @inline(__always)
    public func buffer<T: TensorElement>(as type: T.Type) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: pointer(as: T.self), count: count)
    }

    /// A copy of the elements as a Swift array.
    public func scalars<T: TensorElement>(as type: T.Type = T.self) -> [T] {
        Array(buffer(as: T.self))
    }

    /// Every element converted to Double (strings: NaN). For tests, shapes and small integer inputs.
    public func doubles() -> [Double] {
        let n = count
        switch dtype {
        case .float32: return buffer(as: Float.self).map(Double.init)
        case .float64: return scalars(as: Double.self)
        case .float16: return buffer(as: Float16.self).map { Double(Float($0)) }
        case .bfloat16: return buffer(as: BFloat16.self).map { $0.doubleValue }
        case .int8: return buffer(as: Int8.self).map(Double.init)
        case .int16: return buffer(as: Int16.self).map(Double.init)
        case .int32: return buffer(as: Int32.self).map(Double.init)
        case .int64: return buffer(as: Int64.self).map(Double.init)
        case .uint8: return buffer(as: UInt8.self).map(Double.init)
        case .uint16: return buffer(as: UInt16.self).map(Double.init)
        case .uint32: return buffer(as: UInt32.self).map(Double.init)
        case .uint64: return buffer(as: UInt64.self).map(Double.init)
        case .bool: return buffer(as: Bool.self).map { $0 ? 1 : 0 }
        case .string: return Array(repeating: .nan, count: n)
        }
    }

    /// Elements of an integer tensor as Int (shape, axes, pads, indices inputs). Exact for int64/int32.
    public func ints() -> [Int] {
        switch dtype {
        case .int64: return buffer(as: Int64.self).map { Int($0) }
        case .int32: return buffer(as: Int32.self).map { Int($0) }
        case .int16: return buffer(as: Int16.self).map { Int($0) }
        case .int8: return buffer(as: Int8.self).map { Int($0) }
        case .uint8: return buffer(as: UInt8.self).map { Int($0) }
        case .uint16: return buffer(as: UInt16.self).map { Int($0) }
        case .uint32: return buffer(as: UInt32.self).map { Int($0) }
        case .uint64: return buffer(as: UInt64.self).map { Int(clamping: $0) }
        case .bool: return buffer(as: Bool.self).map { $0 ? 1 : 0 }
        // NOTE: clamped, not trapping: a float "shape" or "indices" tensor in a crafted file may hold 1e30.
        default: return doubles().map { $0.isNaN ? 0 : Int(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) }
        }
    }

    /// The strings of a string tensor.
    public var strings: [String] { storage.strings }

    /// Raw bytes of the elements (count * dtype.size).
    public var byteCount: Int { count * dtype.size }

    // MARK: Views and copies

    /// Same elements, new shape (shares storage). Element counts must match.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, dtype: dtype, storage: storage)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        if dtype == .string { return Tensor(shape: shape, strings: strings) }
        let out = Tensor(uninitialized: shape, dtype: dtype)
        out.storage.pointer.copyMemory(from: storage.pointer, byteCount: byteCount)
        return out
    }

    public var description: String {
        let preview = dtype == .string ? strings.prefix(8).map { "\"\($0)\"" } :
            doubles().prefix(8).map { String($0) }
        return "Tensor<\(dtype)>\(shape) [\(preview.joined(separator: ", "))\(count > 8 ? ", ..." : "")]"
    }
}

extension Tensor {
    /// Row-major strides of `shape`, in elements.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }
    public var strides: [Int] { Tensor.strides(of: shape) }
}
