import ONNX
import Tensor

/// A dimension as shape inference sees it: a number, or `scale * symbol + offset` for a symbolic input
/// dimension ("H", "batch"), which is how U-Net sizes move (H/2 after a 2x2 pool, 2*H after a stride-2
/// transposed conv), or unknown.
///
/// Spatial arithmetic assumes symbolic sizes divide evenly (a page padded to the network's multiple); the
/// runtime itself always computes exact shapes from the real inputs, so this is for inspection and for
/// catching mismatched graphs before a page is loaded.
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

    /// `self * factor / divisor + add`, kept exact when possible; unknown when it overflows (a crafted
    /// file's attributes may be anything) or the divisor is not positive.
    func scaled(by factor: Int, dividedBy divisor: Int = 1, plus add: Int = 0) -> SymbolicDim {
        guard divisor > 0 else { return .unknown }
        switch self {
        case .value(let n):
            guard let total = checkedProduct(n, factor), total % divisor == 0,
                  let result = checkedSum(total / divisor, add) else { return .unknown }
            return .value(result)
        case .unknown: return .unknown
        case .affine(let s, let num, let den, let off):
            guard let offTimes = checkedProduct(off, factor), offTimes % divisor == 0,
                  var n = checkedProduct(num, factor), var d = checkedProduct(den, divisor),
                  let offset = checkedSum(offTimes / divisor, add) else { return .unknown }
            let g = gcd(n, d)
            n /= g; d /= g
            return .affine(symbol: s, numerator: n, denominator: d, offset: offset)
        }
    }

    private func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? Swift.max(a.magnitude > Int.max.magnitude ? 1 : abs(a), 1) : gcd(b, a % b) }
}

/// Propagates declared input shapes (with their symbols) through the graph.
public enum ShapeInference {
    /// Shapes of every value it could infer, by name; nil entries mean unknown rank.
    public static func infer(_ model: Model) -> [String: [SymbolicDim]] {
        let graph = model.graph
        var shapes: [String: [SymbolicDim]] = [:]
        var constants: [String: Tensor] = graph.initializers
        for (name, t) in graph.initializers { shapes[name] = t.shape.map { .value($0) } }
        for input in graph.inputs where shapes[input.name] == nil {
            guard let dims = input.shape else { continue }
            shapes[input.name] = dims.map {
                switch $0 {
                case .fixed(let n): .value(n)
                case .symbol(let s): .symbol(s)
                case .unknown: .unknown
                }
            }
        }
        guard let order = try? Plan.topologicalOrder(graph) else { return shapes }
        for index in order {
            let node = graph.nodes[index]
            if node.opType == "Constant", let name = node.outputs.first, let t = try? node.tensor("value") {
                constants[name] = t
                shapes[name] = t.shape.map { .value($0) }
                continue
            }
            let ins = node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
            let consts = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
            if let out = outputShape(node, ins, consts), let name = node.outputs.first, !name.isEmpty {
                shapes[name] = out
            }
        }
        return shapes
    }

