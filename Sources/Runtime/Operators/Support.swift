import ONNX
import Tensor

/// Normalizes a possibly negative axis against `rank` (ONNX: axis in [-rank, rank-1]).
@inline(__always)
public func normalizeAxis(_ axis: Int, rank: Int) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < max(rank, 1) || (rank == 0 && a == 0) else {
        throw KernelError("axis \(axis) is out of range for a tensor of rank \(rank)")
    }
    return a
}

/// Shape as the ONNX text form: `[1,3,256,256]`.
public func shapeString(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
