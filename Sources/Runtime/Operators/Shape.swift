import ONNX
import Tensor

// Shape operators: the ones exported graphs use to compute and apply shapes. Those that only change
// the shape (Reshape, Flatten, Squeeze, Unsqueeze, Identity, inference Dropout) return views sharing the
// input's storage; the others copy through the data-movement kernels of the Tensor module.

let shapeOperators: [Registration] = [
    Registration("Reshape", since: 1) { ctx in try ReshapeOperator(ctx) },
    Registration("Flatten", since: 1) { ctx in try FlattenOperator(ctx) },
    Registration("Squeeze", since: 1) { ctx in try SqueezeOperator(ctx) },
    Registration("Unsqueeze", since: 1) { ctx in try UnsqueezeOperator(ctx) },
    Registration("Shape", since: 1) { ctx in try ShapeOperator(ctx) },
    Registration("Size", since: 1) { _ in SizeOperator() },
    Registration("Identity", since: 1) { _ in IdentityOperator() },
    Registration("Dropout", since: 1) { ctx in try DropoutOperator(ctx) },
    Registration("Expand", since: 8) { _ in ExpandOperator() },
    Registration("Tile", since: 6) { _ in TileOperator() },
    Registration("Transpose", since: 1) { ctx in try TransposeOperator(ctx) },
    Registration("DepthToSpace", since: 1) { ctx in try DepthToSpaceOperator(ctx) },
    Registration("SpaceToDepth", since: 1) { ctx in try SpaceToDepthOperator(ctx) },
]

/// Reshape: `shape` may hold one -1 (inferred) and 0s (copy the input's dimension, unless `allowzero`).
/// Opsets 1-4 take the shape from an attribute.
struct ReshapeOperator: Operator {
    let allowZero: Bool
    let attributeShape: [Int]?

    init(_ ctx: OperatorContext) throws {
        allowZero = try ctx.node.int("allowzero", default: 0) != 0
        attributeShape = ctx.opset < 5 ? try ctx.node.ints("shape") ?? [] : nil
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let requested = try attributeShape ?? inputs.required(1, "shape").ints()
        return [x.reshaped(try reshapeTarget(requested, input: x.shape, allowZero: allowZero))]
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil, let requested = attributeShape ?? constants.optional(1)?.ints() else { return [] }
        return [try reshapeTarget(requested, input: x, allowZero: allowZero)]
    }
}

/// Resolves Reshape's 0 and -1 entries against the input shape.
func reshapeTarget(_ requested: [Int], input: [Int], allowZero: Bool) throws -> [Int] {
    guard let count = checkedElementCount(input) else { throw KernelError("input \(shapeString(input)) overflows") }
    var shape = requested
    var inferred: Int?
    for (i, d) in requested.enumerated() {
        if d == 0 && !allowZero {
            guard i < input.count else {
                throw KernelError("shape \(shapeString(requested)) copies dimension \(i) (0) from input \(shapeString(input)), which has none")
            }
            shape[i] = input[i]
        } else if d == -1 {
            guard inferred == nil else { throw KernelError("shape \(shapeString(requested)) has more than one -1") }
            inferred = i
        } else if d < 0 {
            throw KernelError("shape \(shapeString(requested)) has a negative dimension")
        }
    }
    if let i = inferred {
        guard let known = checkedElementCount(shape.enumerated().map { $0.offset == i ? 1 : $0.element }),
              known != 0, count % known == 0 else {
            throw KernelError("cannot reshape \(shapeString(input)) (\(count) elements) to \(shapeString(requested))")
        }
        shape[i] = count / known
    }
    guard checkedElementCount(shape) == count else {
        throw KernelError("cannot reshape \(shapeString(input)) (\(count) elements) to \(shapeString(requested))")
    }
    return shape
}

/// Flatten: [d0, ..., dr-1] -> [d0 * ... * d(axis-1), d(axis) * ... * dr-1]; axis in [-r, r].
struct FlattenOperator: Operator {
    let axis: Int
    init(_ ctx: OperatorContext) throws { axis = try ctx.node.int("axis", default: 1) }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        return [x.reshaped(try outputShape(x.shape))]
    }

    func outputShape(_ x: [Int]) throws -> [Int] {
        let a = axis < 0 ? axis + x.count : axis
        guard a >= 0 && a <= x.count else {
            throw KernelError("axis \(axis) is out of range for a tensor of rank \(x.count)")
        }
        guard let outer = checkedElementCount(Array(x[0..<a])), let inner = checkedElementCount(Array(x[a...])) else {
            throw KernelError("input \(shapeString(x)) overflows")
        }
        return [outer, inner]
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        return [try outputShape(x)]
    }
}

