import Tensor

/// Errors of the trainer: bad configurations, checkpoints and weight files. Each says what and how to fix.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case configuration(String)
    case checkpoint(String)
    case weights(String)
    case diverged(String)

    public var description: String {
        switch self {
        case .configuration(let s): "invalid training configuration: \(s)"
        case .checkpoint(let s): "checkpoint: \(s)"
        case .weights(let s): "weights: \(s)"
        case .diverged(let s): "training diverged: \(s)"
        }
    }

    /// A float32 tensor named `name` of exactly `shape` from `tensors`, copied, or a checkpoint error.
    static func take(_ tensors: [String: Tensor], _ name: String, shape: [Int]) throws -> Tensor {
        guard let t = tensors[name] else { throw checkpoint("missing tensor \"\(name)\"") }
        guard t.dtype == .float32, t.shape == shape else {
            throw checkpoint("tensor \"\(name)\" is \(t.dtype) \(t.shape), expected float32 \(shape)")
        }
        return t.copy()
    }
}
