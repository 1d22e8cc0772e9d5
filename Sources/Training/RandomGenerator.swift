import Foundation
import RealModule
import Tensor

/// A seeded, serialisable random generator (xoshiro256**, seeded through SplitMix64). Everything random in
/// training — initialisation, instance noise, label noise and flips, dropout — draws from one of these, so
/// a run is a function of its seed and a checkpoint can store the exact state.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        var z = seed
        var s = [UInt64](repeating: 0, count: 4)
        for i in 0..<4 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            s[i] = x ^ (x >> 31)
        }
        state = s
    }

    /// Restores a saved `state` (four words).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "generator state must be four words, not all zero")
        self.state = state
    }

    public mutating func next() -> UInt64 {
        let result = ((state[1] &* 5) << 7 | (state[1] &* 5) >> 57) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]; state[3] ^= state[1]; state[1] ^= state[2]; state[0] ^= state[3]
        state[2] ^= t
        state[3] = state[3] << 45 | state[3] >> 19
        return result
    }

    /// Uniform in [0, 1) with 24 bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// A tensor of N(mean, std^2) samples: Box-Muller in Float, two samples per 64-bit draw (24-bit
    /// uniforms, so |z| <= 5.8: the tail beyond is cut, which instance noise and initialisation never miss).
    /// Large tensors are filled in parallel in fixed pieces of 64 Ki elements, each from its own generator
    /// seeded by this one in order: the result depends on the seed only, never on the thread count.
    public mutating func normal(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let base = t.floats.baseAddress!, count = t.count
        let piece = 1 << 16
        if count <= piece {
            Self.fillNormal(&self, base, count, mean, std)
            return t
        }
        let pieces = (count + piece - 1) / piece
        let seeds = (0..<pieces).map { _ in next() }
        concurrentFor(pieces) { i in
            var g = RandomGenerator(seed: seeds[i])
            Self.fillNormal(&g, base + i * piece, min(piece, count - i * piece), mean, std)
        }
        return t
    }

    private static func fillNormal(_ g: inout RandomGenerator, _ p: UnsafeMutablePointer<Float>, _ count: Int, _ mean: Float, _ std: Float) {
        var i = 0
        while i < count {
            let bits = g.next()
            let u1 = (Float(bits >> 40) + 1) * 0x1p-24            // (0, 1]
            let u2 = Float((bits >> 8) & 0xFF_FFFF) * 0x1p-24     // [0, 1)
            let r = (-2 * Float.log(u1)).squareRoot(), a = 2 * Float.pi * u2
            p[i] = mean + std * r * Float.cos(a)
            if i + 1 < count { p[i + 1] = mean + std * r * Float.sin(a) }
            i += 2
        }
    }
}
