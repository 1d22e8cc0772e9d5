import ONNX
import Tensor

let resizeOperators: [Registration] = [
    // Upsample is deprecated from opset 10 (Resize replaces it) and still accepted there, as onnxruntime does;
    // scales move from an attribute to an input at 9. What differs between opsets (Resize's inputs and modes
    // at 11, 13, 18, 19) is read from `ctx.opset` in the initialisers.
    Registration("Upsample", since: 7) { ctx in try ResizeOperator(upsample: ctx) },
    Registration("Resize", since: 10) { ctx in try ResizeOperator(ctx) },
]

/// Resize (opset 10+) and Upsample (7, 9): nearest, (multi-)linear or cubic interpolation of any axes.
///
/// Inputs: opset 10 and Upsample 9 `(X, scales)`; from 11 `(X, roi, scales, sizes)` with exactly one of
/// scales and sizes. Upsample 7 takes `scales` as an attribute. Resize 10 and Upsample map coordinates
/// asymmetrically and round nearest by truncation (as onnxruntime). From 18: `axes`,
/// `keep_aspect_ratio_policy`, `antialias`; from 19: `half_pixel_symmetric`.
struct ResizeOperator: Operator {
    let options: ResizeOptions
    /// Input positions of scales and sizes (nil when the operator has none).
    let scalesInput: Int
    let sizesInput: Int?
    let roiInput: Int?
    let attributeScales: [Float]?
    let axes: [Int]?
    /// keep_aspect_ratio_policy: with sizes, scale the listed axes by one factor that keeps the
    /// output within (not_larger) or around (not_smaller) the requested box.
    let policy: AspectRatioPolicy

    enum AspectRatioPolicy: String { case stretch, notLarger = "not_larger", notSmaller = "not_smaller" }
    private(set) var warnings: [String] = []

    init(_ ctx: OperatorContext) throws {
        let node = ctx.node
        var o = ResizeOptions()
        let modeName = try node.string("mode", default: "nearest")
        switch modeName {
        case "nearest": o.interpolation = .nearest
        case "linear": o.interpolation = .linear
        case "bilinear" where ctx.opset < 11: o.interpolation = .linear
        case "cubic" where ctx.opset >= 11: o.interpolation = .cubic
        default:
            throw node.invalid("mode", "must be nearest, linear\(ctx.opset >= 11 ? " or cubic" : ""); got \"\(modeName)\"")
        }
        if ctx.opset >= 11 {
            let transform = try node.string("coordinate_transformation_mode", default: "half_pixel")
            guard let t = CoordinateTransform(rawValue: transform), t != .halfPixelSymmetric || ctx.opset >= 19 else {
                throw node.invalid("coordinate_transformation_mode", "\"\(transform)\" is not a mode of Resize-\(ctx.opset)")
            }
            // tf_half_pixel_for_nn left the spec after Resize-11, but tf2onnx still writes it at later opsets and
            // onnxruntime runs it in its old meaning with a deprecation warning: so do we.
            if t == .tfHalfPixelForNN && ctx.opset >= 13 {
                warnings.append("coordinate_transformation_mode \"tf_half_pixel_for_nn\" is not part of Resize-\(ctx.opset) "
                    + "(the spec dropped it after Resize-11); run in its Resize-11 meaning, as onnxruntime does")
            }
            o.coordinates = t
            let rounding = try node.string("nearest_mode", default: "round_prefer_floor")
            guard let n = NearestRounding(rawValue: rounding), n != .simple else {
                throw node.invalid("nearest_mode", "must be round_prefer_floor, round_prefer_ceil, floor or ceil; got \"\(rounding)\"")
            }
            o.nearest = n
            o.cubicCoefficient = Double(try node.float("cubic_coeff_a", default: -0.75))
            o.excludeOutside = try node.int("exclude_outside", default: 0) != 0
            o.extrapolationValue = Double(try node.float("extrapolation_value", default: 0))
            scalesInput = 2
            sizesInput = 3
            roiInput = 1
        } else {
            o.coordinates = .asymmetric
            o.nearest = .simple
            scalesInput = 1
            sizesInput = nil
            roiInput = nil
        }
        if ctx.opset >= 18 {
            o.antialias = try node.int("antialias", default: 0) != 0
            axes = try node.ints("axes")
            let name = try node.string("keep_aspect_ratio_policy", default: "stretch")
            guard let p = AspectRatioPolicy(rawValue: name) else {
                throw node.invalid("keep_aspect_ratio_policy", "must be stretch, not_larger or not_smaller; got \"\(name)\"")
            }
            policy = p
        } else {
            axes = nil
            policy = .stretch
        }
        options = o
        attributeScales = nil
    }

    /// Upsample: opset 7 reads `scales` from an attribute, 9 from input 1.
    init(upsample ctx: OperatorContext) throws {
        // Upsample keeps Resize-10's inputs and coordinates at every opset.
        let base = try ResizeOperator(OperatorContext(node: ctx.node, opset: min(ctx.opset, 10), constants: ctx.constants))
        if ctx.opset < 9 {
            guard let s = try ctx.node.floats("scales") else { throw ctx.node.missing("scales") }
            self.init(base, attributeScales: s)
        } else {
            self = base
        }
    }

