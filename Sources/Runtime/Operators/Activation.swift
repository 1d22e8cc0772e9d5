import ONNX
import RealModule
import Tensor

// Activations: one input X, one output of X's shape. float32 Relu, LeakyRelu, Sigmoid and Tanh call the
// trainer's kernels (Sources/Tensor/Activations.swift); the rest use the scalar formulas of
// `ActivationMath` for every floating dtype. Relu (14+), PRelu (9+) and Clip (12+) also take integers.

let activationOperators: [Registration] = [
    Registration("Relu", since: 1) { _ in ClosureOperator(shape: .sameAsInput) { [try relu(try $0.required(0, "X"))] } },
    Registration("LeakyRelu", since: 1) { ctx in try LeakyReluOperator(ctx) },
    Registration("PRelu", since: 1) { _ in ClosureOperator(shape: .sameAsInput) { [try prelu(try $0.required(0, "X"), try $0.required(1, "slope"))] } },
    Registration("Sigmoid", since: 1) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "X")
            return [x.dtype == .float32 ? sigmoidForward(x) : try mapFloating(x, SigmoidMap(), op: "Sigmoid")]
        }
    },
    Registration("Tanh", since: 1) { _ in
        ClosureOperator(shape: .sameAsInput) { inputs in
            let x = try inputs.required(0, "X")
            return [x.dtype == .float32 ? tanhForward(x) : try mapFloating(x, TanhMap(), op: "Tanh")]
        }
    },
    Registration("Elu", since: 1) { ctx in
        floatingMap("Elu", EluMap(alpha: Double(try ctx.node.float("alpha", default: 1))))
    },
    Registration("Selu", since: 1) { ctx in
        floatingMap("Selu", SeluMap(alpha: Double(try ctx.node.float("alpha", default: 1.67326319217681884765625)),
                                    gamma: Double(try ctx.node.float("gamma", default: 1.05070102214813232421875))))
    },
    Registration("Celu", since: 12) { ctx in
        floatingMap("Celu", CeluMap(alpha: Double(try ctx.node.float("alpha", default: 1))))
    },
    Registration("HardSigmoid", since: 1) { ctx in
        floatingMap("HardSigmoid", HardSigmoidMap(alpha: Double(try ctx.node.float("alpha", default: 0.2)),
                                                  beta: Double(try ctx.node.float("beta", default: 0.5))))
    },
    Registration("HardSwish", since: 14) { _ in floatingMap("HardSwish", HardSwishMap()) },
    Registration("Softplus", since: 1) { _ in floatingMap("Softplus", SoftplusMap()) },
    Registration("Softsign", since: 1) { _ in floatingMap("Softsign", SoftsignMap()) },
    Registration("Gelu", since: 20) { ctx in
        switch try ctx.node.string("approximate", default: "none") {
        case "none": return floatingMap("Gelu", GeluMap())
        case "tanh": return floatingMap("Gelu", GeluTanhMap())
        case let other: throw ctx.node.invalid("approximate", "must be \"none\" or \"tanh\"; got \"\(other)\"")
        }
    },
    Registration("Mish", since: 18) { _ in floatingMap("Mish", MishMap()) },
    Registration("ThresholdedRelu", since: 10) { ctx in
        floatingMap("ThresholdedRelu", ThresholdedReluMap(alpha: Double(try ctx.node.float("alpha", default: 1))))
    },
    Registration("Swish", since: 24) { ctx in
        floatingMap("Swish", SwishMap(alpha: Double(try ctx.node.float("alpha", default: 1))))
    },
    Registration("SwiGLU", since: 28) { ctx in
        let gate = SwiGLUOp(alpha: Double(try ctx.node.float("alpha", default: 1)))
        return ClosureOperator { inputs in
            let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
            guard a.shape == b.shape else {
                throw KernelError("A \(shapeString(a.shape)) and B \(shapeString(b.shape)) must have one shape (no broadcasting)")
            }
            guard a.dtype.isFloatingPoint else { throw elementTypeError("SwiGLU", a.dtype) }
            return [try numericBinary(a, b, gate)]
        }
    },
    Registration("Shrink", since: 9) { ctx in try ShrinkOperator(ctx) },
    Registration("Clip", 1...10) { ctx in try ClipAttributesOperator(ctx) },
    Registration("Clip", since: 11) { _ in ClipOperator() },
]

