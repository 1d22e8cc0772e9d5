import Testing
@testable import Tensor

/// Deterministic pseudo-random float32 tensor with entries in [-1, 1).
func convolutionTestTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
    }
    return Tensor(shape: shape, floats: values)
}

/// Expects `got` to match `want` in shape and within `tolerance` (absolute, scaled by max(1, |want|)),
/// reporting the op, the shape, the worst difference and where, and the first few got/want pairs.
func expectClose(_ got: Tensor, _ want: Tensor, tolerance: Float = 1e-4, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard got.shape == want.shape else {
        Issue.record("\(what): shape \(got.shape), want \(want.shape)", sourceLocation: sourceLocation)
        return
    }
    let g = got.scalars(as: Float.self), w = want.scalars(as: Float.self)
    var worst: Float = 0, worstAt = -1
    for i in g.indices {
        let d = abs(g[i] - w[i]) / max(1, abs(w[i]))
        if !(d <= worst) { worst = d; worstAt = i }
    }
    if worst > tolerance || worst.isNaN {
        let pairs = (0..<min(6, g.count)).map { "\(g[$0])/\(w[$0])" }.joined(separator: ", ")
        Issue.record("""
            \(what) \(want.shape): max diff \(worst) at \(worstAt) (got \(g[worstAt]), want \(w[worstAt])); \
            first got/want: \(pairs)
            """, sourceLocation: sourceLocation)
    }
}

/// sum(a * b) in Double.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars(as: Float.self), b.scalars(as: Float.self)).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// Checks `gradient` = d/dp sum(f(p) * r) at a few coordinates of `p` by central differences.
/// f is linear in p here, so a large step is exact up to rounding.
func expectFiniteDifferences(of f: (Tensor) -> Tensor, at p: Tensor, projection r: Tensor, gradient: Tensor,
                             _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(gradient.shape == p.shape, "\(what): gradient shape", sourceLocation: sourceLocation)
    let step: Float = 0.25
    let coordinates = Set([0, p.count / 3, p.count / 2, p.count - 1, (p.count * 7) / 11].filter { $0 < p.count })
    for i in coordinates.sorted() {
        let plus = p.copy(), minus = p.copy()
        plus.floats[i] += step
        minus.floats[i] -= step
        let numeric = (dot(f(plus), r) - dot(f(minus), r)) / (2 * Double(step))
        let analytic = Double(gradient.floats[i])
        #expect(abs(numeric - analytic) <= 1e-3 * max(1, abs(numeric)),
                "\(what): coordinate \(i) of \(p.shape): finite difference \(numeric), backward \(analytic)",
                sourceLocation: sourceLocation)
    }
}
