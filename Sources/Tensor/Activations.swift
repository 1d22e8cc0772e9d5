import CKernels
import RealModule

/// Activation functions: forward and backward, float32, NCHW or any shape (they are element-wise).
///
/// Public API (trainer and runtime):
/// - `reluForward(_:)`, `reluBackward(_:x:)`                      — NOTE: gradient at 0 is 0, as in PyTorch.
/// - `leakyReluForward(_:negativeSlope:)`, `leakyReluBackward(_:x:negativeSlope:)` — slope applies for x < 0;
///   at 0 the gradient is `negativeSlope` (PyTorch uses x > 0 for the positive branch).
/// - `tanhForward(_:)`, `tanhBackward(_:y:)`                      — dX = dY * (1 - Y²), from the output Y.
/// - `sigmoidForward(_:)`, `sigmoidBackward(_:y:)`                — dX = dY * Y * (1 - Y), from the output Y.
/// - `ActivationMath` — the scalar formulas, generic over `Real` (Float, Double), forward only for the rest:
///   elu, selu, celu, hardSigmoid, hardSwish, softplus, softsign, gelu (exact / tanh), mish,
///   thresholdedRelu, sigmoid. The runtime's Activation operators call these.
///
/// Backward functions take the upstream gradient first (`dY`) and return `dX` of the same shape.
/// Buffer variants (`reluForward(_:into:)` ...) write into caller-owned memory (`FusedActivation`, a
/// convolution's epilogue).

// MARK: ReLU

/// Y = max(X, 0). Shape: any.
public func reluForward(_ x: Tensor) -> Tensor { activated(x, .relu) }

/// dX = dY where X > 0, else 0. NOTE: the gradient at exactly 0 is 0, as in PyTorch.
public func reluBackward(_ dY: Tensor, x: Tensor) -> Tensor {
    precondition(dY.shape == x.shape, "reluBackward: dY \(dY.shape) vs X \(x.shape)")
    let out = Tensor(uninitialized: x.shape, dtype: .float32)
    let g = dY.pointer(as: Float.self), v = x.pointer(as: Float.self), d = out.pointer(as: Float.self)
    for i in 0..<x.count { d[i] = v[i] > 0 ? g[i] : 0 }
    return out
}

/// Buffer form of `reluForward`: `y` may alias `x`.
public func reluForward(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>) {
    precondition(x.count == y.count)
    for i in 0..<x.count { y[i] = x[i] > 0 ? x[i] : 0 }
}

// MARK: LeakyReLU

/// Y = X for X >= 0, negativeSlope * X otherwise. Shape: any.
public func leakyReluForward(_ x: Tensor, negativeSlope: Float) -> Tensor {
    activated(x, .leakyRelu(negativeSlope: negativeSlope))
}

/// dX = dY for X > 0, negativeSlope * dY otherwise (PyTorch: the positive branch is X > 0).
public func leakyReluBackward(_ dY: Tensor, x: Tensor, negativeSlope: Float) -> Tensor {
    precondition(dY.shape == x.shape, "leakyReluBackward: dY \(dY.shape) vs X \(x.shape)")
    let out = Tensor(uninitialized: x.shape, dtype: .float32)
    let g = dY.pointer(as: Float.self), v = x.pointer(as: Float.self), d = out.pointer(as: Float.self)
    parallelChunks(x.count) { range in
        for i in range { d[i] = v[i] > 0 ? g[i] : g[i] * negativeSlope }
    }
    return out
}

/// Buffer form of `leakyReluForward`: `y` may alias `x`.
public func leakyReluForward(_ x: UnsafeBufferPointer<Float>, into y: UnsafeMutableBufferPointer<Float>,
                             negativeSlope: Float) {
    precondition(x.count == y.count)
    for i in 0..<x.count { y[i] = x[i] >= 0 ? x[i] : x[i] * negativeSlope }
}

// MARK: Tanh

/// Y = tanh(X). Shape: any. Vectorised (`FastFloat.tanh`, within 4 ulp of libm).
public func tanhForward(_ x: Tensor) -> Tensor { activated(x, .tanh) }

/// dX = dY * (1 - Y²), from the forward output Y.
public func tanhBackward(_ dY: Tensor, y: Tensor) -> Tensor {
    precondition(dY.shape == y.shape, "tanhBackward: dY \(dY.shape) vs Y \(y.shape)")
    let out = Tensor(uninitialized: y.shape, dtype: .float32)
    let g = dY.pointer(as: Float.self), v = y.pointer(as: Float.self), d = out.pointer(as: Float.self)
    for i in 0..<y.count { d[i] = g[i] * (1 - v[i] * v[i]) }
    return out
}

// MARK: Sigmoid

/// Y = 1 / (1 + exp(-X)). Shape: any. Vectorised (`FastFloat.sigmoid`, within 3 ulp of libm).
public func sigmoidForward(_ x: Tensor) -> Tensor { activated(x, .sigmoid) }