    static let sameShape: Set<String> = [
        "Relu", "LeakyRelu", "Elu", "Selu", "Celu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus",
        "Softsign", "Gelu", "Mish", "Clip", "Erf", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal", "Floor",
        "Ceil", "Round", "Sign", "Not", "Identity", "Dropout", "Cast", "CastLike", "Softmax", "LogSoftmax",
        "InstanceNormalization", "BatchNormalization", "LayerNormalization", "GroupNormalization", "PRelu",
    ]
    static let broadcasting: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Sum", "Mean", "Equal", "Less", "Greater",
        "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "Mod",
    ]

    static func outputShape(_ node: Node, _ ins: [[SymbolicDim]?], _ consts: [Tensor?]) -> [SymbolicDim]? {
        let op = node.opType
        if sameShape.contains(op) { return ins.first ?? nil }
        if broadcasting.contains(op) {
            var result: [SymbolicDim] = []
            for case let shape? in ins {
                result = broadcast(result, shape)
            }
            return ins.contains { $0 == nil } ? nil : result
        }
        guard let x = ins.first ?? nil else { return nil }
        switch op {
        case "Conv", "MaxPool", "AveragePool":
            return convLike(node, x, weight: op == "Conv" ? ins.count > 1 ? ins[1] : nil : nil)
        case "ConvTranspose":
            return convTranspose(node, x, weight: ins.count > 1 ? ins[1] : nil)
        case "GlobalAveragePool", "GlobalMaxPool":
            return x.count >= 2 ? Array(x.prefix(2)) + Array(repeating: .value(1), count: x.count - 2) : nil
        case "Concat":
            guard let axis = try? node.int("axis", default: 0), !ins.contains(where: { $0 == nil }) else { return nil }
            let a = axis < 0 ? axis + x.count : axis
            guard a >= 0, a < x.count else { return nil }
            var out = x
            var total: SymbolicDim = .value(0)
            for case let s? in ins {
                total = add(total, s[a])
            }
            out[a] = total
            return out
        case "Resize", "Upsample":
            let scalesIndex = op == "Upsample" ? 1 : 2
            if let sizes = consts.count > 3 ? consts[3] : nil, sizes.count == x.count { return sizes.ints().map { .value($0) } }
            let scales: [Float]? = (consts.count > scalesIndex ? consts[scalesIndex] : nil).map { $0.dtype == .float32 ? $0.scalars(as: Float.self) : [] }
                ?? (try? node.floats("scales"))
            guard let scales, scales.count == x.count else { return nil }
            return zip(x, scales).map { d, s in
                guard s.isFinite, s > 1e-9, s < 1e9 else { return .unknown }
                return s == s.rounded() ? d.scaled(by: Int(s)) : (1 / s == (1 / s).rounded() ? d.scaled(by: 1, dividedBy: Int(1 / s)) : .unknown)
            }
        case "Reshape":
            guard let shape = consts.count > 1 ? consts[1] : nil else { return nil }
            let target = shape.ints()
            return target.enumerated().map { i, n in n > 0 ? .value(n) : (n == 0 && i < x.count ? x[i] : .unknown) }
        case "Flatten":
            let axis = (try? node.int("axis", default: 1)) ?? 1
            let a = axis < 0 ? axis + x.count : axis
            guard a >= 0, a <= x.count else { return nil }
            return [product(x.prefix(a)), product(x.dropFirst(a))]
        case "Transpose":
            let perm = (try? node.ints("perm")) ?? Array((0..<x.count).reversed())
            return perm.allSatisfy({ $0 >= 0 && $0 < x.count }) ? perm.map { x[$0] } : nil
        case "DepthToSpace", "SpaceToDepth":
            guard let b = try? node.int("blocksize"), x.count == 4, b > 0, b <= maximumWindowAttribute else { return nil }
            return op == "DepthToSpace"
                ? [x[0], x[1].scaled(by: 1, dividedBy: b * b), x[2].scaled(by: b), x[3].scaled(by: b)]
                : [x[0], x[1].scaled(by: b * b), x[2].scaled(by: 1, dividedBy: b), x[3].scaled(by: 1, dividedBy: b)]
        case "Pad":
            let pads = (consts.count > 1 ? consts[1]?.ints() : nil) ?? (try? node.ints("pads"))
            guard let pads, pads.count == 2 * x.count else { return nil }
            return x.enumerated().map { i, d in checkedSum(pads[i], pads[i + x.count]).map { d.scaled(by: 1, plus: $0) } ?? .unknown }
        case "Shape":
            return [.value(x.count)]
        case "Gemm":
            guard let w = ins.count > 1 ? ins[1] : nil, x.count == 2, w.count == 2 else { return nil }
            let ta = ((try? node.int("transA", default: 0)) ?? 0) != 0, tb = ((try? node.int("transB", default: 0)) ?? 0) != 0
            return [ta ? x[1] : x[0], tb ? w[0] : w[1]]
        case "MatMul":
            guard let w = ins.count > 1 ? ins[1] : nil, x.count >= 2, w.count >= 2 else { return nil }
            return broadcast(Array(x.dropLast(2)), Array(w.dropLast(2))) + [x[x.count - 2], w[w.count - 1]]
        default:
            return nil
        }
    }

    static func convLike(_ node: Node, _ x: [SymbolicDim], weight: [SymbolicDim]?) -> [SymbolicDim]? {
        let spatial = x.count - 2
        guard spatial >= 1 else { return nil }
        let kernel = (try? node.ints("kernel_shape")) ?? weight.map { $0.dropFirst(2).map { if case .value(let n) = $0 { n } else { -1 } } }
        guard let kernel, kernel.count == spatial, kernel.allSatisfy({ $0 > 0 }) else { return nil }
        let strides = ((try? node.ints("strides")) ?? nil) ?? Array(repeating: 1, count: spatial)
        let dilations = ((try? node.ints("dilations")) ?? nil) ?? Array(repeating: 1, count: spatial)
        var pads = ((try? node.ints("pads")) ?? nil) ?? Array(repeating: 0, count: 2 * spatial)
        let autoPad = ((try? node.string("auto_pad")) ?? nil) ?? "NOTSET"
        // Out-of-range attributes are the operator's error to report; here they only make the shape unknown.
        guard windowAttributesInRange(kernel + strides + dilations + pads), strides.count == spatial,
              dilations.count == spatial, pads.count == 2 * spatial, strides.allSatisfy({ $0 > 0 }),
              pads.allSatisfy({ $0 >= 0 }) else { return nil }
        var out = [x[0], weight.map { $0[0] } ?? x[1]]
        for i in 0..<spatial {
            let span = dilations[i] * (kernel[i] - 1) + 1
            if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                out.append(x[i + 2].scaled(by: 1, dividedBy: strides[i]))
                continue
            }
            if autoPad == "VALID" { pads = Array(repeating: 0, count: 2 * spatial) }
            // floor((d + pads - span) / s) + 1, exact when (d + pads - span) divides by s.
            let shift = pads[i] + pads[i + spatial] - span
            if node.opType != "Conv", ((try? node.int("ceil_mode", default: 0)) ?? 0) != 0 {
                // Pooling with ceil_mode: the kernel's own rule for a known size; otherwise unknown.
                guard case .value(let d) = x[i + 2], checkedSum(d, shift) != nil else { out.append(.unknown); continue }
                out.append(.value(PoolingGeometry.outputSize(input: d, kernel: kernel[i], stride: strides[i],
                                                             dilation: dilations[i], padBegin: pads[i],
                                                             padEnd: pads[i + spatial], ceilMode: true)))
                continue
            }
            switch x[i + 2] {
            case .value(let d): out.append(checkedSum(d, shift).map { .value($0 / strides[i] + 1) } ?? .unknown)
            case .unknown: out.append(.unknown)
            case .affine:
                // (d + shift)/s + 1 == d/s + (shift + s)/s when shift + s divides by s.
                let k = shift + strides[i]
                out.append(k % strides[i] == 0 ? x[i + 2].scaled(by: 1, dividedBy: strides[i], plus: k / strides[i]) : .unknown)
            }
        }
        return out
    }

    static func convTranspose(_ node: Node, _ x: [SymbolicDim], weight: [SymbolicDim]?) -> [SymbolicDim]? {
        let spatial = x.count - 2
        guard spatial >= 1, let weight, weight.count == x.count else { return nil }
        if let shape = (try? node.ints("output_shape")) ?? nil, shape.count == spatial {
            return [x[0], weight[1]] + shape.map { .value($0) }
        }
        let kernel = ((try? node.ints("kernel_shape")) ?? nil) ?? weight.dropFirst(2).map { if case .value(let n) = $0 { n } else { -1 } }
        guard kernel.allSatisfy({ $0 > 0 }) else { return nil }
        let strides = ((try? node.ints("strides")) ?? nil) ?? Array(repeating: 1, count: spatial)
        let dilations = ((try? node.ints("dilations")) ?? nil) ?? Array(repeating: 1, count: spatial)
        let pads = ((try? node.ints("pads")) ?? nil) ?? Array(repeating: 0, count: 2 * spatial)
        let outputPadding = ((try? node.ints("output_padding")) ?? nil) ?? Array(repeating: 0, count: spatial)
        let group = ((try? node.int("group", default: 1)) ?? 1)
        guard windowAttributesInRange(kernel + strides + dilations + pads + outputPadding + [group]),
              kernel.count == spatial, strides.count == spatial, dilations.count == spatial,
              pads.count == 2 * spatial, outputPadding.count == spatial else { return nil }
        var out = [x[0], weight[1].scaled(by: group)]
        for i in 0..<spatial {
            // s * (d - 1) + op + ((k - 1) * dil + 1) - pads
            let add = -strides[i] + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]
            out.append(x[i + 2].scaled(by: strides[i], plus: add))
        }
        return out
    }

    /// Kernel sizes, strides, dilations and pads within the operators' accepted range (so that the
    /// formulas below cannot overflow).
    static func windowAttributesInRange(_ values: [Int]) -> Bool {
        values.allSatisfy { $0.magnitude <= UInt(maximumWindowAttribute) }
    }

    static func broadcast(_ a: [SymbolicDim], _ b: [SymbolicDim]) -> [SymbolicDim] {
        let n = max(a.count, b.count)
        return (0..<n).map { i in
            let da = i < n - a.count ? SymbolicDim.value(1) : a[i - (n - a.count)]
            let db = i < n - b.count ? SymbolicDim.value(1) : b[i - (n - b.count)]
            if da == .value(1) { return db }
            if db == .value(1) || da == db { return da }
            if case .value = da { return da }
            if case .value = db { return db }
            return .unknown
        }
    }

    static func add(_ a: SymbolicDim, _ b: SymbolicDim) -> SymbolicDim {
        switch (a, b) {
        case (.value(let x), .value(let y)): return checkedSum(x, y).map { .value($0) } ?? .unknown
        case (.value(0), _): return b
        case (_, .value(0)): return a
        default: return .unknown
        }
    }

    static func product<C: Collection>(_ dims: C) -> SymbolicDim where C.Element == SymbolicDim {
        var total = 1
        var symbolic: SymbolicDim? = nil
        for d in dims {
            switch d {
            case .value(let n):
                guard let t = checkedProduct(total, n) else { return .unknown }
                total = t
            default:
                if symbolic != nil { return .unknown }
                symbolic = d
            }
        }
        return symbolic.map { $0.scaled(by: total) } ?? .value(total)
    }
}