// MARK: Relu family

private func relu(_ x: Tensor) throws -> Tensor {
    switch x.dtype {
    case .float32: return reluForward(x)
    case .int8: return x.mapElements(Int8.self, to: Int8.self) { max($0, 0) }
    case .int16: return x.mapElements(Int16.self, to: Int16.self) { max($0, 0) }
    case .int32: return x.mapElements(Int32.self, to: Int32.self) { max($0, 0) }
    case .int64: return x.mapElements(Int64.self, to: Int64.self) { max($0, 0) }
    default: return try mapFloating(x, ReluMap(), op: "Relu")
    }
}

private struct LeakyReluOperator: ShapePreserving {
    let alpha: Float
    init(_ ctx: OperatorContext) throws { alpha = try ctx.node.float("alpha", default: 0.01) }
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        if x.dtype == .float32 { return [leakyReluForward(x, negativeSlope: alpha)] }
        return [try mapFloating(x, LeakyReluMap(alpha: Double(alpha)), op: "LeakyRelu")]
    }
}

/// Y = X where X >= 0, slope * X elsewhere; slope broadcasts to X (numpy rules). As in the ONNX reference,
/// a 1-D slope that does not broadcast but whose length matches exactly one dimension of X applies there.
private func prelu(_ x: Tensor, _ slope: Tensor) throws -> Tensor {
    var s = slope
    if (try? broadcastShape(x.shape, slope.shape)) == nil, slope.rank == 1 {
        let matches = x.shape.indices.filter { x.shape[$0] == slope.shape[0] }
        if matches.count == 1 {
            s = slope.reshaped(x.shape.indices.map { $0 == matches[0] ? slope.shape[0] : 1 })
        }
    }
    let y = try numericBinary(x, s, PReluOp())
    guard y.shape == x.shape else {
        throw KernelError("slope \(shapeString(slope.shape)) must broadcast to X \(shapeString(x.shape))")
    }
    return y
}

private struct PReluOp: NumericBinary {
    static let name = "PRelu"
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a < 0 ? a * b : a }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { a < 0 ? a &* b : a }
}

/// Shrink: x + bias below -lambd, x - bias above lambd, 0 between. Integers compute in double and convert back.
private struct ShrinkOperator: ShapePreserving {
    let map: ShrinkMap
    init(_ ctx: OperatorContext) throws {
        map = ShrinkMap(bias: Double(try ctx.node.float("bias", default: 0)),
                        lambd: Double(try ctx.node.float("lambd", default: 0.5)))
    }
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        if x.dtype.isInteger {
            return [try withKernelErrors { try mapFloating(try x.converted(to: .float64), map, op: "Shrink").converted(to: x.dtype) }]
        }
        return [try mapFloating(x, map, op: "Shrink")]
    }
}

private struct ShrinkMap: RealMap {
    let bias: Double, lambd: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        x < -T(lambd) ? x + T(bias) : (x > T(lambd) ? x - T(bias) : 0)
    }
}

// MARK: Clip

/// Clip before opset 11: bounds are the `min` / `max` attributes (float types only).
private struct ClipAttributesOperator: ShapePreserving {
    let low: Double
    let high: Double
    init(_ ctx: OperatorContext) throws {
        low = Double(try ctx.node.float("min", default: -Float.greatestFiniteMagnitude))
        high = Double(try ctx.node.float("max", default: Float.greatestFiniteMagnitude))
    }
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [try mapFloating(try inputs.required(0, "input"), ClipMap(low: low, high: high), op: "Clip")]
    }
}

