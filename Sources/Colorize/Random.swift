// A small seeded random number generator, so synthetic pages, crops and augmentations are the same on
// every machine and Swift version (the standard library's `random(in:using:)` algorithms are not
// promised stable, so nothing here uses them).
//
// SplitMix64 (Steele, Lea & Flood 2014; the seeding generator of xoshiro): 64-bit state, passes BigCrush,
// and any seed, 0 included, is fine.
//
// API: SplitMix64(seed:), next() -> UInt64, nextDouble() -> [0, 1), uniform(lo, hi), int(below:),
//      int(in: ClosedRange), chance(p), pick(array), SplitMix64.derive(seed, index) for independent streams.

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
