import Foundation
import ONNX
import Tensor

/// Graph rewrites the plan applies before building its operators (as onnxruntime's graph optimisations): each
/// replaces a pattern by an equivalent cheaper one, and each can be switched off for debugging — by name in
/// `Plan(model:disabledRewrites:)`, or for every command with `MANGACOLOR_DISABLE_REWRITES=conv-scale,...`
/// (`all` switches every one off). A rewrite changes results only by float rounding (tests: ≤ 1e-5 against the
/// unrewritten graph).
///
///   constant-nodes       Constant nodes as initializers, so the rewrites below see their values (paddle2onnx
///                        writes every weight as one; ConstantNodesRewrite.swift)
///   conv-scale           Conv followed by Mul or Div by a constant scalar or per-output-channel [1, C, 1, ...]
///                        tensor, the Conv's output read by nothing else: the scale is folded into the Conv's
///                        weights and bias (onnxruntime's Conv-Mul fusion). In this package's class generators
///                        it is the annealed-mean temperature.
///   softmax-projection   Softmax over axis 1 (opset 13+) read only by a 1x1 Conv with constant weights (no
///                        padding, stride, dilation or groups): one `ai.mangacolor.SoftmaxProjection`, which never
///                        writes the probabilities out (Operators/Fused.swift).
///   layout-pairs         Transpose + Transpose composed (or cancelled), Reshape + Reshape as one Reshape
///                        (LayoutRewrites.swift)
///   conv-softmax-projection
///                        the Conv before a SoftmaxProjection, in the same node: logits computed in bands of rows
///                        (ConvFusionRewrites.swift)
///   norm-activation      InstanceNormalization read only by a LeakyRelu or Relu: one
///                        `ai.mangacolor.InstanceNormalizationLeakyRelu`, the activation applied as each plane is
///                        normalized (one pass over the tensor instead of two).
///   bn-fold              BatchNormalization (inference) after a Conv, folded into its weights and bias
///   gelu                 x · (1 + Erf(x / √2)) / 2 spelled in primitives: one `ai.mangacolor.Gelu`
///                        (GeluRewrite.swift)
///   silu                 x · Sigmoid(x) in primitives: one `ai.mangacolor.Silu` (SiluRewrite.swift)
///   hard-swish           x · Clip(x + 3, 0, 6) / 6 in primitives: one `ai.mangacolor.HardSwish` (HardSwishRewrite.swift)
///   matmul-add           MatMul by a constant [K, N] matrix + Add of a constant [N] bias: one `ai.mangacolor.MatMulAdd`
///                        (MatMulAddRewrite.swift)
///   mean-variance        (x - mean) / sqrt(var + eps) over some axes in primitives (LayerNorm and InstanceNorm as
///                        exporters spell them): one `ai.mangacolor.MeanVarianceNormalization` (NormalizationRewrite.swift)
///   conv-activation      Conv + Relu / LeakyRelu / Clip / Sigmoid / Tanh / HardSigmoid / HardSwish / Silu
///                        (the last two also as the rewrites above make them): one
///                        `ai.mangacolor.FusedConv` (both: ConvFusionRewrites.swift; conv-activation runs last, so
///                        a Conv already folded with a scale or a BatchNormalization fuses too)
///
/// API: GraphRewrites.all, GraphRewrites.names, GraphRewrites.apply(to:disabled:) -> (Model, applied counts),
///      GraphRewrites.disabledByEnvironment
public enum GraphRewrites {
    /// The domain of the operators rewrites create.
    public static let domain = "ai.mangacolor"

    public static let names = ["constant-nodes", "layout-pairs", "conv-scale", "bn-fold", "softmax-projection",
                               "conv-softmax-projection", "norm-activation", "gelu", "silu", "hard-swish", "mean-variance",
                               "matmul-add", "conv-activation"]

    /// Names switched off by `MANGACOLOR_DISABLE_REWRITES` (comma-separated; `all` for every one).
    public static var disabledByEnvironment: Set<String> {
        disabled(byValue: ProcessInfo.processInfo.environment["MANGACOLOR_DISABLE_REWRITES"])
    }

