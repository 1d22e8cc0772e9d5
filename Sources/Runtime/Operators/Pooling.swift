import ONNX
import Tensor

// MaxPool, AveragePool, LpPool (1-, 2- and 3-D windows: kernel_shape, strides, pads, dilations,
// ceil_mode, auto_pad), GlobalAveragePool, GlobalMaxPool. The kernels are in Tensor/Pooling.swift.

let poolingOperators: [Registration] = [
    Registration("MaxPool", since: 1) { ctx in try PoolOperator(ctx, kind: .max) },
    Registration("AveragePool", since: 1) { ctx in try PoolOperator(ctx, kind: .average) },
    Registration("LpPool", since: 1) { ctx in try PoolOperator(ctx, kind: .lp) },
    Registration("GlobalAveragePool", since: 1) { _ in GlobalPoolOperator(max: false) },
    Registration("GlobalMaxPool", since: 1) { _ in GlobalPoolOperator(max: true) },
    Registration("GlobalLpPool", since: 2) { ctx in try GlobalLpPoolOperator(ctx) },
    Registration("MaxUnpool", since: 9) { ctx in try MaxUnpoolOperator(ctx) },
]

/// The pooling attributes of a node, parsed once. `geometry(for:)` resolves auto_pad against an input.
struct PoolingAttributes: Sendable {
    enum AutoPad: Sendable { case notSet, sameUpper, sameLower, valid }
    let kernel: [Int]
    let strides: [Int]
    let dilations: [Int]
    let pads: [Int]
    let autoPad: AutoPad
    let ceilMode: Bool

    init(_ node: Node) throws {
        guard let kernel = try node.ints("kernel_shape") else { throw node.missing("kernel_shape") }
        let k = kernel.count
        guard (1...3).contains(k), kernel.allSatisfy({ $0 > 0 }) else {
            throw node.invalid("kernel_shape", "must hold 1 to 3 positive sizes; got \(kernel)")
        }
        self.kernel = kernel
        strides = try node.ints("strides") ?? Array(repeating: 1, count: k)
        dilations = try node.ints("dilations") ?? Array(repeating: 1, count: k)
        pads = try node.ints("pads") ?? Array(repeating: 0, count: 2 * k)
        guard strides.count == k, strides.allSatisfy({ $0 > 0 }) else {
            throw node.invalid("strides", "must hold \(k) positive values; got \(strides)")
        }
        guard dilations.count == k, dilations.allSatisfy({ $0 > 0 }) else {
            throw node.invalid("dilations", "must hold \(k) positive values; got \(dilations)")
        }
        guard pads.count == 2 * k, pads.allSatisfy({ $0 >= 0 }) else {
            throw node.invalid("pads", "must hold \(2 * k) non-negative values; got \(pads)")
        }
        try requireWindowAttribute(node, "kernel_shape", kernel, minimum: 1)
        try requireWindowAttribute(node, "strides", strides, minimum: 1)
        try requireWindowAttribute(node, "dilations", dilations, minimum: 1)
        try requireWindowAttribute(node, "pads", pads, minimum: 0)
        switch try node.string("auto_pad", default: "NOTSET") {
        case "NOTSET", "": autoPad = .notSet
        case "SAME_UPPER": autoPad = .sameUpper
        case "SAME_LOWER": autoPad = .sameLower
        case "VALID": autoPad = .valid
        case let other: throw node.invalid("auto_pad", "must be NOTSET, SAME_UPPER, SAME_LOWER or VALID; got \"\(other)\"")
        }
        ceilMode = try node.int("ceil_mode", default: 0) != 0
    }

    /// The window geometry for an input of spatial shape `spatial`.
    func geometry(for spatial: [Int]) -> PoolingGeometry {
        let k = kernel.count
        switch autoPad {
        case .notSet:
            return PoolingGeometry(kernel: kernel, strides: strides, dilations: dilations,
                                   padsBegin: Array(pads[..<k]), padsEnd: Array(pads[k...]), ceilMode: ceilMode)
        case .valid:
            return PoolingGeometry(kernel: kernel, strides: strides, dilations: dilations, ceilMode: ceilMode)
        case .sameUpper, .sameLower:
            // Output ceil(in / stride); the total padding splits with the odd pixel at the end (SAME_UPPER)
            // or at the beginning (SAME_LOWER).
            var begin = [Int](), end = [Int]()
            for i in 0..<k {
                let out = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max((out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i], 0)
                let small = total / 2
                begin.append(autoPad == .sameUpper ? small : total - small)
                end.append(autoPad == .sameUpper ? total - small : small)
            }
            return PoolingGeometry(kernel: kernel, strides: strides, dilations: dilations,
                                   padsBegin: begin, padsEnd: end, ceilMode: false)
        }
    }

