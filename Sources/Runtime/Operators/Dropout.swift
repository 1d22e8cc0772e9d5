import ONNX
import Tensor

/// Dropout. Inference (the default) is the identity with an all-true mask, sharing the input's storage.
/// Training mode (opset 12+, `training_mode` input true) zeroes each element with probability `ratio`
/// and scales the rest by 1 / (1 - ratio); float32 only. With a `seed` attribute the mask is the one
/// numpy's `RandomState(seed).uniform(0, 1, shape) >= ratio` draws (as the ONNX reference does), the
/// same on every run; without one it is fresh randomness.
struct DropoutOperator: Operator {
    let ratio: Float
    let inputsFromOpset12: Bool
    /// Before opset 10 the mask has the data's type; from 10 it is bool.
    let boolMask: Bool
    let wantsMask: Bool
    let seed: UInt32?

    init(_ ctx: OperatorContext) throws {
        inputsFromOpset12 = ctx.opset >= 12
        ratio = inputsFromOpset12 ? 0.5 : try ctx.node.float("ratio", default: 0.5)
        boolMask = ctx.opset >= 10
        wantsMask = ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
        seed = try ctx.node.int("seed").map { UInt32(truncatingIfNeeded: $0) }
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        let x = shapes.first ?? nil
        return wantsMask ? [x, x] : [x]
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        var ratio = self.ratio
        var training = false
        if inputsFromOpset12 {
            if let r = inputs.optional(1), r.count > 0 { ratio = Float(r.doubles()[0]) }
            if let t = inputs.optional(2), t.count > 0 { training = t.doubles()[0] != 0 }
        }
        guard training && ratio > 0 else {
            guard wantsMask else { return [x] }
            let mask = boolMask ? broadcasted(Tensor(scalar: true), to: x.shape)
                : broadcasted(scalarTensor(1, dtype: x.dtype), to: x.shape)
            return [x, mask]
        }
        guard x.dtype == .float32 else {
            throw KernelError("training-mode Dropout supports float32 only, input is \(x.dtype)")
        }
        guard ratio < 1 else { throw KernelError("ratio \(ratio) must be below 1 in training mode") }
        let y = Tensor(uninitialized: x.shape)
        let mask = Tensor(uninitialized: x.shape, dtype: .bool)
        let src = x.floats, dst = y.floats, keep = mask.buffer(as: Bool.self)
        let scale = 1 / (1 - ratio)
        var twister = MersenneTwister(seed: seed ?? UInt32.random(in: .min ... .max))
        for i in 0..<src.count {
            keep[i] = twister.nextDouble() >= Double(ratio)
            dst[i] = keep[i] ? src[i] * scale : 0
        }
        return wantsMask ? [y, mask] : [y]
    }
}

/// MT19937 seeded as numpy's legacy `RandomState(seed)`, drawing doubles as its `random_sample`
/// (53 bits from two 32-bit outputs).
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// A double uniform in [0, 1).
    mutating func nextDouble() -> Double {
        let a = Double(next() >> 5), b = Double(next() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }
}
