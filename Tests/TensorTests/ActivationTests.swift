import Foundation
import Testing
@testable import Tensor

private let sample: [Float] = [-2.5, -1, -0.3, 0, 0.2, 0.7, 1.5, 3]

@Test func activationForwardValues() {
    let x = Tensor(shape: [2, 4], floats: sample)
    #expect(reluForward(x).scalars(as: Float.self) == [0, 0, 0, 0, 0.2, 0.7, 1.5, 3])
    #expect(leakyReluForward(x, negativeSlope: 0.1).scalars(as: Float.self)
        == [-0.25, -0.1, -0.030000001, 0, 0.2, 0.7, 1.5, 3])
    let t = tanhForward(x).scalars(as: Float.self)
    let s = sigmoidForward(x).scalars(as: Float.self)
    for i in 0..<sample.count {
        let v = Double(sample[i])
        #expect(abs(Double(t[i]) - Foundation.tanh(v)) < 1e-6)
        #expect(abs(Double(s[i]) - 1 / (1 + Foundation.exp(-v))) < 1e-6)
    }
    // Sigmoid does not overflow at the extremes.
    let big = sigmoidForward(Tensor(shape: [2], floats: [-200, 200])).scalars(as: Float.self)
    #expect(big == [0, 1])
}

@Test func reluGradientAtZeroIsZero() {
    let x = Tensor(shape: [3], floats: [-1, 0, 1])
    let dY = Tensor(shape: [3], floats: [5, 5, 5])
    #expect(reluBackward(dY, x: x).scalars(as: Float.self) == [0, 0, 5])
    #expect(leakyReluBackward(dY, x: x, negativeSlope: 0.2).scalars(as: Float.self) == [1, 1, 5])
}

/// Split over the threads (more than one 64 Ki chunk), every element still takes its own side of the kink.
@Test func leakyReluBackwardOverSeveralChunks() {
    let count = 3 * 65_536 + 7
    let xs = (0..<count).map { Float(($0 * 7919) % 201) - 100 }, gs = (0..<count).map { Float($0 % 13) - 6 }
    let dX = leakyReluBackward(Tensor(shape: [count], floats: gs), x: Tensor(shape: [count], floats: xs), negativeSlope: 0.2)
    #expect(dX.scalars(as: Float.self) == zip(xs, gs).map { $0 > 0 ? $1 : $1 * 0.2 })
}

/// Central finite differences of L = sum(dY * f(X)) against the analytic dX, away from kinks.
@Test(arguments: [Activation.relu, .leakyRelu(negativeSlope: 0.2), .tanh, .sigmoid])
func activationBackwardMatchesFiniteDifferences(_ act: Activation) {
    let xs: [Float] = [-2.1, -0.9, -0.35, 0.15, 0.55, 1.3, 2.4, -0.05]
    let gs: [Float] = [0.3, -1.2, 0.8, 1.1, -0.4, 0.6, -0.9, 2.0]
    let x = Tensor(shape: [2, 2, 2], floats: xs)
    let dY = Tensor(shape: [2, 2, 2], floats: gs)
    let y = act.forward(x)
    let dX = act.backward(dY, x: x, y: y).scalars(as: Float.self)
    let h: Float = 1e-3
    for i in 0..<xs.count {
        var plus = xs, minus = xs
        plus[i] += h; minus[i] -= h
        let fp = act.forward(Tensor(shape: [8], floats: plus)).scalars(as: Float.self)
        let fm = act.forward(Tensor(shape: [8], floats: minus)).scalars(as: Float.self)
        let numeric = gs[i] * (fp[i] - fm[i]) / (2 * h)
        #expect(abs(numeric - dX[i]) < 2e-3, "\(act) at x=\(xs[i]): numeric \(numeric), analytic \(dX[i])")
    }
}

@Test func activationMathFormulas() {
    #expect(ActivationMath.elu(Float(-1), alpha: 2) == 2 * (Float.exp(-1) - 1))
    #expect(ActivationMath.elu(Float(3), alpha: 2) == 3)
    #expect(abs(ActivationMath.selu(Double(-1), alpha: 1.6732632, gamma: 1.050701) - -1.1113307) < 1e-6)
    #expect(ActivationMath.celu(Float(2), alpha: 1) == 2)
    #expect(ActivationMath.hardSigmoid(Float(1), alpha: 0.2, beta: 0.5) == 0.7)
    #expect(ActivationMath.hardSigmoid(Float(10), alpha: 0.2, beta: 0.5) == 1)
    #expect(ActivationMath.hardSwish(Float(3)) == 3)
    #expect(ActivationMath.hardSwish(Float(-3)) == 0)
    #expect(abs(ActivationMath.softplus(Double(0)) - Foundation.log(2)) < 1e-12)
    #expect(ActivationMath.softplus(Float(100)) == 100)   // no overflow
    #expect(ActivationMath.softsign(Float(1)) == 0.5)
    #expect(abs(ActivationMath.gelu(Double(1)) - 0.8413447460685429) < 1e-12)
    #expect(abs(ActivationMath.geluTanh(Double(1)) - 0.8411919906082768) < 1e-12)
    #expect(abs(ActivationMath.mish(Double(1)) - 0.8650983882673103) < 1e-12)
    #expect(ActivationMath.thresholdedRelu(Float(1), alpha: 1) == 0)
    #expect(ActivationMath.thresholdedRelu(Float(1.5), alpha: 1) == 1.5)
}

@Test func activationBufferFormsWriteInPlace() {
    let t = Tensor(shape: [4], floats: [-2, -1, 1, 2])
    let b = t.floats
    leakyReluForward(UnsafeBufferPointer(b), into: b, negativeSlope: 0.5)
    #expect(t.scalars(as: Float.self) == [-1, -0.5, 1, 2])
    reluForward(UnsafeBufferPointer(b), into: b)
    #expect(t.scalars(as: Float.self) == [0, 0, 1, 2])
}

@Test func activationsOnEmptyTensors() {
    let e = Tensor(zeros: [0, 3])
    #expect(reluForward(e).shape == [0, 3])
    #expect(sigmoidBackward(e, y: e).count == 0)
}

/// The four activations with a backward, as a value the gradient check can be parameterised over.
enum Activation: Sendable, Equatable {
    case relu
    case leakyRelu(negativeSlope: Float)
    case tanh
    case sigmoid

    func forward(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: reluForward(x)
        case .leakyRelu(let slope): leakyReluForward(x, negativeSlope: slope)
        case .tanh: tanhForward(x)
        case .sigmoid: sigmoidForward(x)
        }
    }

    /// dX from dY; ReLU and LeakyReLU read the input `x`, Tanh and Sigmoid the output `y`.
    func backward(_ dY: Tensor, x: Tensor, y: Tensor) -> Tensor {
        switch self {
        case .relu: reluBackward(dY, x: x)
        case .leakyRelu(let slope): leakyReluBackward(dY, x: x, negativeSlope: slope)
        case .tanh: tanhBackward(dY, y: y)
        case .sigmoid: sigmoidBackward(dY, y: y)
        }
    }
}
