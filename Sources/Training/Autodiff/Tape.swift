import Tensor

/// Reverse-mode autodiff by a tape of closures.
///
/// Every differentiable operation (`Tape.conv2d`, `Tape.leakyReLU`, ...) computes its output, and when some
/// input requires a gradient it appends a closure that reads the output's gradient and accumulates the
/// inputs' gradients. `backward` seeds the loss gradient and runs the closures newest first: the tape order
/// is a topological order, so each output's gradient is complete before its closure runs.
///
/// A tape is single-use: build it, run forward, call `backward` once, drop it (it holds the activations).
public final class Tape {
    private var closures: [() -> Void] = []
    /// false: operations still compute outputs but record nothing (inference, finite differences).
    public let isRecording: Bool

    public init(recording: Bool = true) { self.isRecording = recording }

    /// Number of recorded backward closures.
    public var count: Int { closures.count }

    /// The output variable of an op over `inputs`; records `backward` when a gradient is needed.
    /// `backward(dY)` receives the output gradient and must accumulate into the inputs it differentiates.
    func record(_ value: Tensor, inputs: [Variable], backward: @escaping (_ dY: Tensor) -> Void) -> Variable {
        let needs = isRecording && inputs.contains { $0.requiresGrad }
        let out = Variable(value, requiresGrad: needs)
        if needs {
            closures.append {
                guard let dY = out.grad else { return }
                backward(dY)
            }
        }
        return out
    }

    /// Back-propagates from `output`, whose gradient is `seed` (default: ones, i.e. d(output)/d(output)).
    public func backward(_ output: Variable, seed: Tensor? = nil) {
        precondition(isRecording, "backward on a tape that did not record")
        let g = seed ?? Tensor(shape: output.shape, floats: Array(repeating: 1, count: output.value.count))
        output.accumulate(g, owned: false)
        for closure in closures.reversed() { closure() }
        closures.removeAll()
    }
}