    func check(_ x: Tensor) throws {
        try requireNumeric(x, "X")
        try check(shape: x.shape)
    }

    func check(shape x: [Int]) throws {
        guard x.count == kernel.count + 2 else {
            throw KernelError("input \(shapeString(x)) has rank \(x.count); a \(kernel.count)-D kernel "
                + "\(shapeString(kernel)) needs rank \(kernel.count + 2) (N, C, spatial...)")
        }
    }

    /// The output shape for an input of shape `x` (checked as `check` does).
    func outputShape(for x: [Int]) throws -> [Int] {
        try check(shape: x)
        let spatial = Array(x.dropFirst(2))
        return Array(x.prefix(2)) + geometry(for: spatial).outputSpatialShape(for: spatial)
    }
}

struct PoolOperator: Operator {
    enum Kind: Sendable { case max, average, lp }
    let kind: Kind
    let attributes: PoolingAttributes
    let countIncludePad: Bool
    /// MaxPool Indices output: column-major offsets when 1 (storage_order).
    let columnMajorIndices: Bool
    let p: Float
    /// Whether the node asks for MaxPool's second output (Indices).
    let wantsIndices: Bool

    init(_ ctx: OperatorContext, kind: Kind) throws {
        self.kind = kind
        wantsIndices = ctx.node.outputs.count > 1 && !ctx.node.outputs[1].isEmpty
        attributes = try PoolingAttributes(ctx.node)
        countIncludePad = try ctx.node.int("count_include_pad", default: 0) != 0
        columnMajorIndices = try ctx.node.int("storage_order", default: 0) != 0
        p = try ctx.node.float("p", default: 2)
        if kind == .lp && !(p > 0) { throw ctx.node.invalid("p", "must be positive; got \(p)") }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try attributes.check(input)
        let x = input.float32ForKernel()
        let g = attributes.geometry(for: Array(x.shape.dropFirst(2)))
        try requireAllocatable(try attributes.outputShape(for: x.shape), .float32)
        switch kind {
        case .average:
            return [avgPoolForward(x, g, countIncludePad: countIncludePad).kernelResult(as: input.dtype)]
        case .lp:
            return [lpPoolForward(x, g, p: p).kernelResult(as: input.dtype)]
        case .max:
            if !wantsIndices, let y = maxPoolValues(x, g) { return [y.kernelResult(as: input.dtype)] }
            let (y, local) = maxPoolForward(x, g)
            let output = y.kernelResult(as: input.dtype)
            return wantsIndices ? [output, globalIndices(local, inputShape: x.shape)] : [output]
        }
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        let y = try attributes.outputShape(for: x)
        return wantsIndices ? [y, y] : [y]
    }

    /// ONNX Indices: offsets into the whole flattened input (N and C included), row-major or, with
    /// storage_order 1, column-major within the spatial plane.
    func globalIndices(_ local: Tensor, inputShape: [Int]) -> Tensor {
        let spatial = Array(inputShape.dropFirst(2))
        let plane = spatial.reduce(1, *), outPlane = local.shape.dropFirst(2).reduce(1, *)
        let rowStrides = Tensor.strides(of: spatial)
        var colStrides = [Int](repeating: 1, count: spatial.count)
        for i in 1..<max(spatial.count, 1) { colStrides[i] = colStrides[i - 1] * spatial[i - 1] }
        let out = Tensor(uninitialized: local.shape, dtype: .int64)
        let src = local.pointer(as: Int64.self), dst = out.pointer(as: Int64.self)
        for i in 0..<local.count {
            var offset = Int(src[i])
            if offset >= 0 && columnMajorIndices {
                var column = 0
                for d in 0..<spatial.count {
                    column += (offset / rowStrides[d]) * colStrides[d]
                    offset %= rowStrides[d]
                }
                offset = column
            }
            dst[i] = offset < 0 ? -1 : Int64((i / max(outPlane, 1)) * plane + offset)
        }
        return out
    }
}

