import CKernels
/// Numpy broadcasting and the element-wise kernels built on it.
///
/// Public API:
/// - `broadcastShape(_:_:)`, `broadcastShape(_:)` — numpy rules; `BroadcastError` names both shapes.
/// - `BroadcastPlan` — output shape plus collapsed strides; `forEachRun` walks the output in contiguous runs.
/// - `broadcastBinary(_:_:_:_:_:_:)` — generic `(A, B) -> R` over any `TensorElement` types.
/// - `broadcastTernary(_:_:_:...)` — generic `(A, B, C) -> R` (used by `Where`).
/// - `Tensor.adding(_:)` — float32 (and float64) addition with broadcasting (the other operations go through
///   `broadcastArithmetic` directly).
/// - `Tensor.mapElements(_:to:_:)`, `Tensor.mapFloats(_:)` — unary maps (`parallelChunks` in Gemm.swift for
///   threaded ones).
///
/// The generic kernels are `@inlinable @inline(__always)` so that callers in other modules get them
/// specialised for their element types with the closure inlined. NOTE: without `@inline(__always)` the
/// optimizer specialised the types but kept an indirect call per element (measured 6x slower on a
/// per-channel Add than on a same-shape Add).

/// Two shapes that numpy broadcasting cannot reconcile.
public struct BroadcastError: Error, CustomStringConvertible, Equatable {
    public let shapes: [[Int]]
    public init(shapes: [[Int]]) { self.shapes = shapes }
    public var description: String {
        let list = shapes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
        return "shapes \(list.joined(separator: " and ")) cannot be broadcast together "
            + "(each dimension pair, aligned from the right, must be equal or contain a 1)"
    }
}

/// The numpy broadcast of two shapes: right-aligned, each dimension pair equal or one of them 1.
/// A dimension of 0 broadcasts against 1 (giving 0) exactly as numpy does.
public func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    if a == b { return a }
    let rank = max(a.count, b.count)
    var out = Array(repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
            throw BroadcastError(shapes: [a, b])
        }
    }
    return out
}

/// The numpy broadcast of any number of shapes (variadic Sum, Max, Where...).
public func broadcastShape(_ shapes: [[Int]]) throws -> [Int] {
    guard var out = shapes.first else { return [] }
    for s in shapes.dropFirst() {
        do { out = try broadcastShape(out, s) } catch { throw BroadcastError(shapes: shapes) }
    }
    return out
}

/// How up to three operands map onto a broadcast output, with adjacent dimensions merged wherever every
/// operand is contiguous across them (or broadcast across both). A [N,C,H,W] + [1,C,1,1] add collapses
/// to dims [N, C, H*W] with the channel operand's innermost step 0: the kernel's inner loop then adds a
/// constant to a contiguous run, which vectorises.
public struct BroadcastPlan: Sendable {
    /// The broadcast output shape.
    public let shape: [Int]
    public let count: Int
    /// Collapsed output dimensions (at least one).
    @usableFromInline let dims: [Int]
    /// Per operand, per collapsed dimension: the element stride (0 where broadcast).
    @usableFromInline let strides: [[Int]]

    public init(_ shapes: [[Int]]) throws {
        precondition(!shapes.isEmpty && shapes.count <= 3, "BroadcastPlan takes 1 to 3 operands")
        let out = try broadcastShape(shapes)
        // NOTE: checked at 4 bytes an element whatever the type: small inputs can broadcast to any size.
        try MemoryBudget.current.check(shape: out, dtype: .float32,
                                       what: "the broadcast of \(shapes.map { "\($0)" }.joined(separator: " and "))")
        shape = out
        count = out.reduce(1, *)
        let rank = out.count
        // Right-align every operand and give broadcast dimensions stride 0.
        let full: [[Int]] = shapes.map { s in
            let padded = Array(repeating: 1, count: rank - s.count) + s
            let st = Tensor.strides(of: padded)
            return (0..<rank).map { padded[$0] == 1 && out[$0] != 1 ? 0 : st[$0] }
        }
        // Drop size-1 output dimensions, then merge neighbours i-1, i when every operand has
        // stride[i-1] == stride[i] * dim[i] (0 == 0 * dim included).
        var d: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: shapes.count)
        for i in 0..<rank where out[i] != 1 {
            if let last = d.last, (0..<shapes.count).allSatisfy({ st[$0].last! == full[$0][i] * out[i] }) {
                d[d.count - 1] = last * out[i]
                for k in 0..<shapes.count { st[k][st[k].count - 1] = full[k][i] }
            } else {
                d.append(out[i])
                for k in 0..<shapes.count { st[k].append(full[k][i]) }
            }
        }
        if d.isEmpty {
            d = [1]
            st = Array(repeating: [1], count: shapes.count)
        }
        dims = d
        strides = st
    }

    public init(_ a: [Int], _ b: [Int]) throws { try self.init([a, b]) }

    /// Per operand, the step between consecutive elements of a run: 1 (contiguous) or 0 (broadcast).
    @inlinable public func innerStep(_ operand: Int) -> Int { strides[operand][dims.count - 1] }

    /// Calls `body(outputStart, operandStarts, length)` for each contiguous run of the output, in order.
    /// Within a run, operand k advances by `innerStep(k)` per element. `operandStarts` has three entries
    /// (unused operands read 0).
    @inlinable @inline(__always)
    public func forEachRun(_ body: (_ outputStart: Int, _ a: Int, _ b: Int, _ c: Int, _ length: Int) -> Void) {
        if count == 0 { return }
        let r = dims.count
        let n = dims[r - 1]
        let k = strides.count
        let s0 = strides[0], s1 = k > 1 ? strides[1] : Array(repeating: 0, count: r)
        let s2 = k > 2 ? strides[2] : Array(repeating: 0, count: r)
        if r == 1 { body(0, 0, 0, 0, n); return }
        var index = Array(repeating: 0, count: r - 1)
        var o = 0, a = 0, b = 0, c = 0
        while true {
            body(o, a, b, c, n)
            o += n
            // Odometer over the outer dimensions.
            var j = r - 2
            while j >= 0 {
                index[j] += 1
                a += s0[j]; b += s1[j]; c += s2[j]
                if index[j] < dims[j] { break }
                a -= s0[j] * dims[j]; b -= s1[j] * dims[j]; c -= s2[j] * dims[j]
                index[j] = 0
                j -= 1
            }
            if j < 0 { return }
        }
    }
}

