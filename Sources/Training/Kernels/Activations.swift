import Foundation
import Tensor

extension Kernels {
    /// Y = f(X) element-wise.
    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        let xp = x.floats, yp = y.floats
        for i in 0..<xp.count { yp[i] = f(xp[i]) }
        return y
    }

    /// dX = dY * f'(a, b) element-wise, where a and b are the saved forward tensors (input or output).
    static func zipMap(_ dY: Tensor, _ a: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let d = Tensor(uninitialized: a.shape)
        let gp = dY.floats, ap = a.floats, dp = d.floats
        for i in 0..<ap.count { dp[i] = f(gp[i], ap[i]) }
        return d
    }

    static func leakyReLUForward(_ x: Tensor, slope: Float) -> Tensor { map(x) { $0 > 0 ? $0 : $0 * slope } }
    /// NOTE: the gradient at exactly 0 is `slope` (PyTorch: x > 0 ? 1 : slope).
    static func leakyReLUBackward(_ dY: Tensor, _ x: Tensor, slope: Float) -> Tensor { zipMap(dY, x) { g, v in v > 0 ? g : g * slope } }
    static func reluForward(_ x: Tensor) -> Tensor { map(x) { $0 > 0 ? $0 : 0 } }
    /// NOTE: ReLU gradient at 0 is 0, as in PyTorch.
    static func reluBackward(_ dY: Tensor, _ x: Tensor) -> Tensor { zipMap(dY, x) { g, v in v > 0 ? g : 0 } }
    static func tanhForward(_ x: Tensor) -> Tensor { map(x) { Foundation.tanh($0) } }
    /// From the output: dX = dY * (1 - Y^2).
    static func tanhBackward(_ dY: Tensor, _ y: Tensor) -> Tensor { zipMap(dY, y) { g, v in g * (1 - v * v) } }
    static func sigmoidForward(_ x: Tensor) -> Tensor { map(x) { sigmoid($0) } }
    /// From the output: dX = dY * Y * (1 - Y).
    static func sigmoidBackward(_ dY: Tensor, _ y: Tensor) -> Tensor { zipMap(dY, y) { g, v in g * v * (1 - v) } }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
    }
}