/// Clip from opset 11: optional scalar inputs `min` (1) and `max` (2) of the input's type; integers from 12.
/// NOTE: with min > max every element becomes max, as numpy.clip does.
private struct ClipOperator: ShapePreserving {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let low = inputs.optional(1), high = inputs.optional(2)
        for (bound, name) in [(low, "min"), (high, "max")] {
            guard let bound else { continue }
            guard bound.count == 1 else { throw KernelError("\(name) must be a scalar, got shape \(shapeString(bound.shape))") }
            guard bound.dtype == x.dtype else { throw KernelError("\(name) is \(bound.dtype), input is \(x.dtype)") }
        }
        if low == nil && high == nil { return [x] }
        switch x.dtype {
        case .float32, .float64, .float16, .bfloat16:
            let lo = low?.doubles()[0] ?? -.infinity, hi = high?.doubles()[0] ?? .infinity
            return [try mapFloating(x, ClipMap(low: lo, high: hi), op: "Clip")]
        case .int8: return [clipIntegers(x, low, high, Int8.self)]
        case .int16: return [clipIntegers(x, low, high, Int16.self)]
        case .int32: return [clipIntegers(x, low, high, Int32.self)]
        case .int64: return [clipIntegers(x, low, high, Int64.self)]
        case .uint8: return [clipIntegers(x, low, high, UInt8.self)]
        case .uint16: return [clipIntegers(x, low, high, UInt16.self)]
        case .uint32: return [clipIntegers(x, low, high, UInt32.self)]
        case .uint64: return [clipIntegers(x, low, high, UInt64.self)]
        default: throw elementTypeError("Clip", x.dtype)
        }
    }

    private func clipIntegers<T: FixedWidthInteger & TensorElement>(_ x: Tensor, _ low: Tensor?, _ high: Tensor?,
                                                                  _: T.Type) -> Tensor {
        let lo = low?.pointer(as: T.self).pointee ?? T.min
        let hi = high?.pointer(as: T.self).pointee ?? T.max
        return x.mapElements(T.self, to: T.self) { v in
            var r = v
            if r < lo { r = lo }
            if r > hi { r = hi }
            return r
        }
    }
}

private struct ClipMap: RealMap {
    let low: Double, high: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        var r = x   // NaN stays NaN: both comparisons are false.
        if r < T(low) { r = T(low) }
        if r > T(high) { r = T(high) }
        return r
    }
}

// MARK: Scalar formulas as maps

private struct ReluMap: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x > 0 ? x : 0 } }
private struct LeakyReluMap: RealMap {
    let alpha: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x >= 0 ? x : x * T(alpha) }
}
private struct SigmoidMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.sigmoid(x) }
}
private struct TanhMap: RealMap { func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { T.tanh(x) } }
private struct EluMap: RealMap {
    let alpha: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.elu(x, alpha: T(alpha)) }
}
private struct SeluMap: RealMap {
    let alpha: Double, gamma: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        ActivationMath.selu(x, alpha: T(alpha), gamma: T(gamma))
    }
}
private struct CeluMap: RealMap {
    let alpha: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.celu(x, alpha: T(alpha)) }
}
private struct HardSigmoidMap: RealMap {
    let alpha: Double, beta: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        ActivationMath.hardSigmoid(x, alpha: T(alpha), beta: T(beta))
    }
}
struct HardSwishMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.hardSwish(x) }
}
private struct SoftplusMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.softplus(x) }
}
private struct SoftsignMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.softsign(x) }
}
private struct GeluMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.gelu(x) }
}
private struct GeluTanhMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.geluTanh(x) }
}
private struct MishMap: RealMap {
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.mish(x) }
}
/// x * sigmoid(alpha * x).
private struct SwishMap: RealMap {
    let alpha: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x * ActivationMath.sigmoid(T(alpha) * x) }
}
/// Swish(a) * b.
private struct SwiGLUOp: NumericBinary {
    static let name = "SwiGLU"
    let alpha: Double
    func real<T: Real & BinaryFloatingPoint>(_ a: T, _ b: T) -> T { a * ActivationMath.sigmoid(T(alpha) * a) * b }
    func integer<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? { nil }
}
private struct ThresholdedReluMap: RealMap {
    let alpha: Double
    func callAsFunction<T: Real & BinaryFloatingPoint>(_ x: T) -> T { ActivationMath.thresholdedRelu(x, alpha: T(alpha)) }
}