/// `out[i] = op(a[i'], b[i''])` with numpy broadcasting. `A`, `B` must match the tensors' dtypes;
/// the output has dtype `R.dtype` and the broadcast shape.
@inlinable @inline(__always)
public func broadcastBinary<A: TensorElement, B: TensorElement, R: TensorElement>(
    _ a: Tensor, _ b: Tensor, _: A.Type, _: B.Type, _: R.Type, _ op: (A, B) -> R
) throws -> Tensor {
    let pa = a.pointer(as: A.self), pb = b.pointer(as: B.self)
    if a.shape == b.shape {
        let out = Tensor(uninitialized: a.shape, dtype: R.dtype)
        let po = out.storage.pointer.assumingMemoryBound(to: R.self)
        for i in 0..<a.count { po[i] = op(pa[i], pb[i]) }
        return out
    }
    let plan = try BroadcastPlan(a.shape, b.shape)
    let out = Tensor(uninitialized: plan.shape, dtype: R.dtype)
    let po = out.storage.pointer.assumingMemoryBound(to: R.self)
    let sa = plan.innerStep(0), sb = plan.innerStep(1)
    plan.forEachRun { o, ia, ib, _, n in
        if sa == 1 && sb == 1 {
            for i in 0..<n { po[o + i] = op(pa[ia + i], pb[ib + i]) }
        } else if sa == 1 {
            let y = pb[ib]
            for i in 0..<n { po[o + i] = op(pa[ia + i], y) }
        } else if sb == 1 {
            let x = pa[ia]
            for i in 0..<n { po[o + i] = op(x, pb[ib + i]) }
        } else {
            let v = op(pa[ia], pb[ib])
            for i in 0..<n { po[o + i] = v }
        }
    }
    return out
}

/// a + b, a - b, a · b or a / b for float32 tensors with numpy broadcasting, through `mc_binary` (Sources/CKernels:
/// AVX-512 or AVX2 where the CPU has them; IEEE single operations, so the same bits as `broadcastBinary`). Equal
/// shapes are cut into chunks over the threads; broadcast ones go run by run.
public func floatArithmetic(_ a: Tensor, _ b: Tensor, _ op: mc_arithmetic) throws -> Tensor {
    let pa = a.pointer(as: Float.self), pb = b.pointer(as: Float.self)
    let code = Int32(op.rawValue)
    if a.shape == b.shape {
        let out = Tensor(uninitialized: a.shape, dtype: .float32)
        nonisolated(unsafe) let (x, z, y) = (pa, pb, out.pointer(as: Float.self))
        parallelChunks(a.count) { r in
            mc_binary(code, x + r.lowerBound, 1, z + r.lowerBound, 1, y + r.lowerBound, r.count)
        }
        return out
    }
    let plan = try BroadcastPlan(a.shape, b.shape)
    let out = Tensor(uninitialized: plan.shape, dtype: .float32)
    let po = out.pointer(as: Float.self)
    let sa = plan.innerStep(0) == 1 ? 1 : 0, sb = plan.innerStep(1) == 1 ? 1 : 0
    plan.forEachRun { o, ia, ib, _, n in
        mc_binary(code, pa + ia, sa, pb + ib, sb, po + o, n)
    }
    return out
}

