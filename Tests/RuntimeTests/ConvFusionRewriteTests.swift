import Foundation
import ONNX
import Tensor
import Testing
@testable import Runtime

// bn-fold and conv-activation (ConvFusionRewrites.swift), each against the same graph run unrewritten.

private func batchNorm(_ input: String, _ output: String, channels: Int, seed: UInt64, epsilon: Float = 1e-3) -> (Node, [String: Tensor]) {
    // `scalars` copies: `.floats` of a temporary would point into a tensor already freed.
    let variance = Tensor(shape: [channels], floats: randomTensor([channels], seed: seed + 3).scalars(as: Float.self).map { 0.2 + abs($0) })
    return (Node(name: "bn", opType: "BatchNormalization", inputs: [input, "bn.s", "bn.b", "bn.m", "bn.v"], outputs: [output],
                 attributes: ["epsilon": .float(epsilon)]),
            ["bn.s": randomTensor([channels], seed: seed), "bn.b": randomTensor([channels], seed: seed + 1),
             "bn.m": randomTensor([channels], seed: seed + 2), "bn.v": variance])
}

@Test func bnFoldFoldsBatchNormIntoConvWithAndWithoutBias() throws {
    let x = randomTensor([2, 3, 7, 6], seed: 20)
    let (bn, bnInits) = batchNorm("a", "y", channels: 4, seed: 21)
    for withBias in [true, false] {
        let conv = Node(name: "c", opType: "Conv", inputs: withBias ? ["x", "w", "b"] : ["x", "w"], outputs: ["a"],
                        attributes: ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 1])])
        var inits = bnInits
        inits["w"] = randomTensor([4, 3, 3, 3], seed: 25)
        if withBias { inits["b"] = randomTensor([4], seed: 26) }
        let (r, p, applied) = try bothWays(rewriteModel([conv, bn], initializers: inits), x)
        #expect(applied == ["bn-fold": 1], "bias \(withBias)")
        #expect(maxDifference(r, p) < 1e-5, "bias \(withBias)")
    }
}

@Test func bnFoldLeavesTrainingModeAndSharedConvOutputsAlone() throws {
    let x = randomTensor([1, 2, 4, 4], seed: 27)
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"])
    let (bn, bnInits) = batchNorm("a", "n", channels: 3, seed: 28)
    var inits = bnInits
    inits["w"] = randomTensor([3, 2, 1, 1], seed: 29)
    // The Conv's output is also read by the Add: folding would change it for the Add.
    let shared = rewriteModel([conv, bn, Node(name: "add", opType: "Add", inputs: ["n", "a"], outputs: ["y"])], initializers: inits)
    let (r, p, applied) = try bothWays(shared, x)
    #expect(applied.isEmpty && maxDifference(r, p) == 0)
    // A mean that is a graph input (no initializer) may change per run: not folded.
    inits["bn.m"] = nil
    var inputMean = rewriteModel([conv, Node(name: "bn", opType: "BatchNormalization", inputs: ["a", "bn.s", "bn.b", "bn.m", "bn.v"],
                                             outputs: ["y"])], initializers: inits)
    inputMean.graph.inputs.append(ValueInfo(name: "bn.m", dtype: .float32, shape: nil))
    #expect(try GraphRewrites.apply(to: inputMean, disabled: []).applied["bn-fold"] == nil)
}

@Test func convActivationFusesEachActivationItRuns() throws {
    let x = randomTensor([1, 3, 9, 8], seed: 30)
    let inits: [String: Tensor] = ["w": randomTensor([5, 3, 3, 3], seed: 31), "b": randomTensor([5], seed: 32),
                                   "lo": Tensor(shape: [], floats: [-0.25]), "hi": Tensor(shape: [], floats: [0.5])]
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])])
    let activations: [Node] = [
        Node(name: "r", opType: "Relu", inputs: ["a"], outputs: ["y"]),
        Node(name: "l", opType: "LeakyRelu", inputs: ["a"], outputs: ["y"], attributes: ["alpha": .float(0.1)]),
        Node(name: "k", opType: "Clip", inputs: ["a", "lo", "hi"], outputs: ["y"]),
        Node(name: "k", opType: "Clip", inputs: ["a", "", "hi"], outputs: ["y"]),
        Node(name: "s", opType: "Sigmoid", inputs: ["a"], outputs: ["y"]),
        Node(name: "t", opType: "Tanh", inputs: ["a"], outputs: ["y"]),
        Node(name: "h", opType: "HardSigmoid", inputs: ["a"], outputs: ["y"], attributes: ["alpha": .float(0.3)]),
        Node(name: "w", opType: "HardSwish", inputs: ["a"], outputs: ["y"]),
    ]
    for activation in activations {
        let (r, p, applied) = try bothWays(rewriteModel([conv, activation], initializers: inits), x)
        #expect(applied == ["conv-activation": 1], "\(activation.opType)")
        #expect(maxDifference(r, p) < 1e-5, "\(activation.opType)")
    }
    // Clip before opset 11 takes its bounds as attributes.
    let clip10 = Node(name: "k", opType: "Clip", inputs: ["a"], outputs: ["y"], attributes: ["min": .float(0), "max": .float(0.3)])
    let (r, p, applied) = try bothWays(rewriteModel([conv, clip10], initializers: inits, opset: 10), x)
    #expect(applied == ["conv-activation": 1] && maxDifference(r, p) < 1e-6)
}

