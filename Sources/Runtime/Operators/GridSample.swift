import ONNX
import Tensor

let gridSampleOperators: [Registration] = [
    Registration("GridSample", since: 16) { ctx in try GridSampleOperator(ctx) },
    Registration("AffineGrid", since: 20) { ctx in try AffineGridOperator(ctx) },
]

/// GridSample: samples X [N, C, D1..Dr] at the grid's normalised locations [N, O1..Or, r].
/// Opset 16 names the modes bilinear / nearest / bicubic and takes 4-D inputs only; from 20 they are
/// linear / nearest / cubic over any number of spatial axes.
struct GridSampleOperator: Operator {
    let interpolation: ResizeInterpolation
    let padding: GridPadding
    let alignCorners: Bool

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        let legacy = ctx.opset < 20
        let name = try node.string("mode", default: legacy ? "bilinear" : "linear")
        switch (name, legacy) {
        case ("nearest", _): interpolation = .nearest
        case ("bilinear", true), ("linear", false): interpolation = .linear
        case ("bicubic", true), ("cubic", false): interpolation = .cubic
        default:
            throw node.invalid("mode", legacy ? "must be bilinear, nearest or bicubic; got \"\(name)\""
                               : "must be linear, nearest or cubic; got \"\(name)\"")
        }
        let paddingName = try node.string("padding_mode", default: "zeros")
        guard let p = GridPadding(rawValue: paddingName) else {
            throw node.invalid("padding_mode", "must be zeros, border or reflection; got \"\(paddingName)\"")
        }
        padding = p
        alignCorners = try node.int("align_corners", default: 0) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X"), grid = try inputs.required(1, "grid")
        let r = x.rank - 2
        guard r >= 1, grid.rank == r + 2, grid.shape[0] == x.shape[0], grid.shape[r + 1] == r else {
            throw KernelError("grid \(shapeString(grid.shape)) does not fit input \(shapeString(x.shape)); expected [N, O1..O\(max(r, 1)), \(max(r, 1))]")
        }
        guard x.dtype.isFloatingPoint, grid.dtype.isFloatingPoint else {
            throw KernelError("GridSample needs floating-point input and grid, got \(x.dtype) and \(grid.dtype)")
        }
        guard !x.shape[2...].contains(0) || grid.count == 0 else {
            throw KernelError("cannot sample an empty input \(shapeString(x.shape))")
        }
        return [gridSampled(x, grid: grid, interpolation: interpolation, padding: padding, alignCorners: alignCorners)]
    }
}

/// AffineGrid: the sampling grid of an affine transform, for GridSample. theta [N, 2, 3] (2-D) or
/// [N, 3, 4] (3-D), size [N, C, H, W] or [N, C, D, H, W] -> grid [N, H, W, 2] or [N, D, H, W, 3], each
/// entry theta[n] @ (x, y[, z], 1) with x, y, z the normalised pixel centres (or corners, align_corners).
struct AffineGridOperator: Operator {
    let alignCorners: Bool
    init(_ ctx: OperatorContext) throws { alignCorners = try ctx.node.int("align_corners", default: 0) != 0 }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let theta = try inputs.required(0, "theta")
        let size = try inputs.required(1, "size").ints()
        let r = size.count - 2
        guard r == 2 || r == 3, theta.shape == [size[0], r, r + 1], theta.dtype.isFloatingPoint else {
            throw KernelError("theta \(shapeString(theta.shape)) and size \(shapeString(size)) must be [N, 2, 3] with [N, C, H, W] or [N, 3, 4] with [N, C, D, H, W]")
        }
        let spatial = Array(size[2...])
        // The output and the Double staging array (8 bytes an element) must fit the budget.
        try requireAllocatable([size[0]] + spatial + [r], .float64)
        // NOTE: an empty grid returns here: the coordinate lists below have one entry per position of each
        // axis, and an empty output passes the budget whatever length its other axes claim.
        if size[0] == 0 || spatial.contains(0) { return [Tensor(zeros: [size[0]] + spatial + [r], dtype: theta.dtype)] }
        // Normalised coordinates along each spatial axis.
        let axes: [[Double]] = spatial.map { d in
            let length = Double(d)
            return (0..<d).map { i -> Double in
                let at = Double(i)
                if !alignCorners { return (2 * at + 1) / length - 1 }
                return d == 1 ? -1 : at * 2 / (length - 1) - 1
            }
        }
        let t = theta.doubles()
        let points = spatial.reduce(1, *)
        var out = [Double](repeating: 0, count: size[0] * points * r)
        let strides = Tensor.strides(of: spatial)
        for n in 0..<size[0] {
            for p in 0..<points {
                // Homogeneous point (x, y[, z], 1): x runs along the last spatial axis.
                var v = [Double](repeating: 1, count: r + 1)
                for k in 0..<r {
                    let axis = r - 1 - k
                    v[k] = axes[axis][(p / strides[axis]) % spatial[axis]]
                }
                for row in 0..<r {
                    var s = 0.0
                    for col in 0...r { s += t[(n * r + row) * (r + 1) + col] * v[col] }
                    out[(n * points + p) * r + row] = s
                }
            }
        }
        return [tensorFromDoubles(out, shape: [size[0]] + spatial + [r], dtype: theta.dtype, rounding: false)]
    }
}
