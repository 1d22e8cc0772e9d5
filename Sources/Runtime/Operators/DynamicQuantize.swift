import Foundation
import ONNX
import Tensor

// DynamicQuantizeLinear (opset 11): float32 x -> uint8 y, float32 y_scale, uint8 y_zero_point, the scale and
// zero point chosen from x's own range, which is widened to hold 0 (the ONNX reference):
//   scale = (max(x, 0) - min(x, 0)) / 255,  zero_point = saturate(round(-min(x, 0) / scale)),
//   y = saturate(round(x / scale) + zero_point), rounding half to even, saturating to [0, 255].
// onnxruntime's dynamically quantised models (MatMulInteger / ConvInteger after it) start with it. An all-zero
// x has scale 0: y and the zero point are 0 then.

let quantizationOperators: [Registration] = [
    Registration("DynamicQuantizeLinear", since: 11) { _ in DynamicQuantizeLinearOperator() },
]

struct DynamicQuantizeLinearOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "x")
        guard x.dtype == .float32 else { throw KernelError("x is \(x.dtype); DynamicQuantizeLinear takes float32") }
        try requireAllocatable(x.shape, .uint8)
        let values = UnsafeBufferPointer(start: x.pointer(as: Float.self), count: x.count)
        var lower: Float = 0, upper: Float = 0
        for v in values {
            guard v.isFinite else { throw KernelError("x holds \(v); DynamicQuantizeLinear needs finite values") }
            lower = min(lower, v)
            upper = max(upper, v)
        }
        let scale = (upper - lower) / 255
        let saturate = { (v: Float) -> UInt8 in UInt8(min(max(v.rounded(.toNearestOrEven), 0), 255)) }
        let zeroPoint = scale > 0 ? saturate(-lower / scale) : 0
        let quantized: [UInt8] = scale > 0 ? values.map { v in
            UInt8(min(max((v / scale).rounded(.toNearestOrEven) + Float(zeroPoint), 0), 255))
        } : Array(repeating: 0, count: x.count)
        return [Tensor(shape: x.shape, scalars: quantized), Tensor(shape: [], scalars: [scale]),
                Tensor(shape: [], scalars: [zeroPoint])]
    }
}

/// An int8 or uint8 tensor as float32 less its zero points: `zeros[i / every]` for element i (one zero point:
/// `every` = the count; per output channel: the channel's size). ConvInteger's and DynamicQuantizeLSTM's
/// operands.
func eightBitFloats(_ t: Tensor, less zeros: [Float], every: Int) -> Tensor {
    precondition(t.dtype == .int8 || t.dtype == .uint8, "eightBitFloats: \(t.dtype)")
    let out = Tensor(uninitialized: t.shape, dtype: .float32)
    let dst = out.pointer(as: Float.self), every = max(1, every)
    func convert<T: BinaryInteger>(_ src: UnsafePointer<T>) {
        for i in 0..<t.count { dst[i] = Float(src[i]) - zeros[i / every] }
    }
    if t.dtype == .int8 { convert(t.pointer(as: Int8.self)) } else { convert(t.pointer(as: UInt8.self)) }
    return out
}