/// Squeeze: drops the listed size-1 axes (attribute before opset 13, input from 13), or all size-1 axes.
struct SqueezeOperator: Operator {
    let attributeAxes: [Int]?
    let axesFromInput: Bool
    init(_ ctx: OperatorContext) throws {
        axesFromInput = ctx.opset >= 13
        attributeAxes = axesFromInput ? nil : try ctx.node.ints("axes")
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        return [x.reshaped(try outputShape(x.shape, axes: axesFromInput ? inputs.optional(1)?.ints() : attributeAxes))]
    }

    func outputShape(_ x: [Int], axes: [Int]?) throws -> [Int] {
        guard let axes else { return x.filter { $0 != 1 } }
        let drop = Set(try axes.map { try normalizeAxis($0, rank: x.count) })
        for a in drop where x[a] != 1 {
            throw KernelError("cannot squeeze axis \(a) of \(shapeString(x)): its size is \(x[a]), not 1")
        }
        return x.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        if axesFromInput, shapes.count > 1, constants.optional(1) == nil { return [] }   // axes computed at run time
        return [try outputShape(x, axes: axesFromInput ? constants.optional(1)?.ints() : attributeAxes)]
    }
}

/// Unsqueeze: inserts size-1 axes at the listed positions of the output (negative counts from the
/// output's end). Attribute before opset 13, input from 13.
struct UnsqueezeOperator: Operator {
    let attributeAxes: [Int]?
    init(_ ctx: OperatorContext) throws {
        if ctx.opset >= 13 {
            attributeAxes = nil
        } else {
            guard let axes = try ctx.node.ints("axes") else { throw ctx.node.missing("axes") }
            attributeAxes = axes
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        return [x.reshaped(try outputShape(x.shape, axes: try attributeAxes ?? inputs.required(1, "axes").ints()))]
    }

    func outputShape(_ x: [Int], axes: [Int]) throws -> [Int] {
        let rank = x.count + axes.count
        let inserted = Set(try axes.map { try normalizeAxis($0, rank: rank) })
        guard inserted.count == axes.count else {
            throw KernelError("axes \(shapeString(axes)) name the same output axis twice")
        }
        var shape: [Int] = []
        var next = x.makeIterator()
        for i in 0..<rank { shape.append(inserted.contains(i) ? 1 : next.next()!) }
        return shape
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil, let axes = attributeAxes ?? constants.optional(1)?.ints() else { return [] }
        return [try outputShape(x, axes: axes)]
    }
}

/// Shape: the input's dimensions as int64, from opset 15 the slice [start, end) of them (clamped).
struct ShapeOperator: Operator {
    let start: Int
    let end: Int?
    init(_ ctx: OperatorContext) throws {
        start = ctx.opset >= 15 ? try ctx.node.int("start", default: 0) : 0
        end = ctx.opset >= 15 ? try ctx.node.int("end") : nil
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let dims = x.shape[dimensions(rank: x.rank)].map { Int64($0) }
        return [Tensor(shape: [dims.count], scalars: dims)]
    }

    /// The dimensions it returns of a tensor of rank `r`.
    func dimensions(rank r: Int) -> Range<Int> {
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + r : i, 0), r) }
        let s = clamp(start), e = clamp(end ?? r)
        return s < e ? s..<e : 0..<0
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        return [[dimensions(rank: x.count).count]]
    }
}

/// Size: the element count, an int64 scalar.
struct SizeOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        [Tensor(scalar: Int64(try inputs.required(0, "data").count))]
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] { [[]] }
}

struct IdentityOperator: ShapePreserving {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] { [try inputs.required(0, "input")] }
}

/// Expand's shape: the numpy bidirectional broadcast of two shapes, or nil when they are incompatible.
func expandShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = Array(repeating: 1, count: r)
    for i in 0..<r {
        let x = i < r - a.count ? 1 : a[i - (r - a.count)]
        let y = i < r - b.count ? 1 : b[i - (r - b.count)]
        if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
    }
    return out
}

/// Expand: broadcasts the input against `shape` (numpy rules, in both directions).
struct ExpandOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let requested = try inputs.required(1, "shape").ints()
        guard requested.allSatisfy({ $0 >= 0 }), let shape = expandShape(x.shape, requested) else {
            throw KernelError("cannot expand \(shapeString(x.shape)) to \(shapeString(requested))")
        }
        try requireAllocatable(shape, x.dtype)
        return [shape == x.shape ? x : broadcasted(x, to: shape)]
    }
}