    /// Memberwise copy with Upsample's attribute scales.
    private init(_ other: ResizeOperator, attributeScales: [Float]) {
        options = other.options
        scalesInput = other.scalesInput
        sizesInput = other.sizesInput
        roiInput = other.roiInput
        axes = other.axes
        policy = other.policy
        self.attributeScales = attributeScales
    }

    /// The resized axes, per-axis scales and output shape for an input of shape `x` with these `sizes` and
    /// `scales` inputs (nil or empty when not given).
    func target(inputShape x: [Int], sizes: Tensor?, scales scalesTensor: Tensor?) throws -> (axes: [Int], scales: [Double], shape: [Int]) {
        let r = x.count
        let axes = try (self.axes ?? Array(0..<r)).map { try normalizeAxis($0, rank: r) }
        guard Set(axes).count == axes.count else { throw KernelError("axes \(shapeString(axes)) repeat an axis") }

        var scales = Array(repeating: 1.0, count: r)
        var outShape = x
        if sizesInput != nil, let sizes, sizes.count > 0 {
            let given = sizes.ints()
            guard given.allSatisfy({ $0 >= 0 }) else { throw KernelError("sizes \(shapeString(given)) has a negative size") }
            guard given.count == axes.count else {
                throw KernelError("sizes has \(given.count) values for \(axes.count) resized axes of \(shapeString(x))")
            }
            for (i, a) in axes.enumerated() {
                outShape[a] = given[i]
                scales[a] = Double(given[i]) / Double(x[a])
            }
            if policy != .stretch {
                let chosen = axes.map { scales[$0] }
                let scale = (policy == .notLarger ? chosen.min() : chosen.max()) ?? 1
                for a in axes {
                    scales[a] = scale
                    outShape[a] = try sizeFromDouble(scale * Double(x[a]) + 0.5, axis: a)
                }
            }
        } else {
            let given: [Double]
            if let attributeScales {
                given = attributeScales.map(Double.init)
            } else if let s = scalesTensor, s.count > 0 {
                given = s.doubles()
            } else {
                throw KernelError("neither scales nor sizes is given")
            }
            guard given.count == axes.count else {
                throw KernelError("scales has \(given.count) values for \(axes.count) resized axes of \(shapeString(x))")
            }
            for (i, a) in axes.enumerated() {
                guard given[i] > 0, given[i].isFinite else {
                    throw KernelError("scale \(given[i]) on axis \(a) must be positive and finite")
                }
                scales[a] = given[i]
                outShape[a] = try sizeFromDouble(given[i] * Double(x[a]), axis: a)
                // As onnxruntime: a scale that shrinks a non-empty axis to nothing is an error, not an empty result.
                guard outShape[a] > 0 || x[a] == 0 else {
                    throw KernelError("scale \(given[i]) on axis \(a) makes its \(x[a]) element(s) 0; the output would be empty")
                }
            }
        }
        return (axes, scales, outShape)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        // A sizes or scales input computed at run time: unknown here.
        for i in [sizesInput, attributeScales == nil ? scalesInput : nil].compactMap({ $0 })
        where shapes.count > i && shapes[i] != nil && constants.optional(i) == nil { return [] }
        return [try target(inputShape: x, sizes: sizesInput.flatMap { constants.optional($0) },
                           scales: constants.optional(scalesInput)).shape]
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let r = x.rank
        let (axes, scales, outShape) = try target(inputShape: x.shape, sizes: sizesInput.flatMap { inputs.optional($0) },
                                                  scales: inputs.optional(scalesInput))

        var roi: [(Double, Double)]?
        if options.coordinates == .tfCropAndResize {
            guard let roiInput, let t = inputs.optional(roiInput), t.count > 0 else {
                throw KernelError("tf_crop_and_resize needs the roi input")
            }
            let v = t.doubles()
            guard v.count == 2 * axes.count else {
                throw KernelError("roi has \(v.count) values for \(axes.count) resized axes; expected \(2 * axes.count)")
            }
            var full = Array(repeating: (0.0, 1.0), count: r)
            for (i, a) in axes.enumerated() { full[a] = (v[i], v[axes.count + i]) }
            roi = full
        }
        if options.interpolation != .nearest && !(x.dtype.isFloatingPoint || x.dtype.isInteger) {
            throw KernelError("\(options.interpolation.rawValue) resize needs a numeric input, got \(x.dtype)")
        }
        try requireAllocatable(outShape, x.dtype)
        if options.interpolation != .nearest && x.count > 0 && !outShape.contains(0) {
            // Working memory of the separable passes: the shape after each resized axis (Double unless
            // float32), and per axis a table of taps (index and weight) for every output position. A huge
            // upscale of one axis followed by a huge downscale of the next fits the output, not these.
            var shape = x.shape
            for a in axes {
                shape[a] = outShape[a]
                try requireAllocatable(shape, x.dtype == .float32 ? .float32 : .float64,
                                       "the intermediate after resizing axis \(a)")
                try requireAllocatable([outShape[a], resizeTapCount(scale: scales[a], options: options), 2], .float64,
                                       "the interpolation taps of axis \(a)")
            }
        }
        return [resized(x, outShape: outShape, scales: scales, roi: roi, order: axes, options: options)]
    }

    /// An output size computed in floating point, refused when no tensor could have it.
    private func sizeFromDouble(_ value: Double, axis: Int) throws -> Int {
        guard value.isFinite, value < 0x1p62 else {
            throw KernelError("the resized axis \(axis) would have \(value) elements")
        }
        return Int(value)
    }
}
