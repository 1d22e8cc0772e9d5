import Foundation
import ONNX
import Tensor
import Testing
@testable import Runtime

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed
    return Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
    })
}

func rewriteModel(_ nodes: [Node], initializers: [String: Tensor], output: String = "y", opset: Int = 17) -> Model {
    Model(opsets: ["": opset], graph: Graph(nodes: nodes, initializers: initializers,
        inputs: [ValueInfo(name: "x", dtype: .float32, shape: nil)],
        outputs: [ValueInfo(name: output, dtype: .float32, shape: nil)]))
}

/// Runs `m` with every rewrite and with none; returns (rewritten, plain, rewrites applied).
func bothWays(_ m: Model, _ x: Tensor) throws -> (Tensor, Tensor, [String: Int]) {
    let rewritten = try Plan(model: m, disabledRewrites: [])
    let plain = try Plan(model: m, disabledRewrites: Set(GraphRewrites.names))
    #expect(plain.rewrites.isEmpty)
    return (try rewritten.run([x])[0], try plain.run([x])[0], rewritten.rewrites)
}

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape && a.count > 0)
    return (0..<a.count).map { abs(a.floats[$0] - b.floats[$0]) }.max()!
}

@Test func convScaleFoldsScalarsAndChannelScalesIntoTheWeights() throws {
    let x = randomTensor([1, 3, 6, 5], seed: 1)
    let w = randomTensor([4, 3, 3, 3], seed: 2), b = randomTensor([4], seed: 3)
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])])
    // A scalar Mul (scale on the left), then a per-channel Div.
    let mul = Node(name: "m", opType: "Mul", inputs: ["s", "a"], outputs: ["y"])
    let scalar = rewriteModel([conv, mul], initializers: ["w": w, "b": b, "s": Tensor(shape: [], floats: [2.631579])])
    let (r1, p1, applied1) = try bothWays(scalar, x)
    #expect(applied1 == ["conv-scale": 1])
    #expect(maxDifference(r1, p1) < 1e-5)
    let div = Node(name: "d", opType: "Div", inputs: ["a", "s"], outputs: ["y"])
    let channels = rewriteModel([conv, div], initializers: ["w": w, "b": b, "s": Tensor(shape: [1, 4, 1, 1], floats: [2, -0.5, 4, 0.25])])
    let (r2, p2, applied2) = try bothWays(channels, x)
    #expect(applied2 == ["conv-scale": 1])
    #expect(maxDifference(r2, p2) < 1e-5)
}

@Test func convScaleLeavesSharedOutputsAndOtherScalesAlone() throws {
    let x = randomTensor([1, 2, 4, 4], seed: 4)
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"])
    // The Conv's output is read twice: folding would change the other reader.
    let shared = rewriteModel([conv, Node(name: "m", opType: "Mul", inputs: ["a", "s"], outputs: ["p"]),
                        Node(name: "add", opType: "Add", inputs: ["p", "a"], outputs: ["y"])],
                       initializers: ["w": randomTensor([3, 2, 1, 1], seed: 5), "s": Tensor(shape: [1], floats: [3])])
    let (r1, p1, applied1) = try bothWays(shared, x)
    #expect(applied1.isEmpty && maxDifference(r1, p1) == 0)
    // A scale along another axis (width) is not a per-channel factor; 1 / s with s a constant is not x / s.
    let widthwise = rewriteModel([conv, Node(name: "m", opType: "Mul", inputs: ["a", "s"], outputs: ["y"])],
                          initializers: ["w": randomTensor([3, 2, 1, 1], seed: 5), "s": randomTensor([4], seed: 6)])
    #expect(try bothWays(widthwise, x).2.isEmpty)
    let reciprocal = rewriteModel([conv, Node(name: "d", opType: "Div", inputs: ["s", "a"], outputs: ["y"])],
                           initializers: ["w": randomTensor([3, 2, 1, 1], seed: 5), "s": Tensor(shape: [], floats: [2])])
    #expect(try bothWays(reciprocal, x).2.isEmpty)
}