/// `out[i] = op(a[i'], b[i''], c[i'''])` with numpy broadcasting of all three (ONNX `Where`).
@inlinable @inline(__always)
public func broadcastTernary<A: TensorElement, B: TensorElement, C: TensorElement, R: TensorElement>(
    _ a: Tensor, _ b: Tensor, _ c: Tensor, _: A.Type, _: B.Type, _: C.Type, _: R.Type, _ op: (A, B, C) -> R
) throws -> Tensor {
    let plan = try BroadcastPlan([a.shape, b.shape, c.shape])
    let out = Tensor(uninitialized: plan.shape, dtype: R.dtype)
    let pa = a.pointer(as: A.self), pb = b.pointer(as: B.self), pc = c.pointer(as: C.self)
    let po = out.storage.pointer.assumingMemoryBound(to: R.self)
    let sa = plan.innerStep(0), sb = plan.innerStep(1), sc = plan.innerStep(2)
    plan.forEachRun { o, ia, ib, ic, n in
        for i in 0..<n { po[o + i] = op(pa[ia + i * sa], pb[ib + i * sb], pc[ic + i * sc]) }
    }
    return out
}

/// A broadcasting binary kernel for tensors whose elements are `String` (Equal on strings).
public func broadcastStrings<R: TensorElement>(_ a: Tensor, _ b: Tensor, _: R.Type,
                                               _ op: (String, String) -> R) throws -> Tensor {
    let plan = try BroadcastPlan(a.shape, b.shape)
    let out = Tensor(uninitialized: plan.shape, dtype: R.dtype)
    let po = out.storage.pointer.assumingMemoryBound(to: R.self)
    let sa = a.strings, sb = b.strings
    let da = plan.innerStep(0), db = plan.innerStep(1)
    plan.forEachRun { o, ia, ib, _, n in
        for i in 0..<n { po[o + i] = op(sa[ia + i * da], sb[ib + i * db]) }
    }
    return out
}

// MARK: Unary maps

extension Tensor {
    /// A new tensor of the same shape with `f` applied to every element. `T` must match `dtype`.
    @inlinable @inline(__always)
    public func mapElements<T: TensorElement, R: TensorElement>(_: T.Type, to _: R.Type,
                                                                _ f: (T) -> R) -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: R.dtype)
        let src = pointer(as: T.self)
        let dst = out.storage.pointer.assumingMemoryBound(to: R.self)
        for i in 0..<count { dst[i] = f(src[i]) }
        return out
    }

    /// float32 -> float32 map.
    @inlinable
    public func mapFloats(_ f: (Float) -> Float) -> Tensor { mapElements(Float.self, to: Float.self, f) }
}

// MARK: Float arithmetic (the trainer's entry points)

/// The four arithmetic operations with a float32 fast path (and float64); other dtypes go through the
/// runtime's generic operators.
public enum ArithmeticOperation: Sendable {
    case add, subtract, multiply, divide
}

/// Broadcasting `a op b` for float32 or float64 tensors of the same dtype.
public func broadcastArithmetic(_ op: ArithmeticOperation, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    guard a.dtype == b.dtype, a.dtype == .float32 || a.dtype == .float64 else {
        throw TensorTypeError(
            "element-wise arithmetic needs two float32 or two float64 tensors; got \(a.dtype) and \(b.dtype)")
    }
    if a.dtype == .float64 {
        switch op {
        case .add: return try broadcastBinary(a, b, Double.self, Double.self, Double.self, +)
        case .subtract: return try broadcastBinary(a, b, Double.self, Double.self, Double.self, -)
        case .multiply: return try broadcastBinary(a, b, Double.self, Double.self, Double.self, *)
        case .divide: return try broadcastBinary(a, b, Double.self, Double.self, Double.self, /)
        }
    }
    switch op {
    case .add: return try broadcastBinary(a, b, Float.self, Float.self, Float.self, +)
    case .subtract: return try broadcastBinary(a, b, Float.self, Float.self, Float.self, -)
    case .multiply: return try broadcastBinary(a, b, Float.self, Float.self, Float.self, *)
    case .divide: return try broadcastBinary(a, b, Float.self, Float.self, Float.self, /)
    }
}

/// A tensor of an element type a kernel does not handle.
public struct TensorTypeError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Tensor {
    /// `self + other`, broadcasting (float32/float64).
    public func adding(_ other: Tensor) throws -> Tensor { try broadcastArithmetic(.add, self, other) }
    /// `self * scalar`, float32.
    public func scaled(by scalar: Float) -> Tensor { mapFloats { $0 * scalar } }
}

/// Sums a broadcast gradient back to the operand's shape: the backward of broadcasting.
/// `gradient` has the broadcast output shape; the result has `shape` (which must broadcast to it). float32.
public func reduceToShape(_ gradient: Tensor, _ shape: [Int]) throws -> Tensor {
    if gradient.shape == shape { return gradient }
    let plan = try BroadcastPlan([gradient.shape, shape])
    guard plan.shape == gradient.shape else { throw BroadcastError(shapes: [gradient.shape, shape]) }
    let out = Tensor(zeros: shape, dtype: .float32)
    let g = gradient.pointer(as: Float.self), o = out.pointer(as: Float.self)
    let step = plan.innerStep(1)
    plan.forEachRun { _, ig, io, _, n in
        if step == 1 {
            for i in 0..<n { o[io + i] += g[ig + i] }
        } else {
            var s: Float = 0
            for i in 0..<n { s += g[ig + i] }
            o[io] += s
        }
    }
    return out
}
