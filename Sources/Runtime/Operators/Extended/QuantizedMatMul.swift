import Foundation
import ONNX
import Tensor

let quantizedMatMulOperators: [Registration] = [
    Registration("MatMulInteger", since: 10) { _ in MatMulIntegerOperator() },
    Registration("QLinearMatMul", since: 10) { _ in QLinearMatMulOperator() },
]

// MatMulInteger and QLinearMatMul: integer products of zero-point-shifted 8-bit operands, as the ONNX reference computes them (numpy broadcasting of the
// zero points and scales, int32 accumulation, round half to even, saturation).

/// `values` (of `shape`) minus `t` broadcast numpy-style to `shape`.
private func subtractBroadcast(_ values: inout [Double], _ shape: [Int], _ t: Tensor?) throws {
    guard let t else { return }
    let tv = t.doubles()
    if tv.count == 1 { for i in values.indices { values[i] -= tv[0] }; return }
    guard broadcastsTo(t.shape, shape) else {
        throw KernelError("zero point \(shapeString(t.shape)) does not broadcast to \(shapeString(shape))")
    }
    let padded = Array(repeating: 1, count: shape.count - t.rank) + t.shape
    let srcStrides = Tensor.strides(of: padded), dstStrides = Tensor.strides(of: shape)
    for i in values.indices {
        var rest = i, o = 0
        for d in 0..<shape.count {
            let k = rest / dstStrides[d]
            rest %= dstStrides[d]
            if padded[d] != 1 { o += k * srcStrides[d] }
        }
        values[i] -= tv[o]
    }
}

/// (A - a_zero_point) x (B - b_zero_point) with numpy matmul batching, exact in Double for 8-bit inputs.
private func shiftedProduct(_ a: Tensor, _ azp: Tensor?, _ b: Tensor, _ bzp: Tensor?) throws -> Tensor {
    var av = a.doubles(), bv = b.doubles()
    try subtractBroadcast(&av, a.shape, azp)
    try subtractBroadcast(&bv, b.shape, bzp)
    return try MatMulOperator().run([Tensor(shape: a.shape, scalars: av), Tensor(shape: b.shape, scalars: bv)])[0]
}

/// The common case in one dgemm: A [..., K] times a weight B [K, N], zero points per tensor (or none); nil
/// where it does not apply (then `shiftedProduct`'s general broadcasting runs).
private func weightProduct(_ a: Tensor, _ azp: Tensor?, _ b: Tensor, _ bzp: Tensor?) throws -> Tensor? {
    guard a.rank >= 2, b.rank == 2, a.shape[a.rank - 1] == b.shape[0], azp.map({ $0.count == 1 }) ?? true,
          bzp.map({ $0.count == 1 }) ?? true else { return nil }
    let (k, n) = (b.shape[0], b.shape[1]), rows = a.count / max(1, k)
    let outShape = Array(a.shape.dropLast()) + [n]
    try requireAllocatable(outShape, .float64)
    var av = a.doubles(), bv = b.doubles()
    try subtractBroadcast(&av, a.shape, azp)
    try subtractBroadcast(&bv, b.shape, bzp)
    var y = [Double](repeating: 0, count: rows * n)
    av.withUnsafeBufferPointer { ap in
        bv.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                dgemm(m: rows, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: yp.baseAddress!)
            }
        }
    }
    // int32 accumulation as the spec has it: the exact sum, wrapped to 32 bits.
    return Tensor(shape: outShape, scalars: y.map { Int32(truncatingIfNeeded: Int64($0)) })
}

struct MatMulIntegerOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        if let product = try weightProduct(a, inputs.optional(2), b, inputs.optional(3)) { return [product] }
        let product = try shiftedProduct(a, inputs.optional(2), b, inputs.optional(3))
        return [Tensor.fromDoubles(product.doubles(), shape: product.shape, dtype: .int32)]
    }
}

struct QLinearMatMulOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "a"), aScale = try inputs.required(1, "a_scale")
        let b = try inputs.required(3, "b"), bScale = try inputs.required(4, "b_scale")
        let yScale = try inputs.required(6, "y_scale")
        let yZero = inputs.optional(7)
        let product = try shiftedProduct(a, inputs.optional(2), b, inputs.optional(5))
        guard aScale.count == 1, bScale.count == 1, yScale.count == 1 else {
            throw KernelError("only per-tensor scales are supported; got a_scale \(shapeString(aScale.shape)), "
                + "b_scale \(shapeString(bScale.shape)), y_scale \(shapeString(yScale.shape))")
        }
        // The factor a_scale * b_scale / y_scale is computed in the scales' own precision, as numpy does.
        let (sa, sb, sy) = (aScale.doubles()[0], bScale.doubles()[0], yScale.doubles()[0])
        let factor: Double
        switch aScale.dtype {
        case .float16: factor = Double(Float(Float16(Float(Float16(Float(sa) * Float(sb))) / Float(sy))))
        case .float32: factor = Double(Float(Float(sa) * Float(sb)) / Float(sy))
        default: factor = sa * sb / sy
        }
        let outType = yZero?.dtype ?? a.dtype
        let (lo, hi): (Double, Double) = outType == .uint8 ? (0, 255) : (outType == .int8 ? (-128, 127) : (-.infinity, .infinity))
        if let yZero, yZero.count != 1 { throw KernelError("y_zero_point must hold one value; got \(shapeString(yZero.shape))") }
        let zero = yZero?.doubles()[0] ?? 0
        let values = product.doubles().map { c in min(max((c * factor + zero).rounded(.toNearestOrEven), lo), hi) }
        return [Tensor.fromDoubles(values, shape: product.shape, dtype: outType)]
    }
}