@Test func softmaxProjectionMatchesSoftmaxThenAOneByOneConv() throws {
    let x = randomTensor([2, 7, 9, 70], seed: 7)
    let softmax = Node(name: "s", opType: "Softmax", inputs: ["x"], outputs: ["p"], attributes: ["axis": .int(1)])
    let conv = Node(name: "c", opType: "Conv", inputs: ["p", "w", "b"], outputs: ["y"], attributes: ["kernel_shape": .ints([1, 1])])
    let m = rewriteModel([softmax, conv], initializers: ["w": randomTensor([2, 7, 1, 1], seed: 8), "b": randomTensor([2], seed: 9)])
    let (r, p, applied) = try bothWays(m, Tensor(shape: x.shape, floats: (0..<x.count).map { x.floats[$0] * 8 }))
    #expect(applied == ["softmax-projection": 1])
    #expect(r.shape == [2, 2, 9, 70] && maxDifference(r, p) < 1e-5)
    // Softmax over the last axis is not a projection of channels.
    let lastAxis = rewriteModel([Node(name: "s", opType: "Softmax", inputs: ["x"], outputs: ["p"], attributes: ["axis": .int(-1)]), conv],
                         initializers: ["w": randomTensor([2, 7, 1, 1], seed: 8), "b": randomTensor([2], seed: 9)])
    #expect(try bothWays(lastAxis, x).2.isEmpty)
}

/// The a*b*-class head: 3x3 Conv to logits, Softmax over channels, 1x1 Conv onto the bin centres. Fused, the
/// logits are made a band of rows at a time: 4 bands here (70 logits x 62 columns, 2^18 floats a band),
/// the first and last in the vertical padding; asymmetric pads and a batch of two.
@Test func convSoftmaxProjectionComputesTheLogitsInBands() throws {
    let x = randomTensor([2, 4, 203, 62], seed: 21)
    let logits = Node(name: "l", opType: "Conv", inputs: ["x", "wc", "bc"], outputs: ["z"],
                      attributes: ["pads": .ints([2, 1, 0, 1])])
    let softmax = Node(name: "s", opType: "Softmax", inputs: ["z"], outputs: ["p"], attributes: ["axis": .int(1)])
    let project = Node(name: "c", opType: "Conv", inputs: ["p", "w"], outputs: ["y"], attributes: ["kernel_shape": .ints([1, 1])])
    let inits = ["wc": randomTensor([70, 4, 3, 3], seed: 22), "bc": randomTensor([70], seed: 23), "w": randomTensor([2, 70, 1, 1], seed: 24)]
    let (r, p, applied) = try bothWays(rewriteModel([logits, softmax, project], initializers: inits), x)
    #expect(applied == ["softmax-projection": 1, "conv-softmax-projection": 1])
    #expect(r.shape == [2, 2, 203, 62] && maxDifference(r, p) < 1e-5)
    // A strided Conv keeps its own node (the bands assume stride 1).
    var strided = logits
    strided.attributes["strides"] = .ints([2, 2])
    let (r2, p2, applied2) = try bothWays(rewriteModel([strided, softmax, project], initializers: inits), x)
    #expect(applied2 == ["softmax-projection": 1] && maxDifference(r2, p2) < 1e-5)
}

/// NHWC round trips cancel, other Transpose pairs compose, Reshape pairs become one Reshape; a shuffle read
/// twice, or a second Reshape that copies sizes (0), stays.
@Test func layoutPairsComposeOrCancel() throws {
    let x = randomTensor([2, 3, 4, 5], seed: 31)
    func transpose(_ name: String, _ input: String, _ output: String, _ perm: [Int]) -> Node {
        Node(name: name, opType: "Transpose", inputs: [input], outputs: [output], attributes: ["perm": .ints(perm)])
    }
    let roundTrip = rewriteModel([transpose("a", "x", "t", [0, 2, 3, 1]), transpose("b", "t", "y", [0, 3, 1, 2])], initializers: [:])
    let (r1, p1, applied1) = try bothWays(roundTrip, x)
    #expect(applied1 == ["layout-pairs": 1] && r1.shape == [2, 3, 4, 5] && maxDifference(r1, p1) == 0)
    #expect(try Plan(model: roundTrip, disabledRewrites: []).steps.map(\.node.opType) == ["Identity"])
    let composed = rewriteModel([transpose("a", "x", "t", [0, 2, 3, 1]), transpose("b", "t", "y", [2, 0, 1, 3])], initializers: [:])
    let (r2, p2, applied2) = try bothWays(composed, x)
    #expect(applied2 == ["layout-pairs": 1] && r2.shape == p2.shape && maxDifference(r2, p2) == 0)
    let reshapes = rewriteModel([Node(name: "r1", opType: "Reshape", inputs: ["x", "s1"], outputs: ["t"]),
                                 Node(name: "r2", opType: "Reshape", inputs: ["t", "s2"], outputs: ["y"])],
                                initializers: ["s1": Tensor(shape: [2], scalars: [Int64(6), -1]),
                                               "s2": Tensor(shape: [3], scalars: [Int64(-1), 10, 2])])
    let (r3, p3, applied3) = try bothWays(reshapes, x)
    #expect(applied3 == ["layout-pairs": 1] && r3.shape == [6, 10, 2] && maxDifference(r3, p3) == 0)
    let copying = rewriteModel([Node(name: "r1", opType: "Reshape", inputs: ["x", "s1"], outputs: ["t"]),
                                Node(name: "r2", opType: "Reshape", inputs: ["t", "s2"], outputs: ["y"])],
                               initializers: ["s1": Tensor(shape: [2], scalars: [Int64(6), -1]),
                                              "s2": Tensor(shape: [3], scalars: [Int64(0), 10, 2])])
    #expect(try bothWays(copying, x).2.isEmpty)
    let readTwice = rewriteModel([transpose("a", "x", "t", [0, 2, 3, 1]), transpose("b", "t", "u", [0, 3, 1, 2]),
                                  transpose("c", "t", "v", [0, 3, 1, 2]), Node(name: "s", opType: "Add", inputs: ["u", "v"], outputs: ["y"])],
                                 initializers: [:])
    #expect(try bothWays(readTwice, x).2.isEmpty)
}

