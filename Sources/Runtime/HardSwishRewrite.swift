import ONNX
import Tensor

// The rewrite `hard-swish` (Rewrites.swift lists them all): HardSwish as exporters before opset 14 spell it,
// x · Clip(x + 3, 0, 6) / 6 (Add, Clip, Mul, then Div by 6 or Mul by 1/6; either operand order of the Add and the
// first Mul), each intermediate read by nothing else, becomes one `ai.mangacolor.HardSwish` (x) -> y
// (Operators/Fused.swift; the ONNX HardSwish exists only from opset 14). MobileNetV3 and PP-LCNet put it after
// most Convs, and conv-activation, which runs after it, folds it into the Conv. x · Clip(x+3, 0, 6) / 6 and
// x · max(0, min(1, x/6 + 1/2)) differ by float rounding only.

extension GraphRewrites {
    static func fuseHardSwishes(_ model: inout Model) -> Int {
        let opset = model.opset(for: "") ?? 1
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            for (c, clip) in graph.nodes.enumerated() where clip.opType == "Clip" && clip.domain.isEmpty
                && clip.outputs.count == 1 && !clip.inputs.isEmpty {
                guard let bounds = clipBounds(clip, opset: opset, graph), bounds == (0, 6),
                      let a = uses.producer[clip.inputs[0]], uses.readers[clip.inputs[0]] == 1 else { continue }
                let add = graph.nodes[a]
                guard add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2, add.outputs.count == 1 else { continue }
                // x + 3, either order.
                let x: String
                if scalar(add.inputs[1], graph) == 3 { x = add.inputs[0] } else if scalar(add.inputs[0], graph) == 3 { x = add.inputs[1] } else { continue }
                let gate = clip.outputs[0]
                guard uses.readers[gate] == 1, let m = uses.consumer[gate] else { continue }
                let mul = graph.nodes[m]
                guard mul.opType == "Mul", mul.domain.isEmpty, mul.outputs.count == 1,
                      mul.inputs == [x, gate] || mul.inputs == [gate, x],
                      uses.readers[mul.outputs[0]] == 1, let d = uses.consumer[mul.outputs[0]] else { continue }
                let scale = graph.nodes[d]
                guard scale.domain.isEmpty, scale.outputs.count == 1, scale.inputs.count == 2 else { continue }
                let divides = scale.opType == "Div" && scale.inputs[0] == mul.outputs[0] && scalar(scale.inputs[1], graph) == 6
                let other = scale.inputs[0] == mul.outputs[0] ? scale.inputs[1] : scale.inputs[0]
                let multiplies = scale.opType == "Mul" && abs((scalar(other, graph) ?? 0) - 1.0 / 6) < 1e-7
                guard divides || multiplies else { continue }
                graph.nodes[d] = Node(name: "\(add.name)+\(clip.name)+\(mul.name)+\(scale.name)", opType: "HardSwish",
                                      domain: domain, inputs: [x], outputs: scale.outputs)
                for index in [a, c, m].sorted(by: >) { graph.nodes.remove(at: index) }
                return true
            }
            return false
        }
    }

    /// The value of a one-element float32 initializer.
    static func scalar(_ name: String, _ graph: Graph) -> Float? {
        guard let t = constant(name, graph), t.count == 1 else { return nil }
        return t.scalars(as: Float.self)[0]
    }

    /// A Clip's bounds when they are constants (attributes before opset 11, optional constant inputs after; an
    /// absent bound is the float range's end), or nil. conv-activation reads Clips with it too.
    static func clipBounds(_ clip: Node, opset: Int, _ graph: Graph) -> (Float, Float)? {
        var lower = -Float.greatestFiniteMagnitude, upper = Float.greatestFiniteMagnitude
        if opset < 11 {
            guard clip.inputs.count == 1, let l = try? clip.float("min", default: lower),
                  let u = try? clip.float("max", default: upper) else { return nil }
            return (l, u)
        }
        for (i, name) in clip.inputs.enumerated().dropFirst() where !name.isEmpty {
            guard i <= 2, let t = constant(name, graph), t.count == 1 else { return nil }
            if i == 1 { lower = t.floats[0] } else { upper = t.floats[0] }
        }
        return (lower, upper)
    }
}
