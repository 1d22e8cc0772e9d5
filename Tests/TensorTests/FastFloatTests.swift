import Foundation
import Testing
@testable import Tensor

/// Error of a float32 result against a double reference, in units of the float32 spacing at the reference.
private func ulps(_ got: Float, _ want: Double) -> Double {
    if got.isNaN || want.isNaN { return got.isNaN && want.isNaN ? 0 : .infinity }
    if Double(got) == want { return 0 }
    let w = Float(want)
    if w.isInfinite { return got == w ? 0 : .infinity }
    return abs(Double(got) - want) / Double(max(w.ulp, Float.leastNonzeroMagnitude))
}

private let sweep: [Float] = stride(from: Float(-110), through: 100, by: 0.00731).map { $0 }
    + [0, -0.0, 1e-30, -1e-30, 1e-7, 0.39999, 0.4, 0.40001, 88.72, 88.73, -87.3, -103.9, -104, 200, -200]

@Test func fastExpWithinTwoUlps() {
    var worst = 0.0, at: Float = 0
    for x in sweep {
        let e = ulps(FastFloat.exp(x), Foundation.exp(Double(x)))
        if e > worst { worst = e; at = x }
    }
    #expect(worst <= 2, "worst \(worst) ulp at x = \(at)")
    #expect(FastFloat.exp(.nan).isNaN)
    #expect(FastFloat.exp(.infinity) == .infinity && FastFloat.exp(-.infinity) == 0)
}

@Test func fastSigmoidWithinThreeUlps() {
    var worst = 0.0, at: Float = 0
    for x in sweep {
        let e = ulps(FastFloat.sigmoid(x), 1 / (1 + Foundation.exp(-Double(x))))
        if e > worst { worst = e; at = x }
    }
    #expect(worst <= 3, "worst \(worst) ulp at x = \(at)")
    #expect(FastFloat.sigmoid(-.infinity) == 0 && FastFloat.sigmoid(.infinity) == 1)
}

@Test func fastTanhWithinFourUlps() {
    var worst = 0.0, at: Float = 0
    for x in sweep {
        let want = Foundation.tanh(Double(x))
        let got = FastFloat.tanh(x)
        let e = abs(Double(got) - want) <= 1e-8 ? 0 : ulps(got, want)
        if e > worst { worst = e; at = x }
    }
    #expect(worst <= 4, "worst \(worst) ulp at x = \(at)")
    #expect(FastFloat.tanh(.nan).isNaN && FastFloat.tanh(-.infinity) == -1)
    #expect(FastFloat.tanh(-0.0).sign == .minus)
}

@Test func fastErfWithinFiveTenMillionthsAbsolute() {
    var worst = 0.0, at: Float = 0
    for x in sweep + stride(from: Float(-5), through: 5, by: 0.000917).map({ $0 }) {
        let e = abs(Double(FastFloat.erf(x)) - Foundation.erf(Double(x)))
        if e > worst { worst = e; at = x }
    }
    #expect(worst <= 5e-7, "worst \(worst) at x = \(at)")
    #expect(FastFloat.erf(.nan).isNaN)
    #expect(FastFloat.erf(.infinity) == 1 && FastFloat.erf(-.infinity) == -1 && FastFloat.erf(0) == 0)
}
