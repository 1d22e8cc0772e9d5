import ONNX

// The rewrite `constant-nodes` (Rewrites.swift lists them all): Constant nodes become initializers, so that the
// rewrites after it see their values. paddle2onnx (the PP-OCR family) writes every weight, BatchNormalization
// parameter and scalar as a Constant node and no initializers at all; bn-fold, conv-scale, hard-swish and
// conv-activation all look for initializers, and none applied to those models. A Constant whose output is a
// graph output, or whose value this runtime cannot read, stays a node.

extension GraphRewrites {
    static func constantNodesToInitializers(_ model: inout Model) -> Int {
        let opset = model.opset(for: "") ?? 1
        let outputs = Set(model.graph.outputs.map(\.name))
        var count = 0
        model.graph.nodes.removeAll { node in
            guard node.opType == "Constant", node.domain.isEmpty, node.outputs.count == 1,
                  !node.outputs[0].isEmpty, !outputs.contains(node.outputs[0]),
                  model.graph.initializers[node.outputs[0]] == nil,
                  let value = try? ConstantOperator(OperatorContext(node: node, opset: opset, constants: [])).value
            else { return false }
            model.graph.initializers[node.outputs[0]] = value
            count += 1
            return true
        }
        return count
    }
}
