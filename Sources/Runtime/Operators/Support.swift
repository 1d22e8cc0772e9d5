import ONNX
import Tensor

/// Normalizes a possibly negative axis against `rank` (ONNX: axis in [-rank, rank-1]).
@inline(__always)
public func normalizeAxis(_ axis: Int, rank: Int) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    // NOTE: a scalar has no axis; callers index `shape[a]`, so rank 0 is refused here rather than trapping there.
    guard a >= 0, a < rank else {
        throw KernelError("axis \(axis) is out of range for a tensor of rank \(rank)")
    }
    return a
}

/// Shape as the ONNX text form: `[1,3,256,256]`.
public func shapeString(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

/// Throws unless a tensor of `shape` and `dtype` can be allocated: no negative dimension, an element count
/// that does not overflow, and bytes within `MemoryBudget.current`. Call before allocating any tensor whose
/// shape comes from a file (attributes, shape inputs, broadcasting of input shapes).
@inline(__always)
public func requireAllocatable(_ shape: [Int], _ dtype: DType, _ what: String = "the output") throws {
    do {
        try MemoryBudget.current.check(shape: shape, dtype: dtype, what: what)
    } catch {
        throw KernelError(error.message)
    }
}

/// The largest kernel size, stride, dilation, pad or output size a windowed operator (Conv, ConvTranspose,
/// pooling) accepts. No image axis is 2^31 pixels long, and with every attribute below it the output-size
/// formulas stay far from 64-bit overflow for any tensor the memory budget admits.
let maximumWindowAttribute = 1 << 31

/// Throws `ONNXError.badAttribute` naming the node, the attribute and the first value outside
/// `minimum...maximumWindowAttribute`.
func requireWindowAttribute(_ node: Node, _ name: String, _ values: [Int]?, minimum: Int) throws {
    guard let values, let bad = values.first(where: { $0 < minimum || $0 > maximumWindowAttribute }) else { return }
    throw node.invalid(name, "has value \(bad) in \(values), outside the range \(minimum) to \(maximumWindowAttribute) this runtime accepts")
}