/// x · Sigmoid(x), either order: one Silu; after a Conv, one FusedConv. A Sigmoid read twice stays.
@Test func siluFusesAndFoldsIntoTheConvBeforeIt() throws {
    let x = randomTensor([2, 3, 6, 7], seed: 41)
    for order in [["x", "g"], ["g", "x"]] {
        let m = rewriteModel([Node(name: "s", opType: "Sigmoid", inputs: ["x"], outputs: ["g"]),
                              Node(name: "m", opType: "Mul", inputs: order, outputs: ["y"])], initializers: [:])
        let (r, p, applied) = try bothWays(m, Tensor(shape: x.shape, floats: (0..<x.count).map { x.floats[$0] * 6 }))
        #expect(applied == ["silu": 1] && maxDifference(r, p) < 1e-6)
    }
    let conv = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])])
    let yolo = rewriteModel([conv, Node(name: "s", opType: "Sigmoid", inputs: ["a"], outputs: ["g"]),
                             Node(name: "m", opType: "Mul", inputs: ["a", "g"], outputs: ["y"])],
                            initializers: ["w": randomTensor([5, 3, 3, 3], seed: 42), "b": randomTensor([5], seed: 43)])
    let (r, p, applied) = try bothWays(yolo, x)
    #expect(applied == ["silu": 1, "conv-activation": 1] && maxDifference(r, p) < 1e-5)
    #expect(try Plan(model: yolo, disabledRewrites: []).steps.map(\.node.opType) == ["FusedConv"])
    let twice = rewriteModel([Node(name: "s", opType: "Sigmoid", inputs: ["x"], outputs: ["g"]),
                              Node(name: "m", opType: "Mul", inputs: ["x", "g"], outputs: ["h"]),
                              Node(name: "a", opType: "Add", inputs: ["h", "g"], outputs: ["y"])], initializers: [:])
    #expect(try bothWays(twice, x).2.isEmpty)
}

