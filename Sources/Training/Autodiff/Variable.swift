import Tensor

/// A node of the autodiff graph: a value and, after `Tape.backward`, the gradient of the loss with respect
/// to it. Parameters are leaf variables with `requiresGrad`; activations inherit `requiresGrad` from their
/// inputs. Float32 only.
public final class Variable: @unchecked Sendable {
    /// The forward value. Parameters change it in place through the optimiser (`Adam.step`).
    public var value: Tensor
    /// dLoss/dValue, accumulated by `Tape.backward`; nil until something flows back (Adam clears it after each step).
    public var grad: Tensor?
    /// Whether gradients are computed for this variable. Parameters can be frozen (set false) for a pass, as
    /// D during the generator step; it must not change between a forward and its `backward`.
    public var requiresGrad: Bool
    /// A stable name for parameters (`"enc0.conv1.weight"`); empty for activations.
    public let name: String

    public init(_ value: Tensor, requiresGrad: Bool = false, name: String = "") {
        precondition(value.dtype == .float32, "autodiff variables are float32, got \(value.dtype)")
        self.value = value
        self.requiresGrad = requiresGrad
        self.name = name
    }

    public var shape: [Int] { value.shape }

    /// The same value cut off from the graph (gradients do not flow through it).
    public func detached() -> Variable { Variable(value) }

    /// Adds `g` into `grad`. `owned` says `g` is a fresh tensor nobody else holds, so it can become `grad`
    /// without a copy; otherwise the first gradient is copied (later ones are added in place).
    func accumulate(_ g: Tensor, owned: Bool) {
        precondition(g.count == value.count, "gradient of \(g.shape) for a value of \(value.shape)")
        if let grad {
            let dst = grad.floats, src = g.floats
            for i in 0..<dst.count { dst[i] += src[i] }
        } else {
            grad = owned ? g.reshaped(value.shape) : g.copy().reshaped(value.shape)
        }
    }
}
