import Foundation
import Tensor

/// Adam (Kingma & Ba 2015), exactly PyTorch's `torch.optim.Adam` update (no weight decay, no amsgrad):
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// Moments are kept per parameter, keyed by the parameter's name, so they checkpoint by name.
public final class Adam {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let parameters: [Variable]
    /// Number of updates done (t).
    public internal(set) var step: Int = 0
    var m: [Tensor]
    var v: [Tensor]

    public init(parameters: [Variable], learningRate: Float = 1e-4, beta1: Float = 0.5, beta2: Float = 0.999,
                epsilon: Float = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
    }

    /// One update from the accumulated gradients (parameters without a gradient are left alone, as in
    /// PyTorch), then clears the gradients.
    public func update() {
        step += 1
        let t = Double(step)
        let bc1 = 1 - Foundation.pow(Double(beta1), t), bc2 = 1 - Foundation.pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let b1 = beta1, b2 = beta2, eps = epsilon
        // Work in fixed pieces of parameters (element-wise, so any split gives the same bits).
        var tasks: [(Int, Range<Int>)] = []
        for (i, p) in parameters.enumerated() where p.grad != nil {
            let n = p.value.count, piece = 1 << 16
            for start in stride(from: 0, to: n, by: piece) { tasks.append((i, start..<min(n, start + piece))) }
        }
        concurrentFor(tasks.count) { t in
            let (i, range) = tasks[t]
            let gp = parameters[i].grad!.floats, mp = m[i].floats, vp = v[i].floats, pp = parameters[i].value.floats
            for k in range {
                let gk = gp[k]
                mp[k] = b1 * mp[k] + (1 - b1) * gk
                vp[k] = b2 * vp[k] + (1 - b2) * gk * gk
                let denom = vp[k].squareRoot() / bc2Sqrt + eps
                pp[k] -= stepSize * mp[k] / denom
            }
        }
        for p in parameters { p.grad = nil }
    }

    /// Named state for checkpoints: `prefix.m.<param>`, `prefix.v.<param>`.
    func stateTensors(prefix: String) -> [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (i, p) in parameters.enumerated() {
            out.append(("\(prefix).m.\(p.name)", m[i]))
            out.append(("\(prefix).v.\(p.name)", v[i]))
        }
        out.append(("\(prefix).step", Tensor(shape: [1], scalars: [Int64(step)])))
        return out
    }

    func loadState(prefix: String, from tensors: [String: Tensor]) throws {
        for (i, p) in parameters.enumerated() {
            m[i] = try TrainingError.take(tensors, "\(prefix).m.\(p.name)", shape: p.shape)
            v[i] = try TrainingError.take(tensors, "\(prefix).v.\(p.name)", shape: p.shape)
        }
        guard let s = tensors["\(prefix).step"], s.dtype == .int64 else { throw TrainingError.checkpoint("missing \(prefix).step") }
        step = s.ints()[0]
    }
}
