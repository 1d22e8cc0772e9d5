import Foundation
import ONNX
import Tensor

// The rewrite `gelu` (Rewrites.swift lists them all): GELU as exporters without a Gelu operator spell it,
//
//   x / √2 (or x · (1/√2)) -> Erf -> + 1 -> · x -> · 0.5      or      (x · 0.5) · (Erf(x / √2) + 1)
//
// every intermediate read by nothing else and the constants scalars, becomes one `ai.mangacolor.Gelu` (x) -> y,
// x · (1 + erf(x / √2)) / 2 in a single pass with the vectorised erf (Operators/Fused.swift). The five
// element-wise passes and their four intermediate tensors go.

extension GraphRewrites {
    static func fuseGelus(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            for (e, erf) in graph.nodes.enumerated() where erf.opType == "Erf" && erf.domain.isEmpty && erf.inputs.count == 1 {
                guard let match = geluAround(erf: e, graph, uses) else { continue }
                let removed = Set(match.nodes)
                var nodes = graph.nodes.enumerated().filter { !removed.contains($0.offset) || $0.offset == match.nodes[0] }
                    .map(\.element)
                let at = nodes.firstIndex { $0.outputs == graph.nodes[match.nodes[0]].outputs }!
                nodes[at] = Node(name: "\(erf.name)+gelu", opType: "Gelu", domain: domain, inputs: [match.x],
                                 outputs: [match.output], attributes: [:])
                graph.nodes = nodes
                return true
            }
            return false
        }
    }

    /// The GELU pattern around Erf node `e`: its input x, its output, and its nodes (the scaling of x first).
    private static func geluAround(erf e: Int, _ graph: Graph, _ uses: Uses) -> (x: String, output: String, nodes: [Int])? {
        let nodes = graph.nodes
        func single(_ value: String) -> Node? {
            guard uses.readers[value] == 1, let i = uses.consumer[value] else { return nil }
            return nodes[i]
        }
        func index(_ node: Node) -> Int { uses.producer[node.outputs[0]]! }
        func scalar(_ name: String) -> Float? {
            guard let t = constant(name, graph), t.count == 1 else { return nil }
            return t.floats[0]
        }
        /// For a binary node reading `value`, the other input.
        func other(_ node: Node, than value: String) -> String? {
            guard node.domain.isEmpty, node.inputs.count == 2, node.outputs.count == 1 else { return nil }
            return node.inputs[0] == value ? node.inputs[1] : (node.inputs[1] == value ? node.inputs[0] : nil)
        }
        let erf = nodes[e]
        guard erf.outputs.count == 1, let s = uses.producer[erf.inputs[0]], uses.readers[erf.inputs[0]] == 1 else { return nil }
        // x / √2 or x · (1/√2).
        let scale = nodes[s]
        guard scale.domain.isEmpty, scale.inputs.count == 2, scale.outputs.count == 1 else { return nil }
        let x: String
        if scale.opType == "Div", let c = scalar(scale.inputs[1]), abs(c - Float(2).squareRoot()) < 1e-3 {
            x = scale.inputs[0]
        } else if scale.opType == "Mul", let c = scalar(scale.inputs[1]), abs(c - Float(0.5).squareRoot()) < 1e-3 {
            x = scale.inputs[0]
        } else if scale.opType == "Mul", let c = scalar(scale.inputs[0]), abs(c - Float(0.5).squareRoot()) < 1e-3 {
            x = scale.inputs[1]
        } else {
            return nil
        }
        // + 1.
        guard let add = single(erf.outputs[0]), add.opType == "Add", let one = other(add, than: erf.outputs[0]),
              scalar(one) == 1, let product = single(add.outputs[0]), product.opType == "Mul",
              let factor = other(product, than: add.outputs[0]) else { return nil }
        if factor == x {
            // · x, then · 0.5.
            guard let half = single(product.outputs[0]), half.opType == "Mul",
                  let c = other(half, than: product.outputs[0]), scalar(c) == 0.5 else { return nil }
            return (x, half.outputs[0], [s, e, index(add), index(product), index(half)])
        }
        // (x · 0.5) · (...): the halving node reads x and is read only by the product.
        guard let h = uses.producer[factor], uses.readers[factor] == 1, nodes[h].opType == "Mul",
              let c = other(nodes[h], than: x), scalar(c) == 0.5 else { return nil }
        return (x, product.outputs[0], [s, e, index(add), index(product), h])
    }
}
