import ONNX
import Tensor

let paddingOperators: [Registration] = [
    // Pads as an attribute (1, 2), as inputs (11), axes (18), wrap mode (19): PadOperator reads ctx.opset.
    Registration("Pad", since: 1) { ctx in try PadOperator(ctx) },
    Registration("CenterCropPad", since: 18) { ctx in try CenterCropPadOperator(ctx) },
]

/// Pad: constant, reflect, edge or (opset 19+) wrap padding; negative pads crop.
///
/// Opsets 1-10 take `pads` (opset 1: `paddings`) and the float `value` from attributes; from 11 they are
/// inputs 1 and 2 (`constant_value` of the data's type), and from 18 input 3 lists the padded `axes`.
/// pads layout: [x1_begin, x2_begin, ..., x1_end, x2_end, ...].
struct PadOperator: Operator {
    let mode: PadMode
    /// Attribute pads and value, before opset 11.
    let attributePads: [Int]?
    let attributeValue: Double

    init(_ ctx: OperatorContext) throws {
        let name = try ctx.node.string("mode", default: "constant")
        guard let mode = PadMode(rawValue: name), mode != .wrap || ctx.opset >= 19 else {
            throw ctx.node.invalid("mode", ctx.opset >= 19 ? "must be constant, reflect, edge or wrap; got \"\(name)\""
                                   : "must be constant, reflect or edge at opset \(ctx.opset); got \"\(name)\"")
        }
        self.mode = mode
        if ctx.opset < 11 {
            let key = ctx.opset == 1 ? "paddings" : "pads"
            guard let pads = try ctx.node.ints(key) else { throw ctx.node.missing(key) }
            attributePads = pads
            attributeValue = Double(try ctx.node.float("value", default: 0))
        } else {
            attributePads = nil
            attributeValue = 0
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let r = x.rank
        var pads: [Int]
        var constant: Tensor?
        if let attributePads {
            pads = attributePads
            constant = x.dtype == .string ? nil : scalarTensor(attributeValue, dtype: x.dtype)
        } else {
            pads = try Self.pads(try inputs.required(1, "pads").ints(), axes: inputs.optional(3), rank: r)
            if let c = inputs.optional(2), c.count > 0 {
                guard c.dtype == x.dtype else {
                    throw KernelError("constant_value is \(c.dtype), data is \(x.dtype)")
                }
                constant = c
            }
        }
        try requireAllocatable(try outputShape(x.shape, pads: pads), x.dtype)
        return [padded(x, pads: pads, mode: mode, constant: constant)]
    }

    /// The begin and end pads of every axis from the `pads` input and the optional `axes` (opset 18).
    static func pads(_ given: [Int], axes axesTensor: Tensor?, rank r: Int) throws -> [Int] {
        guard let axesTensor else { return given }
        let axes = try axesTensor.ints().map { try normalizeAxis($0, rank: r) }
        guard given.count == 2 * axes.count else {
            throw KernelError("pads has \(given.count) values for \(axes.count) axes; expected \(2 * axes.count)")
        }
        var pads = Array(repeating: 0, count: 2 * r)
        for (i, a) in axes.enumerated() {
            pads[a] = given[i]
            pads[r + a] = given[axes.count + i]
        }
        return pads
    }

    func outputShape(_ x: [Int], pads: [Int]) throws -> [Int] {
        let r = x.count
        guard pads.count == 2 * r else {
            throw KernelError("pads has \(pads.count) values for input \(shapeString(x)); expected \(2 * r)")
        }
        var shape = x
        for a in 0..<r {
            guard let size = checkedSum(x[a], pads[a], pads[r + a]) else {
                throw KernelError("pads \(shapeString(pads)) of axis \(a) overflow 64 bits")
            }
            shape[a] = size
            guard size >= 0 else {
                throw KernelError("pads \(shapeString(pads)) crop more than axis \(a) of \(shapeString(x)) holds")
            }
            if mode != .constant && x[a] == 0 && (pads[a] > 0 || pads[r + a] > 0) {
                throw KernelError("\(mode.rawValue) padding of axis \(a) needs a non-empty input, got \(shapeString(x))")
            }
        }
        return shape
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        if let attributePads { return [try outputShape(x, pads: attributePads)] }
        guard let given = constants.optional(1)?.ints() else { return [] }
        if shapes.count > 3, shapes[3] != nil, constants.optional(3) == nil { return [] }   // axes computed at run time
        return [try outputShape(x, pads: try Self.pads(given, axes: constants.optional(3), rank: x.count))]
    }
}

/// CenterCropPad: crops or zero-pads each listed axis (default all) to the size in `shape`, keeping the
/// centre; an odd difference puts the extra element at the end.
struct CenterCropPadOperator: Operator {
    let axes: [Int]?
    init(_ ctx: OperatorContext) throws { axes = try ctx.node.ints("axes") }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input_data")
        let target = try inputs.required(1, "shape").ints()
        let r = x.rank
        let axes = try (self.axes ?? Array(0..<r)).map { try normalizeAxis($0, rank: r) }
        guard target.count == axes.count, target.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("shape \(shapeString(target)) needs one non-negative size per axis of \(shapeString(axes))")
        }
        var shape = x.shape
        for (a, size) in zip(axes, target) { shape[a] = size }
        try requireAllocatable(shape, x.dtype)
        var pads = Array(repeating: 0, count: 2 * r)
        for (a, size) in zip(axes, target) {
            let d = size - x.shape[a]  // > 0 pads, < 0 crops
            let before = d >= 0 ? d / 2 : -((-d) / 2)
            pads[a] = before
            pads[r + a] = d - before
        }
        return [padded(x, pads: pads, mode: .constant)]
    }
}