struct GlobalPoolOperator: Operator {
    let max: Bool

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        guard x.count >= 2 else { throw KernelError("input \(shapeString(x)) needs at least 2 dimensions (N, C, ...)") }
        return [Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)]
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 2 else {
            throw KernelError("input \(shapeString(input.shape)) needs at least 2 dimensions (N, C, ...)")
        }
        let x = input.float32ForKernel()
        return [(max ? globalMaxPool(x) : globalAveragePool(x)).kernelResult(as: input.dtype)]
    }
}

struct GlobalLpPoolOperator: Operator {
    let p: Float

    init(_ ctx: OperatorContext) throws {
        p = try ctx.node.float("p", default: 2)
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X")
        try requireNumeric(input, "X")
        guard input.rank >= 3, input.rank <= 5 else {
            throw KernelError("input \(shapeString(input.shape)) needs 1 to 3 spatial dimensions")
        }
        let x = input.float32ForKernel()
        let g = PoolingGeometry(kernel: Array(x.shape.dropFirst(2)))
        return [lpPoolForward(x, g, p: p).kernelResult(as: input.dtype)]
    }
}

/// MaxUnpool: scatters X into zeros of the unpooled shape ((in - 1) * stride - pads + kernel per spatial
/// dimension) at the flat offsets `I` (MaxPool's Indices); with an output_shape input the result is that
/// shape, the unpooled block in its leading corner (as the ONNX reference does).
struct MaxUnpoolOperator: Operator {
    let kernel: [Int]
    let strides: [Int]
    let pads: [Int]

    init(_ ctx: OperatorContext) throws {
        guard let kernel = try ctx.node.ints("kernel_shape") else { throw ctx.node.missing("kernel_shape") }
        self.kernel = kernel
        strides = try ctx.node.ints("strides") ?? Array(repeating: 1, count: kernel.count)
        pads = try ctx.node.ints("pads") ?? Array(repeating: 0, count: 2 * kernel.count)
        try requireWindowAttribute(ctx.node, "kernel_shape", kernel, minimum: 1)
        try requireWindowAttribute(ctx.node, "strides", strides, minimum: 1)
        try requireWindowAttribute(ctx.node, "pads", pads, minimum: 0)
        guard strides.count == kernel.count, pads.count == 2 * kernel.count else {
            throw ctx.node.invalid("strides", "and pads need \(kernel.count) and \(2 * kernel.count) values for kernel_shape \(kernel)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let input = try inputs.required(0, "X"), indices = try inputs.required(1, "I")
        try requireNumeric(input, "X")
        let k = kernel.count
        guard input.rank == k + 2, indices.shape == input.shape else {
            throw KernelError("X \(shapeString(input.shape)) and I \(shapeString(indices.shape)) must match and have "
                + "rank \(k + 2) for a \(k)-D kernel")
        }
        var inferred = Array(input.shape.prefix(2))
        for d in 0..<k {
            guard let size = checkedProduct(input.shape[d + 2] - 1, strides[d]).flatMap({ checkedSum($0, -pads[d], -pads[k + d], kernel[d]) }) else {
                throw KernelError("the unpooled size of axis \(d + 2) overflows 64 bits")
            }
            inferred.append(max(size, 0))
        }
        try requireAllocatable(inferred, .float64)
        let total = inferred.reduce(1, *)
        let x = input.doubles(), idx = indices.ints()
        var unpooled = [Double](repeating: 0, count: total)
        for i in 0..<x.count {
            guard idx[i] >= 0 && idx[i] < total else {
                throw KernelError("index \(idx[i]) is outside the unpooled tensor \(shapeString(inferred))")
            }
            unpooled[idx[i]] = x[i]
        }
        guard let requested = inputs.optional(2)?.ints(), requested != inferred else {
            return [Tensor.fromDoubles(unpooled, shape: inferred, dtype: input.dtype)]
        }
        guard requested.count == inferred.count, zip(requested, inferred).allSatisfy({ $0 >= $1 }) else {
            throw KernelError("output_shape \(shapeString(requested)) is smaller than the unpooled shape \(shapeString(inferred))")
        }
        try requireAllocatable(requested, .float64)
        var out = [Double](repeating: 0, count: requested.reduce(1, *))
        let srcStrides = Tensor.strides(of: inferred), dstStrides = Tensor.strides(of: requested)
        for i in 0..<total {
            var rest = i, o = 0
            for d in 0..<inferred.count { o += (rest / srcStrides[d]) * dstStrides[d]; rest %= srcStrides[d] }
            out[o] = unpooled[i]
        }
        return [Tensor.fromDoubles(out, shape: requested, dtype: input.dtype)]
    }
}
