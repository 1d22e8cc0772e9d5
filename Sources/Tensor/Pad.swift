/// How `padded` fills the border (ONNX Pad's `mode`).
public enum PadMode: String, Sendable, CaseIterable {
    /// A constant value.
    case constant
    /// Mirror without repeating the edge: [a b c d] padded by 2 -> [c b | a b c d | c b].
    case reflect
    /// Repeat the edge element: [a a | a b c d | d d].
    case edge
    /// Wrap around: [c d | a b c d | a b].
    case wrap
}

/// For each output position along one axis, the source position it copies, or -1 for the constant.
///
/// `before`/`after` may be negative: that crops. Output length is `n + before + after`.
/// Reflection is repeated when a pad exceeds `n - 1` (as numpy's `np.pad`, which the ONNX reference uses).
public func padSourceIndices(length n: Int, before: Int, after: Int, mode: PadMode) -> [Int] {
    let outLength = max(n + before + after, 0)
    return (0..<outLength).map { o in
        var i = o - before
        if i >= 0 && i < n { return i }
        if n == 0 { return -1 }  // nothing to reflect, repeat or wrap: the caller rejects or fills
        switch mode {
        case .constant:
            return -1
        case .edge:
            return i < 0 ? 0 : n - 1
        case .wrap:
            return ((i % n) + n) % n
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1)
            i = ((i % period) + period) % period
            return i < n ? i : period - i
        }
    }
}

/// Pads (or, with negative pads, crops) `x`.
///
/// Shapes: x [d0, ..., dr-1], pads [b0, ..., br-1, e0, ..., er-1] (ONNX layout: all begins, then all ends)
/// -> [d0 + b0 + e0, ...]. `constant` is a one-element tensor of x's dtype (zero when nil); it is used by
/// `.constant` mode only. Non-constant modes need every padded axis to be non-empty (the caller checks).
public func padded(_ x: Tensor, pads: [Int], mode: PadMode, constant: Tensor? = nil) -> Tensor {
    let r = x.rank
    precondition(pads.count == 2 * r, "pads has \(pads.count) values for rank \(r)")
    let maps = (0..<r).map { padSourceIndices(length: x.shape[$0], before: pads[$0], after: pads[r + $0], mode: mode) }
    return remapped(x, maps: maps, fill: constant)
}

/// Float32 pad for the trainer. Shapes: x [N, C, H, W] (any rank) -> padded as in `padded`.
public func padForward(_ x: Tensor, pads: [Int], mode: PadMode, value: Float = 0) -> Tensor {
    padded(x, pads: pads, mode: mode, constant: Tensor(scalar: value))
}

/// Gradient of `padForward`: each output position's gradient flows back to the source element it
/// copied (reflect, edge and wrap send several outputs to one input, so they add up).
/// Shapes: dY [padded shape] -> dX [inputShape].
public func padBackward(_ dY: Tensor, inputShape: [Int], pads: [Int], mode: PadMode) -> Tensor {
    let r = inputShape.count
    let maps = (0..<r).map { padSourceIndices(length: inputShape[$0], before: pads[$0], after: pads[r + $0], mode: mode) }
    precondition(maps.map(\.count) == dY.shape, "dY shape \(dY.shape) is not the padded shape")
    let dX = Tensor(zeros: inputShape)
    if dY.count == 0 || r == 0 { return r == 0 ? dY.copy() : dX }
    let strides = Tensor.strides(of: inputShape)
    let g = dY.pointer(as: Float.self), dx = dX.pointer(as: Float.self)
    var row = 0
    let last = maps[r - 1]
    forEachMappedRow(maps: maps, strides: strides) { base in
        if let base {
            for (o, m) in last.enumerated() where m >= 0 { dx[base + m] += g[row + o] }
        }
        row += last.count
    }
    return dX
}
