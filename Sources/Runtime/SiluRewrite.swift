import ONNX

// The rewrite `silu` (Rewrites.swift lists them all): SiLU as exporters without a Swish operator spell it,
// Mul(x, Sigmoid(x)) (either order), the Sigmoid's output read by nothing else, becomes one
// `ai.mangacolor.Silu` (x) -> y (Operators/Fused.swift): one pass instead of two and no intermediate. YOLO-family
// detectors put it after nearly every Conv; conv-activation, which runs after it, then folds it into the Conv.

extension GraphRewrites {
    static func fuseSilus(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            for (s, sigmoid) in graph.nodes.enumerated() where sigmoid.opType == "Sigmoid" && sigmoid.domain.isEmpty
                && sigmoid.inputs.count == 1 && sigmoid.outputs.count == 1 {
                let x = sigmoid.inputs[0], gate = sigmoid.outputs[0]
                guard uses.readers[gate] == 1, let m = uses.consumer[gate] else { continue }
                let mul = graph.nodes[m]
                guard mul.opType == "Mul", mul.domain.isEmpty, mul.outputs.count == 1,
                      mul.inputs == [x, gate] || mul.inputs == [gate, x] else { continue }
                graph.nodes[m] = Node(name: "\(sigmoid.name)+\(mul.name)", opType: "Silu", domain: domain,
                                      inputs: [x], outputs: mul.outputs)
                graph.nodes.remove(at: s)
                return true
            }
            return false
        }
    }
}
