import CKernels
import Foundation
import Testing
@testable import Tensor

// The C kernels (Sources/CKernels, AVX-512 / AVX2 / baseline picked at load) against the Swift code they
// replace: `FusedActivation.apply` (mc_activate) equals `applyScalar` bit for bit (NaN for NaN).

private let activations: [FusedActivation] = [
    .relu, .leakyRelu(negativeSlope: 0.2), .clip(lower: -1, upper: 6), .clip(lower: 0, upper: 0), .sigmoid, .tanh,
    .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .silu, .gelu,
]

/// Values across every branch of the formulas: both signs of zero, the tanh series cut at 0.4, exp's clamps
/// (past 88.7 and below -104), the infinities, NaN, denormals, and a spread of ordinary values.
private func activationInputs() -> [Float] {
    var values: [Float] = [0, -0.0, 0.39999, 0.4, -0.4, 88.7, 88.8, -103.9, -104.1, 200, -200, .infinity, -.infinity,
                           .nan, .leastNonzeroMagnitude, -.leastNormalMagnitude, 3, -3, 6, 1e-8, -1e-8]
    var state: UInt64 = 7
    for _ in 0..<1000 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        values.append(Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max) * 30)
    }
    return values
}

@Test(arguments: activations)
func cActivationEqualsTheSwiftFormulaBitForBit(_ activation: FusedActivation) {
    let x = activationInputs()
    // Counts that are and are not multiples of the vector widths, so every variant's tail loop runs too.
    for count in [x.count, 1, 15, 17, 33] {
        var fast = Array(x.prefix(count)), slow = fast
        fast.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, count: count) }
        slow.withUnsafeMutableBufferPointer { activation.applyScalar($0.baseAddress!, count: count) }
        // (NaN in, NaN out; its sign bit is not specified by IEEE arithmetic and differs between the two.)
        let mismatch = zip(fast, slow).enumerated().first { e in
            e.element.0.bitPattern != e.element.1.bitPattern && !(e.element.0.isNaN && e.element.1.isNaN)
        }
        #expect(mismatch == nil, "\(activation) at \(x[mismatch?.offset ?? 0]): C \(mismatch?.element.0 ?? 0), Swift \(mismatch?.element.1 ?? 0)")
    }
}

@Test func availableCPUsIsAtLeastOne() {
    #expect(mc_available_cpus() >= 1)
    #expect(kernelThreadCount >= 1)
}

@Test func softmaxAlongTheLastAxisMatchesTheFormula() {
    let rows = 7, n = 6906
    let x = (0..<rows * n).map { Float(($0 * 7919) % 2003) / 100 - 10 }
    var y = [Float](repeating: 0, count: rows * n)
    x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in softmaxAlongLastAxis(xp.baseAddress!, yp.baseAddress!, rows: rows, n: n) }
    }
    for r in 0..<rows {
        let row = x[r * n..<(r + 1) * n], top = row.max()!
        let sum = row.reduce(0.0) { $0 + exp(Double($1 - top)) }
        let worst = (0..<n).map { abs(Double(y[r * n + $0]) - exp(Double(x[r * n + $0] - top)) / sum) / (exp(Double(x[r * n + $0] - top)) / sum) }.max()!
        #expect(worst < 1e-5, "row \(r): max relative error \(worst)")
    }
}

@Test func floatArithmeticEqualsTheScalarLoopBitForBit() throws {
    let cases: [([Int], [Int])] = [([3, 70_001], [3, 70_001]), ([2, 3, 5], [3, 1]), ([4, 1], [1, 37]), ([6], []), ([], [9]), ([2, 1, 4], [1, 3, 1])]
    for (sa, sb) in cases {
        let a = Tensor(shape: sa, floats: (0..<sa.reduce(1, *)).map { Float($0 % 97) / 7 - 5 })
        let b = Tensor(shape: sb, floats: (0..<sb.reduce(1, *)).map { Float($0 % 89) / 3 - 11 })
        let ops: [(mc_arithmetic, @Sendable (Float, Float) -> Float)] = [
            (MC_ADD, { $0 + $1 }), (MC_SUB, { $0 - $1 }), (MC_MUL, { $0 * $1 }), (MC_DIV, { $0 / $1 }),
        ]
        for (op, f) in ops {
            let fast = try floatArithmetic(a, b, op)
            let slow = try broadcastBinary(a, b, Float.self, Float.self, Float.self) { f($0, $1) }
            #expect(fast.shape == slow.shape)
            let same = zip(fast.floats, slow.floats).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
            #expect(same, "\(op) \(sa) with \(sb)")
        }
    }
}