    /// The names a `MANGACOLOR_DISABLE_REWRITES` value switches off.
    static func disabled(byValue raw: String?) -> Set<String> {
        guard let raw else { return [] }
        let listed = Set(raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        return listed.contains("all") ? Set(names) : listed
    }

    /// `model` with every rewrite not in `disabled` applied, and how often each applied.
    public static func apply(to model: Model, disabled: Set<String>) -> (model: Model, applied: [String: Int]) {
        var model = model
        var applied: [String: Int] = [:]
        if !disabled.contains("constant-nodes") { applied["constant-nodes"] = constantNodesToInitializers(&model) }
        if !disabled.contains("layout-pairs") { applied["layout-pairs"] = cancelLayoutPairs(&model) }
        if !disabled.contains("conv-scale") { applied["conv-scale"] = foldConvScales(&model) }
        if !disabled.contains("bn-fold") { applied["bn-fold"] = foldBatchNormalizations(&model) }
        if !disabled.contains("softmax-projection") { applied["softmax-projection"] = fuseSoftmaxProjections(&model) }
        if !disabled.contains("conv-softmax-projection") {
            applied["conv-softmax-projection"] = fuseConvSoftmaxProjections(&model)
        }
        if !disabled.contains("norm-activation") { applied["norm-activation"] = fuseNormActivations(&model) }
        if !disabled.contains("gelu") { applied["gelu"] = fuseGelus(&model) }
        if !disabled.contains("silu") { applied["silu"] = fuseSilus(&model) }
        if !disabled.contains("hard-swish") { applied["hard-swish"] = fuseHardSwishes(&model) }
        if !disabled.contains("mean-variance") { applied["mean-variance"] = fuseMeanVarianceNormalizations(&model) }
        if !disabled.contains("matmul-add") { applied["matmul-add"] = fuseMatMulAdds(&model) }
        if !disabled.contains("conv-activation") { applied["conv-activation"] = fuseConvActivations(&model) }
        return (model, applied.filter { $0.value > 0 })
    }

    // MARK: The graph's uses of values

    /// How many node inputs read each value, and which values are graph outputs.
    static func readers(_ graph: Graph) -> [String: Int] {
        var count: [String: Int] = [:]
        for node in graph.nodes { for name in node.inputs where !name.isEmpty { count[name, default: 0] += 1 } }
        for output in graph.outputs { count[output.name, default: 0] += 1 }
        return count
    }

    /// Where each value comes from and goes: the graph's readers count, the node producing each value, and
    /// a node reading it (the last, in graph order).
    struct Uses {
        let readers: [String: Int]
        let producer: [String: Int]
        let consumer: [String: Int]

        init(_ graph: Graph) {
            readers = GraphRewrites.readers(graph)
            var producer: [String: Int] = [:], consumer: [String: Int] = [:]
            for (i, node) in graph.nodes.enumerated() {
                for o in node.outputs where !o.isEmpty { producer[o] = i }
                for name in node.inputs where !name.isEmpty { consumer[name] = i }
            }
            (self.producer, self.consumer) = (producer, consumer)
        }
    }

    /// Runs `rewriteOnce` on the graph until it reports no change, with the uses recomputed before each call;
    /// returns how many times it changed the graph. (A rewrite that removes or renumbers nodes does one match
    /// per call.)
    static func untilUnchanged(_ model: inout Model, addsFusedOperators: Bool,
                               _ rewriteOnce: (inout Graph, Uses) -> Bool) -> Int {
        var count = 0
        while rewriteOnce(&model.graph, Uses(model.graph)) { count += 1 }
        // Operators of this package's domain need the model to import it.
        if addsFusedOperators && count > 0 { model.opsets[domain] = 1 }
        return count
    }

    static func isRuntimeInput(_ name: String, _ graph: Graph) -> Bool {
        graph.inputs.contains { $0.name == name } && graph.initializers[name] == nil
    }

    /// A constant float32 initializer (not a graph input a caller may override).
    static func constant(_ name: String, _ graph: Graph) -> Tensor? {
        guard !name.isEmpty, !isRuntimeInput(name, graph), let t = graph.initializers[name], t.dtype == .float32 else { return nil }
        return t
    }

    // MARK: conv-scale

    private static func foldConvScales(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: false) { graph, uses in
            let (readers, producer) = (uses.readers, uses.producer)
            for (k, scale) in graph.nodes.enumerated() where (scale.opType == "Mul" || scale.opType == "Div")
                && scale.domain.isEmpty && scale.inputs.count == 2 && scale.outputs.count == 1 {
                // Mul: either side may be the Conv; Div: only x / s.
                let sides = scale.opType == "Mul" ? [0, 1] : [0]
                for side in sides {
                    let convOutput = scale.inputs[side], scaleName = scale.inputs[1 - side]
                    guard let c = producer[convOutput], graph.nodes[c].opType == "Conv", graph.nodes[c].domain.isEmpty,
                          graph.nodes[c].outputs.count == 1, readers[convOutput] == 1,
                          let s = constant(scaleName, graph), let factors = channelFactors(s, graph.nodes[c], graph),
                          scale.opType == "Mul" || factors.allSatisfy({ $0 != 0 && $0.isFinite }) else { continue }
                    let perChannel = scale.opType == "Mul" ? factors : factors.map { 1 / $0 }
                    guard rescale(conv: c, by: perChannel, &graph, readers: readers, tag: scale.name) else { continue }
                    graph.nodes[c].outputs[0] = scale.outputs[0]
                    graph.nodes.remove(at: k)
                    return true
                }
            }
            return false
        }
    }

