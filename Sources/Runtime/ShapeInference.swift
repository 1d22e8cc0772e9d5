import ONNX
import Tensor

/// A dimension as shape inference sees it: a number, or `scale * symbol + offset` for a symbolic input
/// dimension ("H", "batch"), which is how U-Net sizes move (H/2 after a 2x2 pool, 2*H after a stride-2
/// transposed conv), or unknown.
///
/// Symbolic sizes are taken to divide evenly (a page padded to the network's multiple); the runtime always
/// computes exact shapes from the real inputs, with the same operator rules.
public enum SymbolicDim: Hashable, Sendable, CustomStringConvertible {
    case value(Int)
    case affine(symbol: String, numerator: Int, denominator: Int, offset: Int)
    case unknown

    public static func symbol(_ name: String) -> SymbolicDim { .affine(symbol: name, numerator: 1, denominator: 1, offset: 0) }

    public var description: String {
        switch self {
        case .value(let n): return String(n)
        case .unknown: return "?"
        case .affine(let s, let num, let den, let off):
            var text = s
            if num != 1 { text = "\(num)*" + text }
            if den != 1 { text += "/\(den)" }
            if off > 0 { text += "+\(off)" } else if off < 0 { text += "\(off)" }
            return text
        }
    }
}

/// Propagates declared input shapes (with their symbols) through the graph, by each node's own operator:
/// `Operator.outputShapes`, the rule its `run` applies (so `inspect --shapes` and the runtime cannot
/// disagree). Symbolic dimensions are found by sampling: the graph's shapes are computed with every symbol
/// at a base size, then with one symbol at a time moved by two steps; a dimension that moves with one
/// symbol, in proportion, is `a * symbol / b + c`; one that does not move is a number; anything else (two
/// symbols, a product, rounding) is unknown. Base sizes are multiples of 2^7 * 3^2 * 5 * 7, so the halvings of
/// U-Nets and the usual strides divide them exactly, as they divide the padded pages the runtime is fed.
public enum ShapeInference {
    /// A size every symbol's samples are multiples of (8!).
    static let sampleUnit = 40_320

    /// Shapes of every value it could infer, by name; missing entries mean unknown rank.
    public static func infer(_ model: Model) -> [String: [SymbolicDim]] {
        let graph = model.graph
        var declared: [String: [SymbolicDim]] = [:]
        for (name, t) in graph.initializers { declared[name] = t.shape.map { .value($0) } }
        var symbols: [String] = []
        for input in graph.inputs where declared[input.name] == nil {
            guard let dims = input.shape else { continue }
            declared[input.name] = dims.enumerated().map { axis, dim in
                switch dim {
                case .fixed(let n): return .value(n)
                case .symbol(let s): return .symbol(s)
                // An undeclared size is sampled like a symbol of its own; whatever depends on it is unknown.
                case .unknown: return .symbol("?\(input.name)#\(axis)")
                }
            }
            for case .affine(let s, _, _, _) in declared[input.name]! where !symbols.contains(s) { symbols.append(s) }
        }
        guard let order = try? Plan.topologicalOrder(graph) else { return declared.filter { !$0.key.hasPrefix("?") } }
        let nodes = buildOperators(model, order: order)

        func propagate(_ sizes: [String: Int]) -> [String: [Int]] {
            var shapes: [String: [Int]] = [:]
            // Small tensors computed from shapes (Shape -> Gather -> Concat -> Reshape, the sizes of a Resize).
            var values: [String: Tensor] = [:]
            for (name, dims) in declared {
                var concrete: [Int] = []
                for d in dims {
                    switch d {
                    case .value(let n): concrete.append(n)
                    case .affine(let s, _, _, _): concrete.append(sizes[s]!)
                    case .unknown: break
                    }
                }
                if concrete.count == dims.count { shapes[name] = concrete }
            }
            for n in nodes {
                guard let op = n.op else { continue }
                let ins = n.node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
                let known = zip(n.node.inputs, n.constants).map { name, c in c ?? (name.isEmpty ? nil : values[name]) }
                if let results = shapeArithmetic(n.node, op, shapes: ins, values: known) {
                    for (name, t) in zip(n.node.outputs, results) where !name.isEmpty {
                        shapes[name] = t.shape
                        values[name] = t
                    }
                    continue
                }
                guard let outs = try? op.outputShapes(ins, constants: known) else { continue }
                for (name, shape) in zip(n.node.outputs, outs) where !name.isEmpty {
                    if let shape, shape.allSatisfy({ $0 >= 0 }) { shapes[name] = shape }
                }
            }
            return shapes
        }

        let base = Dictionary(uniqueKeysWithValues: symbols.enumerated().map { ($1, sampleUnit * ($0 + 1)) })
        let atBase = propagate(base)
        // For each symbol: the shapes with it moved by one and by two sample units.
        let moved = symbols.map { s in
            (1...2).map { k in propagate(base.merging([s: base[s]! + k * sampleUnit]) { $1 }) }
        }
        var result: [String: [SymbolicDim]] = [:]
        for (name, dims) in atBase {
            var out: [SymbolicDim] = []
            for (axis, d0) in dims.enumerated() {
                var dim = SymbolicDim.value(d0)
                for (j, s) in symbols.enumerated() {
                    guard let a = moved[j][0][name], let b = moved[j][1][name], a.count == dims.count, b.count == dims.count else {
                        dim = .unknown
                        break
                    }
                    let step = a[axis] - d0
                    if step == 0 && b[axis] == d0 { continue }
                    // Moves with this symbol: in proportion, with no other symbol moving it, and a named symbol.
                    guard case .value = dim, b[axis] - a[axis] == step, !s.hasPrefix("?") else {
                        dim = .unknown
                        break
                    }
                    let g = gcd(abs(step), sampleUnit)
                    let numerator = step / g, denominator = sampleUnit / g
                    // d0 = numerator * base / denominator + offset, with base a multiple of sampleUnit.
                    let offset = d0 - numerator * (base[s]! / denominator)
                    dim = .affine(symbol: s, numerator: numerator, denominator: denominator, offset: offset)
                }
                out.append(dim)
            }
            result[name] = out
        }
        return result
    }