@Test func convActivationKeepsRuntimeClipBoundsAndOtherActivationsApart() throws {
    let x = randomTensor([1, 2, 5, 5], seed: 33)
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"])
    let inits = ["w": randomTensor([2, 2, 1, 1], seed: 34)]
    // Clip's bound a graph input: not a constant.
    var runtimeBound = rewriteModel([conv, Node(name: "k", opType: "Clip", inputs: ["a", "lo"], outputs: ["y"])], initializers: inits)
    runtimeBound.graph.inputs.append(ValueInfo(name: "lo", dtype: .float32, shape: []))
    #expect(GraphRewrites.apply(to: runtimeBound, disabled: []).applied.isEmpty)
    // Elu is not one FusedConv runs.
    let elu = rewriteModel([conv, Node(name: "e", opType: "Elu", inputs: ["a"], outputs: ["y"])], initializers: inits)
    #expect(try bothWays(elu, x).2.isEmpty)
}

@Test func depthwiseConvBatchNormReluSixBecomesOneFusedConv() throws {
    // MobileNet's block: depthwise Conv, BatchNormalization, Clip(0, 6) — bn-fold, then conv-activation.
    let x = randomTensor([1, 6, 11, 10], seed: 35)
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"],
                    attributes: ["group": .int(6), "pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])
    let (bn, bnInits) = batchNorm("a", "n", channels: 6, seed: 36)
    var inits = bnInits
    inits["w"] = randomTensor([6, 1, 3, 3], seed: 40)
    inits["zero"] = Tensor(shape: [], floats: [0])
    inits["six"] = Tensor(shape: [], floats: [6])
    let m = rewriteModel([conv, bn, Node(name: "k", opType: "Clip", inputs: ["n", "zero", "six"], outputs: ["y"])], initializers: inits)
    let (r, p, applied) = try bothWays(m, Tensor(shape: x.shape, floats: x.floats.map { $0 * 8 }))
    #expect(applied == ["bn-fold": 1, "conv-activation": 1])
    #expect(maxDifference(r, p) < 1e-4)
    let rewritten = GraphRewrites.apply(to: m, disabled: []).model
    #expect(rewritten.graph.nodes.map(\.opType) == ["FusedConv"])
}

@Test func geluRewriteFusesBothPrimitiveSpellings() throws {
    let x = Tensor(shape: [2, 3, 5, 7], floats: randomTensor([2, 3, 5, 7], seed: 41).scalars(as: Float.self).map { $0 * 4 })
    let inits: [String: Tensor] = ["r2": Tensor(shape: [], floats: [1.4142135]), "ir2": Tensor(shape: [1], floats: [0.70710677]),
                                   "one": Tensor(shape: [], floats: [1]), "half": Tensor(shape: [], floats: [0.5])]
    // torch.onnx: Div(x, √2) -> Erf -> Add 1 -> Mul x -> Mul 0.5.
    let torch = rewriteModel([Node(name: "d", opType: "Div", inputs: ["x", "r2"], outputs: ["d"]),
                              Node(name: "e", opType: "Erf", inputs: ["d"], outputs: ["e"]),
                              Node(name: "a", opType: "Add", inputs: ["e", "one"], outputs: ["a"]),
                              Node(name: "m", opType: "Mul", inputs: ["x", "a"], outputs: ["m"]),
                              Node(name: "h", opType: "Mul", inputs: ["m", "half"], outputs: ["y"])], initializers: inits)
    let (r1, p1, applied1) = try bothWays(torch, x)
    #expect(applied1 == ["gelu": 1] && maxDifference(r1, p1) < 1e-5)
    // Paddle / tf: (x · 0.5) · (Erf(x · 1/√2) + 1), constants on the left.
    let halfFirst = rewriteModel([Node(name: "s", opType: "Mul", inputs: ["ir2", "x"], outputs: ["d"]),
                                  Node(name: "e", opType: "Erf", inputs: ["d"], outputs: ["e"]),
                                  Node(name: "a", opType: "Add", inputs: ["one", "e"], outputs: ["a"]),
                                  Node(name: "h", opType: "Mul", inputs: ["x", "half"], outputs: ["h"]),
                                  Node(name: "m", opType: "Mul", inputs: ["h", "a"], outputs: ["y"])], initializers: inits)
    let (r2, p2, applied2) = try bothWays(halfFirst, x)
    #expect(applied2 == ["gelu": 1] && maxDifference(r2, p2) < 1e-5)
    #expect(GraphRewrites.apply(to: halfFirst, disabled: []).model.graph.nodes.map(\.opType) == ["Gelu"])
    // A scale that is not 1/√2 is some other function: left alone.
    var other = inits
    other["r2"] = Tensor(shape: [], floats: [2])
    let notGelu = rewriteModel(torch.graph.nodes, initializers: other)
    #expect(try bothWays(notGelu, x).2.isEmpty)
}
