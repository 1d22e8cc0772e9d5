import Tensor
import Testing
@testable import Training

/// Deterministic test data: N(0, std^2) from a seeded generator, optionally pushed away from 0 by `gap`
/// (so ReLU-like kinks and max-pool ties are not crossed by the finite-difference step).
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1, gap: Float = 0) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = rng.normal(shape, std: std)
    if gap > 0 { for i in 0..<t.count { let v = t.floats[i]; t.floats[i] = v >= 0 ? v + gap : v - gap } }
    return t
}

/// Central finite differences against the tape's gradients of L = sum(R * f(inputs)), R random.
/// Float32 throughout; the tolerance is on |analytic - numeric| / max(1, |numeric|).
func checkGradients(_ op: String, inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 5e-3,
                    maxElementsPerInput: Int = 200, _ f: (Tape, [Variable]) -> Variable) {
    let tape = Tape()
    let vars = inputs.map { Variable($0.copy(), requiresGrad: true) }
    let y = f(tape, vars)
    let r = randomTensor(y.shape, seed: 99)
    tape.backward(y, seed: r)

    func loss(_ values: [Tensor]) -> Double {
        let out = f(Tape(recording: false), values.map { Variable($0) }).value
        var s: Double = 0
        for i in 0..<out.count { s += Double(out.floats[i]) * Double(r.floats[i]) }
        return s
    }
    for (i, input) in inputs.enumerated() {
        guard let grad = vars[i].grad else {
            Issue.record("\(op): no gradient reached input \(i) \(input.shape)")
            continue
        }
        let step = max(1, input.count / maxElementsPerInput)
        var worst = 0.0, worstAt = -1, pairs: [String] = []
        for k in stride(from: 0, to: input.count, by: step) {
            let values = inputs.map { $0.copy() }
            values[i].floats[k] = input.floats[k] + epsilon
            let plus = loss(values)
            values[i].floats[k] = input.floats[k] - epsilon
            let minus = loss(values)
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let analytic = Double(grad.floats[k])
            let err = abs(analytic - numeric) / max(1, abs(numeric))
            if err > worst { worst = err; worstAt = k }
            if err > tolerance && pairs.count < 4 { pairs.append("[\(k)] got \(analytic) want \(numeric)") }
        }
        #expect(worst <= tolerance,
                "\(op): input \(i) \(input.shape): max rel error \(worst) at \(worstAt); \(pairs.joined(separator: ", "))")
    }
}