    /// The scale as one factor per output channel of `conv`, if it broadcasts that way: one value, or shape
    /// [C, 1, ...] / [1, C, 1, ...] against the Conv's [N, C, spatial...] output.
    private static func channelFactors(_ s: Tensor, _ conv: Node, _ graph: Graph) -> [Float]? {
        guard let w = constant(conv.inputs.count > 1 ? conv.inputs[1] : "", graph), w.rank >= 3 else { return nil }
        let channels = w.shape[0], rank = w.rank
        let values = Array(UnsafeBufferPointer(start: s.pointer(as: Float.self), count: s.count))
        if s.count == 1 && s.rank <= rank { return Array(repeating: values[0], count: channels) }
        guard s.rank <= rank, s.rank >= rank - 1, s.count == channels else { return nil }
        let padded = Array(repeating: 1, count: rank - s.rank) + s.shape
        guard padded[0] == 1, padded[1] == channels, padded.dropFirst(2).allSatisfy({ $0 == 1 }) else { return nil }
        return values
    }

    /// Multiplies the Conv's weights (output channel o by factors[o]) and bias; a weight or bias another node
    /// also reads is copied under a new name.
    private static func rescale(conv c: Int, by factors: [Float], _ graph: inout Graph, readers: [String: Int], tag: String) -> Bool {
        let node = graph.nodes[c]
        guard let w = constant(node.inputs[1], graph) else { return false }
        let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil
        if let bias { guard let b = constant(bias, graph), b.count == factors.count else { return false } }
        let per = w.count / factors.count
        let scaledW = Tensor(shape: w.shape, floats: (0..<w.count).map { w.floats[$0] * factors[$0 / per] })
        graph.nodes[c].inputs[1] = replace(node.inputs[1], with: scaledW, &graph, readers: readers, tag: tag)
        if let bias, let b = constant(bias, graph) {
            let scaledB = Tensor(shape: b.shape, floats: (0..<b.count).map { b.floats[$0] * factors[$0] })
            graph.nodes[c].inputs[2] = replace(bias, with: scaledB, &graph, readers: readers, tag: tag)
        }
        return true
    }

    /// Stores `tensor` in place of initializer `name` when only one node reads it, else under a new name.
    static func replace(_ name: String, with tensor: Tensor, _ graph: inout Graph, readers: [String: Int], tag: String) -> String {
        if readers[name] == 1 {
            graph.initializers[name] = tensor
            return name
        }
        var fresh = "\(name).\(tag).scaled", k = 1
        while graph.initializers[fresh] != nil { fresh = "\(name).\(tag).scaled\(k)"; k += 1 }
        graph.addInitializer(fresh, tensor)
        return fresh
    }

    // MARK: softmax-projection

