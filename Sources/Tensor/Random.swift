import RealModule

// The package's one family of seeded random generators, so that synthetic pages, crops, augmentations and
// training runs are the same on every machine and Swift version (the standard library's
// `random(in:using:)` algorithms are not promised stable, so nothing here uses them).
//
// SplitMix64 (Steele, Lea & Flood 2014): 64-bit state, passes BigCrush, any seed (0 included) is fine. Colorize
// draws pages, crops and augmentations from it.
//   API: SplitMix64(seed:), next() -> UInt64, nextDouble() -> [0, 1), uniform(lo, hi), int(below:),
//        int(in: ClosedRange), chance(p), pick(array), SplitMix64.derive(seed, index) for independent streams.
// RandomGenerator: xoshiro256** (Blackman & Vigna 2018) seeded by SplitMix64, as its authors recommend; its
// four-word state is what a training checkpoint stores. Training draws initialisation, noise, labels and
// dropout from it.

public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * nextDouble()
    }

    /// Uniform integer in 0 ..< n (n > 0), by Lemire's multiply-shift (bias below 2^-64 * n, negligible here).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + int(below: range.upperBound - range.lowerBound + 1)
    }

    public mutating func chance(_ p: Double) -> Bool { nextDouble() < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(below: items.count)] }

    /// A seed for stream `index` of a run seeded with `seed` (streams do not overlap in practice).
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g.next()
    }
}

/// A seeded, serialisable random generator (xoshiro256**, seeded through SplitMix64). Everything random in
/// training — initialisation, instance noise, label noise and flips, dropout — draws from one of these, so
/// a run is a function of its seed and a checkpoint can store the exact state.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: [UInt64]

    /// The state is four successive outputs of SplitMix64 seeded with `seed`.
    public init(seed: UInt64) {
        var seeding = SplitMix64(seed: seed)
        state = (0..<4).map { _ in seeding.next() }
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