/// paddle2onnx's spelling: every weight a Constant node, BatchNormalization after a bias-free Conv, HardSwish as
/// Add 3, Clip [0, 6], Mul, Div 6. constant-nodes makes the Constants initializers, then bn-fold, hard-swish and
/// conv-activation leave one FusedConv.
@Test func constantNodesLetPaddleStyleConvBatchNormHardSwishFuse() throws {
    let x = randomTensor([2, 3, 6, 7], seed: 44)
    func constant(_ name: String, _ t: Tensor) -> Node {
        Node(name: name, opType: "Constant", inputs: [], outputs: [name], attributes: ["value": .tensor(t)])
    }
    let scalars = [("three", 3), ("zero", 0), ("six", 6)].map { constant($0.0, Tensor(shape: [], floats: [Float($0.1)])) }
    let variance = Tensor(shape: [5], floats: randomTensor([5], seed: 48).floats.map { abs($0) + 0.5 })
    let nodes = [constant("w", randomTensor([5, 3, 3, 3], seed: 45)), constant("g", randomTensor([5], seed: 46)),
                 constant("beta", randomTensor([5], seed: 47)), constant("mean", randomTensor([5], seed: 49)),
                 constant("var", variance)] + scalars + [
        Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["a"], attributes: ["pads": .ints([1, 1, 1, 1])]),
        Node(name: "bn", opType: "BatchNormalization", inputs: ["a", "g", "beta", "mean", "var"], outputs: ["n"]),
        Node(name: "add", opType: "Add", inputs: ["n", "three"], outputs: ["p"]),
        Node(name: "clip", opType: "Clip", inputs: ["p", "zero", "six"], outputs: ["q"]),
        Node(name: "mul", opType: "Mul", inputs: ["n", "q"], outputs: ["r"]),
        Node(name: "div", opType: "Div", inputs: ["r", "six"], outputs: ["y"])]
    let m = rewriteModel(nodes, initializers: [:], opset: 11)
    let (r, p, applied) = try bothWays(m, x)
    #expect(applied == ["constant-nodes": 8, "bn-fold": 1, "hard-swish": 1, "conv-activation": 1])
    #expect(maxDifference(r, p) < 1e-5)
    #expect(try Plan(model: m, disabledRewrites: []).steps.map(\.node.opType) == ["FusedConv"])
    // Alone (no Conv before it), and with Mul by 1/6 instead of Div by 6: one HardSwish node.
    let sixth = Tensor(shape: [1], floats: [1.0 / 6])
    let alone = rewriteModel([Node(name: "add", opType: "Add", inputs: ["three", "x"], outputs: ["p"]),
                              Node(name: "clip", opType: "Clip", inputs: ["p", "zero", "six"], outputs: ["q"]),
                              Node(name: "mul", opType: "Mul", inputs: ["q", "x"], outputs: ["r"]),
                              Node(name: "s", opType: "Mul", inputs: ["r", "sixth"], outputs: ["y"])],
                             initializers: ["three": Tensor(shape: [], floats: [3]), "zero": Tensor(shape: [], floats: [0]),
                                            "six": Tensor(shape: [], floats: [6]), "sixth": sixth])
    let (r2, p2, applied2) = try bothWays(alone, Tensor(shape: x.shape, floats: x.floats.map { $0 * 5 }))
    #expect(applied2 == ["hard-swish": 1] && maxDifference(r2, p2) < 1e-5)
    // A Clip to other bounds is not a HardSwish.
    let relu6 = rewriteModel([Node(name: "add", opType: "Add", inputs: ["x", "three"], outputs: ["p"]),
                              Node(name: "clip", opType: "Clip", inputs: ["p", "zero", "three"], outputs: ["q"]),
                              Node(name: "mul", opType: "Mul", inputs: ["x", "q"], outputs: ["r"]),
                              Node(name: "div", opType: "Div", inputs: ["r", "six"], outputs: ["y"])],
                             initializers: ["three": Tensor(shape: [], floats: [3]), "zero": Tensor(shape: [], floats: [0]),
                                            "six": Tensor(shape: [], floats: [6])])
    #expect(try bothWays(relu6, x).2.isEmpty)
}

/// Normalisation spelled in primitives (ReduceMean, Sub, Pow or Mul, ReduceMean, Add eps, Sqrt, Div): LayerNorm
/// over the last axis, InstanceNorm over H and W, and a leading axis (moved to the end and back) — one node each,
/// within 1e-5 of the primitives. A mean read elsewhere stays.
@Test func meanVarianceNormalizationFusesTheSpelledOutNorms() throws {
    let x = randomTensor([2, 3, 5, 7], seed: 50)
    func spelled(_ axes: [Int], squareByMul: Bool) -> [Node] {
        [Node(name: "m", opType: "ReduceMean", inputs: ["x"], outputs: ["mean"], attributes: ["axes": .ints(axes)]),
         Node(name: "d", opType: "Sub", inputs: ["x", "mean"], outputs: ["d"]),
         squareByMul ? Node(name: "q", opType: "Mul", inputs: ["d", "d"], outputs: ["q"])
                     : Node(name: "q", opType: "Pow", inputs: ["d", "two"], outputs: ["q"]),
         Node(name: "v", opType: "ReduceMean", inputs: ["q"], outputs: ["var"], attributes: ["axes": .ints(axes)]),
         Node(name: "e", opType: "Add", inputs: ["var", "eps"], outputs: ["e"]),
         Node(name: "s", opType: "Sqrt", inputs: ["e"], outputs: ["s"]),
         Node(name: "y", opType: "Div", inputs: ["d", "s"], outputs: ["y"])]
    }
    let inits = ["two": Tensor(shape: [], floats: [2]), "eps": Tensor(shape: [], floats: [1e-5])]
    for (axes, byMul) in [([-1], false), ([-1], true), ([2, 3], false), ([0], true), ([1, 3], false)] {
        let m = rewriteModel(spelled(axes, squareByMul: byMul), initializers: inits, opset: 13)
        let (r, p, applied) = try bothWays(m, x)
        #expect(applied == ["mean-variance": 1], "axes \(axes)")
        #expect(maxDifference(r, p) < 1e-5, "axes \(axes): \(maxDifference(r, p))")
        #expect(try Plan(model: m, disabledRewrites: []).steps.map(\.node.opType) == ["MeanVarianceNormalization"])
    }
    var shared = spelled([-1], squareByMul: false)
    shared[6] = Node(name: "y", opType: "Div", inputs: ["d", "s"], outputs: ["z"])
    shared.append(Node(name: "a", opType: "Add", inputs: ["z", "mean"], outputs: ["y"]))
    #expect(try bothWays(rewriteModel(shared, initializers: inits, opset: 13), x).2.isEmpty)
}