    /// Ops that compute with shapes in exported graphs, whose outputs are no larger than a broadcast of their
    /// inputs: run on small known inputs during inference, as constant folding runs them in the plan.
    static let shapeArithmeticOps: Set<String> = [
        "Gather", "GatherElements", "Unsqueeze", "Squeeze", "Concat", "Cast", "CastLike", "Slice", "Reshape",
        "Flatten", "Identity", "Transpose", "Add", "Sub", "Mul", "Div", "Mod", "Neg", "Abs", "Floor", "Ceil",
        "Round", "Sqrt", "Min", "Max", "Sum", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not",
        "And", "Or", "Where", "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax",
    ]
    /// Inputs up to this many elements are small enough to compute with.
    static let shapeArithmeticLimit = 64
    /// Constants up to this many elements reach the operators' builders.
    static let smallConstantLimit = 4096

    /// The outputs of a Shape or Size of a known shape, or of a shape-arithmetic node whose inputs are all
    /// known and small (ConstantOfShape too, when it makes at most `shapeArithmeticLimit` elements); nil
    /// otherwise.
    static func shapeArithmetic(_ node: Node, _ op: any Operator, shapes: [[Int]?], values: [Tensor?]) -> [Tensor]? {
        if let shapeOp = op as? ShapeOperator, let x = shapes.first ?? nil {
            return [Tensor(shape: [shapeOp.dimensions(rank: x.count).count],
                           scalars: x[shapeOp.dimensions(rank: x.count)].map { Int64($0) })]
        }
        if op is SizeOperator, let x = shapes.first ?? nil, let count = checkedElementCount(x) {
            return [Tensor(scalar: Int64(count))]
        }
        let present = zip(node.inputs, values).filter { !$0.0.isEmpty }.map(\.1)
        guard !present.isEmpty, present.allSatisfy({ $0 != nil && $0!.count <= shapeArithmeticLimit }) else { return nil }
        if node.opType == "ConstantOfShape" {
            guard let count = checkedElementCount(present[0]!.ints()), count <= shapeArithmeticLimit else { return nil }
        } else if !shapeArithmeticOps.contains(node.opType) || !node.domain.isEmpty {
            return nil
        }
        return try? op.run(values)
    }

    /// A node with its operator, built once as the plan builds it (nil where building fails: a bad attribute,
    /// an unknown op), and its inputs known at load time: initializers and Constant outputs.
    struct BuiltNode {
        let node: Node
        let op: (any Operator)?
        let constants: [Tensor?]
    }

    static func buildOperators(_ model: Model, order: [Int]) -> [BuiltNode] {
        // Only small constants (shapes, axes, pads, scales) are handed to the builders: shape rules need no
        // weights, and a Conv given its weights would transform them for Winograd (a model's size again).
        var constants = model.graph.initializers.filter { $0.value.count <= smallConstantLimit }
        return order.map { index in
            let node = model.graph.nodes[index]
            let known = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
            let op = try? Plan.makeOperator(node, model: model, constants: known)
            if node.opType == "Constant", let op, let name = node.outputs.first, let t = try? op.run([]).first {
                constants[name] = t
            }
            return BuiltNode(node: node, op: op, constants: known)
        }
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}
