import ONNX
import Tensor

let gridSampleOperators: [Registration] = [
    Registration("GridSample", 16...19) { ctx in try GridSampleOperator(ctx) },
    Registration("GridSample", since: 20) { ctx in try GridSampleOperator(ctx) },
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
