import Foundation
import ONNX
import Tensor

// The rewrites that fold what follows a Conv into it (Rewrites.swift lists them all):
//
//   bn-fold          BatchNormalization in inference form (training_mode 0, spatial 1) whose input is a Conv
//                    output nothing else reads, all its parameters constant: the Conv's weights and bias absorb
//                    scale / sqrt(var + epsilon) and the shift (onnxruntime's Conv-BatchNormalization fusion).
//   conv-softmax-projection
//                    a 2-D Conv (stride 1, dilation 1, group 1, explicit pads, constant weights) whose output only
//                    an `ai.mangacolor.SoftmaxProjection` reads: one `ai.mangacolor.ConvSoftmaxProjection`, which
//                    computes the logits a band of rows at a time, so they never exist whole (the a*b*-class head
//                    of this package's generators: 70 logits a pixel, 127 MB for a half-scale page).
//   conv-activation  Conv whose output only an activation reads — Relu, LeakyRelu, Clip with constant bounds,
//                    Sigmoid, Tanh, HardSigmoid, HardSwish, the silu rewrite's Silu: one `ai.mangacolor.FusedConv` that applies the
//                    activation to each block of the output as it is computed (Operators/Fused.swift).

extension GraphRewrites {
    // MARK: bn-fold

    static func foldBatchNormalizations(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: false) { graph, uses in
            let (readers, producer) = (uses.readers, uses.producer)
            for (k, bn) in graph.nodes.enumerated() where bn.opType == "BatchNormalization" && bn.domain.isEmpty
                && bn.inputs.count == 5 && bn.outputs.count >= 1 && bn.outputs.dropFirst().allSatisfy({ $0.isEmpty }) {
                guard (try? bn.int("training_mode", default: 0)) == 0, (try? bn.int("spatial", default: 1)) == 1,
                      let epsilon = try? bn.float("epsilon", default: 1e-5),
                      let c = producer[bn.inputs[0]], graph.nodes[c].opType == "Conv", graph.nodes[c].domain.isEmpty,
                      graph.nodes[c].outputs.count == 1, readers[bn.inputs[0]] == 1,
                      let w = constant(graph.nodes[c].inputs.count > 1 ? graph.nodes[c].inputs[1] : "", graph), w.rank >= 3,
                      let parameters = batchNormParameters(bn, channels: w.shape[0], graph) else { continue }
                let conv = graph.nodes[c]
                let biasName = conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? conv.inputs[2] : nil
                var bias = [Float](repeating: 0, count: w.shape[0])
                if let biasName {
                    guard let b = constant(biasName, graph), b.count == w.shape[0] else { continue }
                    bias = Array(UnsafeBufferPointer(start: b.pointer(as: Float.self), count: b.count))
                }
                let (scale, shift, mean, variance) = parameters
                let factors = (0..<w.shape[0]).map { Float(Double(scale[$0]) / (Double(variance[$0]) + Double(epsilon)).squareRoot()) }
                guard factors.allSatisfy(\.isFinite) else { continue }
                let per = w.count / factors.count
                let source = w.pointer(as: Float.self)
                let scaledW = Tensor(shape: w.shape, floats: (0..<w.count).map { source[$0] * factors[$0 / per] })
                let foldedBias = (0..<factors.count).map { (bias[$0] - mean[$0]) * factors[$0] + shift[$0] }
                graph.nodes[c].inputs[1] = replace(conv.inputs[1], with: scaledW, &graph, readers: readers, tag: bn.name)
                let biasTensor = Tensor(shape: [factors.count], floats: foldedBias)
                if let biasName {
                    graph.nodes[c].inputs[2] = replace(biasName, with: biasTensor, &graph, readers: readers, tag: bn.name)
                } else {
                    var fresh = "\(bn.name.isEmpty ? bn.outputs[0] : bn.name).folded_bias", n = 1
                    while graph.initializers[fresh] != nil || readers[fresh] != nil { fresh += "\(n)"; n += 1 }
                    graph.addInitializer(fresh, biasTensor)
                    if graph.nodes[c].inputs.count > 2 { graph.nodes[c].inputs[2] = fresh } else { graph.nodes[c].inputs.append(fresh) }
                }
                graph.nodes[c].outputs[0] = bn.outputs[0]
                graph.nodes.remove(at: k)
                return true
            }
            return false
        }
    }

    /// scale, B, mean and var of a BatchNormalization node, constant float32 with `channels` values each.
    private static func batchNormParameters(_ bn: Node, channels: Int, _ graph: Graph) -> ([Float], [Float], [Float], [Float])? {
        var values: [[Float]] = []
        for name in bn.inputs[1...4] {
            guard let t = constant(name, graph), t.count == channels else { return nil }
            values.append(Array(UnsafeBufferPointer(start: t.pointer(as: Float.self), count: t.count)))
        }
        return (values[0], values[1], values[2], values[3])
    }

    // MARK: conv-softmax-projection

    static func fuseConvSoftmaxProjections(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            let (readers, producer) = (uses.readers, uses.producer)
            for (k, projection) in graph.nodes.enumerated()
            where projection.opType == "SoftmaxProjection" && projection.domain == domain && !projection.inputs.isEmpty {
                guard let c = producer[projection.inputs[0]], readers[projection.inputs[0]] == 1 else { continue }
                let conv = graph.nodes[c]
                guard let w = unitStrideConvWeights(conv, graph), w.rank == 4, autoPad(conv) == "NOTSET" else { continue }
                let convBias = conv.inputs.count > 2 ? conv.inputs[2] : ""
                let projectionBias = projection.inputs.count > 2 ? projection.inputs[2] : ""
                let node = Node(name: "\(conv.name)+\(projection.name)", opType: "ConvSoftmaxProjection", domain: domain,
                                inputs: [conv.inputs[0], conv.inputs[1], convBias, projection.inputs[1], projectionBias],
                                outputs: projection.outputs, attributes: conv.attributes)
                graph.nodes[k] = node
                graph.nodes.remove(at: c)
                return true
            }
            return false
        }
    }

    // MARK: conv-activation

    static func fuseConvActivations(_ model: inout Model) -> Int {
        let opset = model.opset(for: "") ?? 1
        var graph = model.graph
        let readers = readers(graph)
        var consumer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for name in node.inputs where !name.isEmpty { consumer[name] = i } }
        var removed = Set<Int>()
        for (k, conv) in graph.nodes.enumerated() where conv.opType == "Conv" && conv.domain.isEmpty && conv.outputs.count == 1 {
            guard readers[conv.outputs[0]] == 1, let a = consumer[conv.outputs[0]], !removed.contains(a) else { continue }
            let activation = graph.nodes[a]
            guard activation.domain.isEmpty || (activation.domain == domain && ["Silu", "HardSwish"].contains(activation.opType)),
                  activation.outputs.count == 1, activation.inputs.first == conv.outputs[0],
                  let parameters = activationAttributes(activation, opset: opset, graph) else { continue }
            var attributes = conv.attributes
            for (name, value) in parameters { attributes[name] = value }
            graph.nodes[k] = Node(name: "\(conv.name)+\(activation.name)", opType: "FusedConv", domain: domain,
                                  inputs: conv.inputs, outputs: activation.outputs, attributes: attributes)
            removed.insert(a)
        }
        graph.nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        model.graph = graph
        if !removed.isEmpty { model.opsets[domain] = 1 }
        return removed.count
    }

    /// FusedConv's `activation` and parameter attributes for an activation node, or nil when it is not one
    /// FusedConv runs (or its Clip bounds are not constants).
    private static func activationAttributes(_ node: Node, opset: Int, _ graph: Graph) -> [String: Attribute]? {
        switch node.opType {
        case "Relu", "Sigmoid", "Tanh", "HardSwish", "Silu":
            return node.inputs.count == 1 ? ["activation": .string(node.opType)] : nil
        case "LeakyRelu":
            guard node.inputs.count == 1, let alpha = try? node.float("alpha", default: 0.01) else { return nil }
            return ["activation": .string("LeakyRelu"), "alpha": .float(alpha)]
        case "HardSigmoid":
            guard node.inputs.count == 1, let alpha = try? node.float("alpha", default: 0.2),
                  let beta = try? node.float("beta", default: 0.5) else { return nil }
            return ["activation": .string("HardSigmoid"), "alpha": .float(alpha), "beta": .float(beta)]
        case "Clip":
            guard let (lower, upper) = clipBounds(node, opset: opset, graph) else { return nil }
            return ["activation": .string("Clip"), "min": .float(lower), "max": .float(upper)]
        default:
            return nil
        }
    }
}