    private static func fuseSoftmaxProjections(_ model: inout Model) -> Int {
        guard let opset = model.opset(for: ""), opset >= 13 else { return 0 }
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            let (readers, consumer) = (uses.readers, uses.consumer)
            for (k, softmax) in graph.nodes.enumerated() where softmax.opType == "Softmax" && softmax.domain.isEmpty
                && softmax.inputs.count == 1 && softmax.outputs.count == 1 {
                guard (try? softmax.int("axis", default: -1)) == 1, readers[softmax.outputs[0]] == 1,
                      let c = consumer[softmax.outputs[0]], isPlainProjection(graph.nodes[c], graph),
                      graph.nodes[c].inputs[0] == softmax.outputs[0] else { continue }
                let conv = graph.nodes[c]
                let inputs = [softmax.inputs[0], conv.inputs[1]] + (conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? [conv.inputs[2]] : [])
                let node = Node(name: "\(softmax.name)+\(conv.name)", opType: "SoftmaxProjection", domain: domain,
                                inputs: inputs, outputs: conv.outputs, attributes: [:])
                graph.nodes[c] = node
                graph.nodes.remove(at: k)
                return true
            }
            return false
        }
    }

    // MARK: norm-activation

    private static func fuseNormActivations(_ model: inout Model) -> Int {
        var graph = model.graph
        let readers = readers(graph)
        var consumer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for name in node.inputs where !name.isEmpty { consumer[name] = i } }
        var removed = Set<Int>()
        for (k, norm) in graph.nodes.enumerated() where norm.opType == "InstanceNormalization" && norm.domain.isEmpty
            && norm.inputs.count == 3 && norm.outputs.count == 1 {
            guard readers[norm.outputs[0]] == 1, let a = consumer[norm.outputs[0]] else { continue }
            let activation = graph.nodes[a]
            guard activation.domain.isEmpty, activation.inputs == [norm.outputs[0]], activation.outputs.count == 1,
                  let slope: Float = activation.opType == "Relu" ? 0
                      : activation.opType == "LeakyRelu" ? (try? activation.float("alpha", default: 0.01)) : nil else { continue }
            var attributes: [String: Attribute] = ["alpha": .float(slope)]
            if let epsilon = norm.attributes["epsilon"] { attributes["epsilon"] = epsilon }
            graph.nodes[k] = Node(name: "\(norm.name)+\(activation.name)", opType: "InstanceNormalizationLeakyRelu",
                                  domain: domain, inputs: norm.inputs, outputs: activation.outputs, attributes: attributes)
            removed.insert(a)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        model.graph = graph
        if !removed.isEmpty { model.opsets[domain] = 1 }
        return removed.count
    }

    /// A Conv that is a plain per-pixel projection: constant [m, n, 1, ...] weights, constant or no bias, no
    /// padding, unit strides and dilations, one group.
    private static func isPlainProjection(_ conv: Node, _ graph: Graph) -> Bool {
        guard let w = unitStrideConvWeights(conv, graph), w.rank >= 3, w.shape.dropFirst(2).allSatisfy({ $0 == 1 }) else { return false }
        let zeros = ((try? conv.ints("pads")) ?? nil).map { $0.allSatisfy { $0 == 0 } } ?? true
        return zeros && (autoPad(conv) == "NOTSET" || autoPad(conv) == "VALID")
    }

    /// The constant float32 weights of a Conv with a constant bias or none, unit strides and dilations and one
    /// group (the convolutions the fusing rewrites may take apart), or nil.
    static func unitStrideConvWeights(_ conv: Node, _ graph: Graph) -> Tensor? {
        guard conv.opType == "Conv", conv.domain.isEmpty, conv.outputs.count == 1, conv.inputs.count >= 2,
              let w = constant(conv.inputs[1], graph) else { return nil }
        if conv.inputs.count > 2 && !conv.inputs[2].isEmpty && constant(conv.inputs[2], graph) == nil { return nil }
        let ones = { (name: String) -> Bool in ((try? conv.ints(name)) ?? nil).map { $0.allSatisfy { $0 == 1 } } ?? true }
        guard ones("strides"), ones("dilations"), ((try? conv.int("group", default: 1)) ?? 0) == 1 else { return nil }
        return w
    }

    /// A Conv's `auto_pad` (NOTSET when absent or unreadable).
    static func autoPad(_ conv: Node) -> String { ((try? conv.string("auto_pad")) ?? nil) ?? "NOTSET" }
}