/// MatMul by a constant matrix + a constant bias, either Add order, A of rank 2 and 3: one MatMulAdd. A bias
/// of another shape, or a product read twice, stays.
@Test func matMulAddFusesALinearLayer() throws {
    let w = randomTensor([7, 5], seed: 51), bias = randomTensor([5], seed: 52)
    for order in [["p", "bias"], ["bias", "p"]] {
        let m = rewriteModel([Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["p"]),
                              Node(name: "add", opType: "Add", inputs: order, outputs: ["y"])],
                             initializers: ["w": w, "bias": bias])
        for shape in [[3, 7], [2, 4, 7], [7]] {
            let (r, p, applied) = try bothWays(m, randomTensor(shape, seed: 53))
            #expect(applied == ["matmul-add": 1] && r.shape == p.shape && maxDifference(r, p) < 1e-5, "A \(shape)")
        }
    }
    let wide = rewriteModel([Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["p"]),
                             Node(name: "add", opType: "Add", inputs: ["p", "b2"], outputs: ["y"])],
                            initializers: ["w": w, "b2": randomTensor([3, 5], seed: 54)])
    #expect(try bothWays(wide, randomTensor([3, 7], seed: 55)).2.isEmpty)
}

@Test func normActivationFusesInstanceNormWithLeakyReluAndRelu() throws {
    let x = randomTensor([2, 3, 5, 7], seed: 10)
    let inits = ["g": randomTensor([3], seed: 11), "b": randomTensor([3], seed: 12)]
    let norm = Node(name: "n", opType: "InstanceNormalization", inputs: ["x", "g", "b"], outputs: ["h"], attributes: ["epsilon": .float(1e-3)])
    for activation in [Node(name: "a", opType: "LeakyRelu", inputs: ["h"], outputs: ["y"], attributes: ["alpha": .float(0.2)]),
                       Node(name: "a", opType: "Relu", inputs: ["h"], outputs: ["y"])] {
        let (r, p, applied) = try bothWays(rewriteModel([norm, activation], initializers: inits), x)
        #expect(applied == ["norm-activation": 1])
        #expect(maxDifference(r, p) < 1e-6)
    }
    // The normalized tensor read twice keeps its own node.
    let shared = rewriteModel([norm, Node(name: "a", opType: "Relu", inputs: ["h"], outputs: ["r"]),
                        Node(name: "s", opType: "Add", inputs: ["r", "h"], outputs: ["y"])], initializers: inits)
    #expect(try bothWays(shared, x).2.isEmpty)
}

@Test func theEnvironmentSwitchesRewritesOff() {
    #expect(GraphRewrites.disabled(byValue: nil).isEmpty)
    #expect(GraphRewrites.disabled(byValue: "all") == Set(GraphRewrites.names))
    #expect(GraphRewrites.disabled(byValue: "conv-scale, softmax-projection") == ["conv-scale", "softmax-projection"])
    #expect(GraphRewrites.names == ["constant-nodes", "layout-pairs", "conv-scale", "bn-fold", "softmax-projection",
                                    "conv-softmax-projection", "norm-activation", "gelu", "silu", "hard-swish", "mean-variance",
                                    "matmul-add", "conv-activation"])
}
