import ONNX
import Tensor

// The rewrite that cancels layout shuffles exporters leave in pairs (Rewrites.swift lists them all):
//
//   layout-pairs   Transpose read only by another Transpose: one Transpose with the composed permutation, or an
//                  Identity when they cancel (tf2onnx's NHWC <-> NCHW round trips); Reshape read only by another
//                  Reshape whose target is a constant without 0 entries (which would copy the first's sizes): the
//                  second alone, on the first's input (Reshape then Reshape is one Reshape of the same data).

extension GraphRewrites {
    static func cancelLayoutPairs(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: false) { graph, uses in
            let (readers, producer) = (uses.readers, uses.producer)
            for (k, second) in graph.nodes.enumerated() where second.domain.isEmpty && !second.inputs.isEmpty
                && (second.opType == "Transpose" || second.opType == "Reshape") {
                guard let f = producer[second.inputs[0]], readers[second.inputs[0]] == 1 else { continue }
                let first = graph.nodes[f]
                guard first.opType == second.opType, first.domain.isEmpty, first.outputs.count == 1,
                      !graph.outputs.contains(where: { $0.name == first.outputs[0] }) else { continue }
                if second.opType == "Transpose" {
                    guard case .ints(let p)? = first.attributes["perm"], case .ints(let q)? = second.attributes["perm"],
                          p.count == q.count, Set(p) == Set(0..<p.count), Set(q) == Set(0..<q.count) else { continue }
                    // y[i] = t[q[i]] = x[p[q[i]]].
                    let composed = q.map { p[$0] }
                    graph.nodes[k] = composed == Array(0..<composed.count)
                        ? Node(name: "\(first.name)+\(second.name)", opType: "Identity", inputs: [first.inputs[0]], outputs: second.outputs)
                        : Node(name: "\(first.name)+\(second.name)", opType: "Transpose", inputs: [first.inputs[0]],
                               outputs: second.outputs, attributes: ["perm": .ints(composed)])
                } else {
                    guard second.inputs.count >= 2, let shape = graph.initializers[second.inputs[1]],
                          !isRuntimeInput(second.inputs[1], graph), shape.dtype == .int64,
                          !shape.ints().contains(0) else { continue }
                    graph.nodes[k].inputs[0] = first.inputs[0]
                }
                graph.nodes.remove(at: f)
                return true
            }
            return false
        }
    }
}
