import Foundation
import ONNX
import Tensor
import Testing
@testable import Runtime

// If and Loop (Operators/ControlFlow.swift): subgraphs reading outer values, nesting, scan outputs.

private func graph(_ nodes: [Node], inputs: [ValueInfo] = [], outputs: [String], initializers: [String: Tensor] = [:]) -> Graph {
    Graph(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs.map { ValueInfo(name: $0, dtype: nil, shape: nil) })
}

@Test func ifRunsTheBranchTheConditionPicksReadingOuterValues() throws {
    // then: y = x + w (w an outer initializer); else: y = x * x, through a nested If that reads x two levels up.
    let thenBranch = graph([Node(opType: "Add", inputs: ["x", "w"], outputs: ["t"])], outputs: ["t"])
    let inner = graph([Node(opType: "Mul", inputs: ["x", "x"], outputs: ["m"])], outputs: ["m"])
    let elseBranch = graph([Node(opType: "If", inputs: ["c"], outputs: ["e"], attributes: ["then_branch": .graph(inner), "else_branch": .graph(inner)])],
                           outputs: ["e"])
    let outer = Graph(nodes: [Node(name: "if", opType: "If", inputs: ["c"], outputs: ["y"],
                                   attributes: ["then_branch": .graph(thenBranch), "else_branch": .graph(elseBranch)])],
                      initializers: ["w": Tensor(shape: [3], floats: [10, 20, 30])],
                      inputs: [ValueInfo(name: "c", dtype: .bool, shape: []), ValueInfo(name: "x", dtype: .float32, shape: [.fixed(3)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)])
    let plan = try Plan(model: Model(opsets: ["": 17], graph: outer))
    let x = Tensor(shape: [3], floats: [1, 2, 3])
    #expect(try plan.run([Tensor(shape: [], scalars: [true]), x])[0].scalars(as: Float.self) == [11, 22, 33])
    #expect(try plan.run([Tensor(shape: [], scalars: [false]), x])[0].scalars(as: Float.self) == [1, 4, 9])
}

@Test func loopCarriesValuesStacksScansAndStopsOnItsCondition() throws {
    // body(i, cond, s): s' = s + x; cond' = s' < limit; scan = s'. With M = 10 and limit 7 (x = 2): 4 iterations.
    let body = graph([Node(opType: "Add", inputs: ["s", "x"], outputs: ["s2"]),
                      Node(opType: "Less", inputs: ["s2", "limit"], outputs: ["go"]),
                      Node(opType: "Identity", inputs: ["s2"], outputs: ["scan"])],
                     inputs: [ValueInfo(name: "i", dtype: .int64, shape: []), ValueInfo(name: "cond_in", dtype: .bool, shape: []),
                              ValueInfo(name: "s", dtype: .float32, shape: [.fixed(1)])],
                     outputs: ["go", "s2", "scan"])
    let outer = Graph(nodes: [Node(name: "loop", opType: "Loop", inputs: ["M", "", "s0"], outputs: ["final", "all"],
                                   attributes: ["body": .graph(body)])],
                      initializers: ["M": Tensor(shape: [], scalars: [Int64(10)]), "limit": Tensor(shape: [1], floats: [7])],
                      inputs: [ValueInfo(name: "s0", dtype: .float32, shape: [.fixed(1)]), ValueInfo(name: "x", dtype: .float32, shape: [.fixed(1)])],
                      outputs: [ValueInfo(name: "final", dtype: nil, shape: nil), ValueInfo(name: "all", dtype: nil, shape: nil)])
    let plan = try Plan(model: Model(opsets: ["": 17], graph: outer))
    let out = try plan.run([Tensor(shape: [1], floats: [0]), Tensor(shape: [1], floats: [2])])
    #expect(out[0].scalars(as: Float.self) == [8])
    #expect(out[1].shape == [4, 1] && out[1].scalars(as: Float.self) == [2, 4, 6, 8])
    // The trip count bounds it first when the condition stays true.
    let capped = try plan.run([Tensor(shape: [1], floats: [-100]), Tensor(shape: [1], floats: [1])])
    #expect(capped[0].scalars(as: Float.self) == [-90] && capped[1].shape == [10, 1])
}

@Test func aSubgraphReadingAValueNoScopeDefinesIsAnError() {
    let branch = graph([Node(opType: "Neg", inputs: ["nowhere"], outputs: ["t"])], outputs: ["t"])
    let outer = Graph(nodes: [Node(name: "if", opType: "If", inputs: ["c"], outputs: ["y"],
                                   attributes: ["then_branch": .graph(branch), "else_branch": .graph(branch)])],
                      inputs: [ValueInfo(name: "c", dtype: .bool, shape: [])], outputs: [ValueInfo(name: "y", dtype: nil, shape: nil)])
    #expect(throws: RuntimeError.self) { try Plan(model: Model(opsets: ["": 17], graph: outer)) }
}

@Test func loopInvariantConstantsAreFoldedIntoTheBody() throws {
    // body(i, cond, s, w): s' = s + Transpose(w) + k; w handed back unchanged. w's initial value and the
    // captured k are initializers, so the body plan holds Transpose(w) as a constant instead of a step.
    let body = graph([Node(opType: "Transpose", inputs: ["w"], outputs: ["wt"], attributes: ["perm": .ints([1, 0])]),
                      Node(opType: "Add", inputs: ["s", "wt"], outputs: ["a"]),
                      Node(opType: "Add", inputs: ["a", "k"], outputs: ["s2"]),
                      Node(opType: "Identity", inputs: ["cond_in"], outputs: ["go"])],
                     inputs: [ValueInfo(name: "i", dtype: .int64, shape: []), ValueInfo(name: "cond_in", dtype: .bool, shape: []),
                              ValueInfo(name: "s", dtype: .float32, shape: nil), ValueInfo(name: "w", dtype: .float32, shape: nil)],
                     outputs: ["go", "s2", "w"])
    let outer = Graph(nodes: [Node(name: "loop", opType: "Loop", inputs: ["M", "", "s0", "w0"], outputs: ["final", "w_out"],
                                   attributes: ["body": .graph(body)])],
                      initializers: ["M": Tensor(shape: [], scalars: [Int64(3)]), "w0": Tensor(shape: [2, 1], floats: [1, 2]),
                                     "k": Tensor(shape: [1], floats: [100])],
                      inputs: [ValueInfo(name: "s0", dtype: .float32, shape: [.fixed(1), .fixed(2)])],
                      outputs: [ValueInfo(name: "final", dtype: nil, shape: nil), ValueInfo(name: "w_out", dtype: nil, shape: nil)])
    let plan = try Plan(model: Model(opsets: ["": 17], graph: outer))
    let out = try plan.run([Tensor(shape: [1, 2], floats: [0, 0.5])])
    #expect(out[0].scalars(as: Float.self) == [303, 306.5])
    #expect(out[1].shape == [2, 1] && out[1].scalars(as: Float.self) == [1, 2])
    let loop = try #require(plan.steps.compactMap { $0.op as? LoopOperator }.first)
    #expect(!loop.body.steps.contains { $0.node.opType == "Transpose" }, "the weight's Transpose is folded")
    #expect(loop.variantCarried == [0] && loop.capturePositions.isEmpty)
}