/// Tile: repeats the input `repeats[i]` times along each axis i.
struct TileOperator: Operator {
    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let repeats = try inputs.required(1, "repeats").ints()
        guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw KernelError("repeats \(shapeString(repeats)) needs one non-negative count per axis of \(shapeString(x.shape))")
        }
        let shape = zip(x.shape, repeats).map { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 }
        guard !shape.contains(-1) else {
            throw KernelError("repeats \(shapeString(repeats)) of \(shapeString(x.shape)) overflow 64 bits")
        }
        try requireAllocatable(shape, x.dtype)
        return [tiled(x, repeats: repeats)]
    }
}

/// Transpose: output axis i is input axis perm[i]; perm defaults to reversing the axes.
struct TransposeOperator: Operator {
    let perm: [Int]?
    init(_ ctx: OperatorContext) throws {
        perm = try ctx.node.ints("perm")
        if let perm, Set(perm) != Set(0..<perm.count) {
            throw ctx.node.invalid("perm", "must be a permutation of 0..<\(perm.count); got \(shapeString(perm))")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let p = try permutation(for: x.shape)
        return [p == Array(0..<x.rank) ? x : transposed(x, perm: p)]
    }

    func permutation(for x: [Int]) throws -> [Int] {
        let p = perm ?? Array((0..<x.count).reversed())
        guard p.count == x.count else {
            throw KernelError("perm \(shapeString(p)) does not match input rank \(x.count) \(shapeString(x))")
        }
        return p
    }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        return [try permutation(for: x).map { x[$0] }]
    }
}

/// DepthToSpace: [N, C, H, W] -> [N, C / b², H * b, W * b]. DCR reads channel blocks depth-major
/// (channel = (i * b + j) * C/b² + c), CRD column-major (channel = c * b² + i * b + j).
struct DepthToSpaceOperator: Operator {
    let blocksize: Int
    let crd: Bool
    init(_ ctx: OperatorContext) throws { (blocksize, crd) = try spaceDepthAttributes(ctx) }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        try check(x)
        return [[x[0], x[1] / (blocksize * blocksize), x[2] * blocksize, x[3] * blocksize]]
    }

    func check(_ x: [Int]) throws {
        guard x.count == 4, x[1] % (blocksize * blocksize) == 0 else {
            throw KernelError("input \(shapeString(x)) must be [N, C, H, W] with C divisible by \(blocksize * blocksize)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let b = blocksize
        try check(x.shape)
        let (n, c, h, w) = (x.shape[0], x.shape[1] / (b * b), x.shape[2], x.shape[3])
        let y = crd ? transposed(x.reshaped([n, c, b, b, h, w]), perm: [0, 1, 4, 2, 5, 3])
            : transposed(x.reshaped([n, b, b, c, h, w]), perm: [0, 3, 4, 1, 5, 2])
        return [y.reshaped([n, c, h * b, w * b])]
    }
}

/// SpaceToDepth, the inverse of DepthToSpace: [N, C, H, W] -> [N, C * b², H / b, W / b].
struct SpaceToDepthOperator: Operator {
    let blocksize: Int
    let crd: Bool
    init(_ ctx: OperatorContext) throws { (blocksize, crd) = try spaceDepthAttributes(ctx) }

    func outputShapes(_ shapes: [[Int]?], constants: [Tensor?]) throws -> [[Int]?] {
        guard let x = shapes.first ?? nil else { return [] }
        try check(x)
        return [[x[0], x[1] * blocksize * blocksize, x[2] / blocksize, x[3] / blocksize]]
    }

    func check(_ x: [Int]) throws {
        guard x.count == 4, x[2] % blocksize == 0, x[3] % blocksize == 0 else {
            throw KernelError("input \(shapeString(x)) must be [N, C, H, W] with H and W divisible by \(blocksize)")
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        let b = blocksize
        try check(x.shape)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2] / b, x.shape[3] / b)
        let v = x.reshaped([n, c, h, b, w, b])
        let y = crd ? transposed(v, perm: [0, 1, 3, 5, 2, 4]) : transposed(v, perm: [0, 3, 5, 1, 2, 4])
        return [y.reshaped([n, c * b * b, h, w])]
    }
}

/// DepthToSpace's and SpaceToDepth's `blocksize` and whether `mode` is CRD.
func spaceDepthAttributes(_ ctx: OperatorContext) throws -> (blocksize: Int, crd: Bool) {
    guard let b = try ctx.node.int("blocksize") else { throw ctx.node.missing("blocksize") }
    try requireWindowAttribute(ctx.node, "blocksize", [b], minimum: 1)  // b * b must not overflow
    switch try ctx.node.string("mode", default: "DCR") {
    case "DCR": return (b, false)
    case "CRD": return (b, true)
    case let other: throw ctx.node.invalid("mode", "must be DCR or CRD; got \"\(other)\"")
    }
}
