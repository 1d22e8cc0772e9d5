import ONNX

// The rewrite `mean-variance` (Rewrites.swift lists them all): normalisation over some axes as exporters spell
// LayerNorm and InstanceNorm without those operators,
//   m = ReduceMean(x, A), d = x - m, v = ReduceMean(d², A), y = d / Sqrt(v + eps)
// (d² as Pow(d, 2) or Mul(d, d); A as the axes attribute or, from opset 18, a constant input; keepdims 1), each
// intermediate read by nothing else, becomes one `ai.mangacolor.MeanVarianceNormalization` (x) -> y with
// `axes` and `epsilon` (Operators/Fused.swift): two passes over each row instead of seven operators and six
// intermediates. A LayerNorm's scale and shift after it stay their own Mul and Add.

extension GraphRewrites {
    static func fuseMeanVarianceNormalizations(_ model: inout Model) -> Int {
        let opset = model.opset(for: "") ?? 1
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            for (s, sub) in graph.nodes.enumerated() where sub.opType == "Sub" && sub.domain.isEmpty
                && sub.inputs.count == 2 && sub.outputs.count == 1 {
                let x = sub.inputs[0], d = sub.outputs[0]
                guard let m = uses.producer[sub.inputs[1]], uses.readers[sub.inputs[1]] == 1 else { continue }
                let mean = graph.nodes[m]
                guard mean.opType == "ReduceMean", mean.domain.isEmpty, mean.inputs.first == x,
                      let axes = reduceMeanAxes(mean, opset: opset, graph) else { continue }
                // d is read by the square (once by Pow, twice by Mul) and by the Div.
                let readersOfD = graph.nodes.enumerated().filter { $0.element.inputs.contains(d) }.map(\.offset)
                guard readersOfD.count == 2 else { continue }
                let squareIndex = readersOfD.first { i in
                    let n = graph.nodes[i]
                    return (n.opType == "Pow" && n.inputs.count == 2 && n.inputs[0] == d && scalar(n.inputs[1], graph) == 2)
                        || (n.opType == "Mul" && n.inputs == [d, d])
                }
                guard let q = squareIndex, let divIndex = readersOfD.first(where: { $0 != q }) else { continue }
                let square = graph.nodes[q], div = graph.nodes[divIndex]
                guard square.domain.isEmpty, square.outputs.count == 1, uses.readers[d] == (square.opType == "Mul" ? 3 : 2),
                      div.opType == "Div", div.domain.isEmpty, div.inputs.count == 2, div.inputs[0] == d, div.outputs.count == 1,
                      uses.readers[square.outputs[0]] == 1, let vi = uses.consumer[square.outputs[0]] else { continue }
                let variance = graph.nodes[vi]
                guard variance.opType == "ReduceMean", variance.domain.isEmpty, variance.inputs.first == square.outputs[0],
                      reduceMeanAxes(variance, opset: opset, graph) == axes, variance.outputs.count == 1,
                      uses.readers[variance.outputs[0]] == 1, let ai = uses.consumer[variance.outputs[0]] else { continue }
                let add = graph.nodes[ai]
                guard add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2, add.outputs.count == 1 else { continue }
                let epsName = add.inputs[0] == variance.outputs[0] ? add.inputs[1] : add.inputs[0]
                guard let epsilon = scalar(epsName, graph), epsilon >= 0,
                      uses.readers[add.outputs[0]] == 1, let ri = uses.consumer[add.outputs[0]] else { continue }
                let sqrt = graph.nodes[ri]
                guard sqrt.opType == "Sqrt", sqrt.domain.isEmpty, sqrt.inputs == add.outputs, sqrt.outputs.count == 1,
                      uses.readers[sqrt.outputs[0]] == 1, div.inputs[1] == sqrt.outputs[0] else { continue }
                graph.nodes[divIndex] = Node(name: "\(mean.name)+\(sub.name)+\(div.name)", opType: "MeanVarianceNormalization",
                                             domain: domain, inputs: [x], outputs: div.outputs,
                                             attributes: ["axes": .ints(axes), "epsilon": .float(epsilon)])
                for index in [m, s, q, vi, ai, ri].sorted(by: >) { graph.nodes.remove(at: index) }
                return true
            }
            return false
        }
    }

    /// A keepdims ReduceMean's axes, when they are given (attribute, or a constant second input from opset 18).
    private static func reduceMeanAxes(_ node: Node, opset: Int, _ graph: Graph) -> [Int]? {
        guard (try? node.int("keepdims", default: 1)) == 1, node.outputs.count == 1 else { return nil }
        if opset >= 18 {
            guard node.inputs.count == 2, let t = graph.initializers[node.inputs[1]], t.dtype == .int64, t.count > 0 else { return nil }
            return t.ints()
        }
        guard node.inputs.count == 1, case .ints(let axes)? = node.attributes["axes"], !axes.isEmpty else { return nil }
        return axes
    }
}