/// dX = dY * Y * (1 - Y), from the forward output Y.
public func sigmoidBackward(_ dY: Tensor, y: Tensor) -> Tensor {
    precondition(dY.shape == y.shape, "sigmoidBackward: dY \(dY.shape) vs Y \(y.shape)")
    let out = Tensor(uninitialized: y.shape, dtype: .float32)
    let g = dY.pointer(as: Float.self), v = y.pointer(as: Float.self), d = out.pointer(as: Float.self)
    for i in 0..<y.count { d[i] = g[i] * v[i] * (1 - v[i]) }
    return out
}

// MARK: Scalar formulas

/// Scalar activation formulas, generic over swift-numerics' `Real` (Float, Double). Parameter names and
/// defaults follow the ONNX operators.
public enum ActivationMath {
    /// Numerically stable logistic function.
    @inlinable public static func sigmoid<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        if x >= 0 { return 1 / (1 + T.exp(-x)) }
        let e = T.exp(x)
        return e / (1 + e)
    }
    /// x for x >= 0, alpha * (exp(x) - 1) otherwise.
    @inlinable public static func elu<T: Real & BinaryFloatingPoint>(_ x: T, alpha: T) -> T {
        x >= 0 ? x : alpha * T.expMinusOne(x)
    }
    /// gamma * (x for x > 0, alpha * (exp(x) - 1) otherwise).
    @inlinable public static func selu<T: Real & BinaryFloatingPoint>(_ x: T, alpha: T, gamma: T) -> T {
        x > 0 ? gamma * x : gamma * alpha * T.expMinusOne(x)
    }
    /// max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
    @inlinable public static func celu<T: Real & BinaryFloatingPoint>(_ x: T, alpha: T) -> T {
        max(0, x) + min(0, alpha * T.expMinusOne(x / alpha))
    }
    /// max(0, min(1, alpha * x + beta)).
    @inlinable public static func hardSigmoid<T: Real & BinaryFloatingPoint>(_ x: T, alpha: T, beta: T) -> T {
        max(0, min(1, alpha * x + beta))
    }
    /// x * max(0, min(1, x / 6 + 1/2)).
    @inlinable public static func hardSwish<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        x * max(0, min(1, x / 6 + T(1) / 2))
    }
    /// log(1 + exp(x)), as max(x, 0) + log1p(exp(-|x|)) so that large x does not overflow.
    @inlinable public static func softplus<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        max(x, 0) + T.log(onePlus: T.exp(-abs(x)))
    }
    /// x / (1 + |x|).
    @inlinable public static func softsign<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x / (1 + abs(x)) }
    /// x * Φ(x) = x/2 * (1 + erf(x / √2)).
    @inlinable public static func gelu<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        x / 2 * (1 + T.erf(x / T.sqrt(2)))
    }
    /// The tanh approximation: x/2 * (1 + tanh(√(2/π) * (x + 0.044715 x³))).
    @inlinable public static func geluTanh<T: Real & BinaryFloatingPoint>(_ x: T) -> T {
        let k: T = T.sqrt(2 / T.pi)
        let c: T = 0.044715
        let cube: T = x * x * x
        let inner: T = k * (x + c * cube)
        return x / 2 * (1 + T.tanh(inner))
    }
    /// x * tanh(softplus(x)).
    @inlinable public static func mish<T: Real & BinaryFloatingPoint>(_ x: T) -> T { x * T.tanh(softplus(x)) }
    /// x for x > alpha, else 0.
    @inlinable public static func thresholdedRelu<T: Real & BinaryFloatingPoint>(_ x: T, alpha: T) -> T { x > alpha ? x : 0 }
}

// MARK: Through the C kernels

/// Y = X · sigmoid(X). Shape: any.
public func siluForward(_ x: Tensor) -> Tensor { activated(x, .silu) }

/// Y = X · (1 + erf(X / √2)) / 2. Shape: any.
public func geluForward(_ x: Tensor) -> Tensor { activated(x, .gelu) }

/// softmax along the last axis of a float32 array of `rows` rows of n: mc_softmax_rows (AVX-512 or AVX2 where the
/// CPU has them; FastFloat.exp's formula), rows spread over the threads.
public func softmaxAlongLastAxis(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, n: Int) {
    nonisolated(unsafe) let (x, y) = (x, y)
    let rowsPerChunk = max(1, (1 << 14) / max(n, 1))
    parallelChunks(rows, minimumChunk: rowsPerChunk) { range in
        mc_softmax_rows(x + range.lowerBound * n, y + range.lowerBound * n, range.count, n)
    }
}

/// Y = X · max(0, min(1, X/6 + 1/2)). Shape: any.
public func hardSwishForward(_ x: Tensor) -> Tensor { activated(x, .hardSwish) }

/// activation(x) for a float32 tensor of any shape: `FusedActivation.apply` (AVX-512 or AVX2 where the CPU has
/// them; the same bits as the Swift formulas), in chunks of 64 Ki elements over the threads.
func activated(_ x: Tensor, _ activation: FusedActivation) -> Tensor {
    let y = Tensor(uninitialized: x.shape, dtype: .float32)
    nonisolated(unsafe) let (source, destination) = (x.pointer(as: Float.self), y.pointer(as: Float.self))
    parallelChunks(x.count) { range in
        (destination + range.lowerBound).update(from: source + range.lowerBound, count: range.count)
        activation.apply(destination + range.lowerBound, count: range.count)
    }
    return y
}

