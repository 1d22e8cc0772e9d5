import Foundation
import ONNX
import Tensor

// If (opsets 1–24) and Loop (1–24): operators whose attributes are graphs. A subgraph may read any value of
// the scopes around it by name. Plan makes those reads explicit before it orders the graph
// (`Subgraphs.capturingOuterValues`): each such node gets the outer values its subgraphs read appended to its
// inputs, listed in the attribute `ai.mangacolor.captures`, so ordering, liveness and constant folding see them
// as ordinary inputs. Each subgraph becomes its own Plan whose graph inputs are its declared inputs followed by
// the captures; running the node runs that plan.
//
//   If (cond, captures...) -> outputs of then_branch or else_branch
//   Loop (M, cond, v_initial..., captures...) -> (v_final..., scan_outputs...): body (iteration_num, cond,
//        v...) -> (cond, v..., scan...) runs while iteration < M (if given) and cond (if given) holds; each
//        scan output is the per-iteration values stacked on a new first axis.

let controlFlowOperators: [Registration] = [
    Registration("If", since: 1) { ctx in try IfOperator(ctx) },
    Registration("Loop", since: 1) { ctx in try LoopOperator(ctx) },
]

enum Subgraphs {
    static let capturesAttribute = "ai.mangacolor.captures"

    /// The graphs held in a node's attributes.
    static func graphs(of node: Node) -> [Graph] {
        node.attributes.values.flatMap { value -> [Graph] in
            switch value {
            case .graph(let g): return [g]
            case .graphs(let gs): return gs
            default: return []
            }
        }
    }

    /// Names `graph` reads that it does not define (inputs, initializers, node outputs), its nested
    /// subgraphs' reads included.
    static func outerReads(of graph: Graph) -> Set<String> {
        var defined = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
        for node in graph.nodes { defined.formUnion(node.outputs) }
        var read = Set<String>()
        for node in graph.nodes {
            read.formUnion(node.inputs.filter { !$0.isEmpty })
            for g in graphs(of: node) { read.formUnion(outerReads(of: g)) }
        }
        read.formUnion(graph.outputs.map(\.name))
        return read.subtracting(defined)
    }

    /// `graph` with every subgraph-holding node's outer reads appended to its inputs (sorted) and listed in
    /// `capturesAttribute`.
    static func capturingOuterValues(_ graph: Graph) -> Graph {
        var graph = graph
        for (i, node) in graph.nodes.enumerated() {
            let inner = graphs(of: node)
            guard !inner.isEmpty else { continue }
            let captures = inner.reduce(into: Set<String>()) { $0.formUnion(outerReads(of: $1)) }.sorted()
            graph.nodes[i].inputs += captures
            graph.nodes[i].attributes[capturesAttribute] = .strings(captures)
        }
        return graph
    }

    /// A plan for `graph` whose inputs are its declared inputs, then the `captures` whose value is not `known`
    /// (`runtimeCaptures` picks those). The known ones (the outer graph's initializers and folded constants)
    /// become the subgraph's initializers, so its own constant folding sees them: a Loop body that transposes
    /// an outer weight matrix on every iteration (SLANet's attention decoder) then transposes it once.
    static func plan(_ graph: Graph, captures: [String], known: [Tensor?], opsets: [String: Int], node: Node,
                     attribute: String) throws -> Plan {
        var g = graph
        for (i, name) in captures.enumerated() where i < known.count {
            if let value = known[i] { g.initializers[name] = value }
        }
        // Declared shapes of subgraph inputs are not enforced (onnxruntime does not either: paddle2onnx declares
        // a Loop's scalar iteration number as [1]); their types are.
        g.inputs = graph.inputs.map { ValueInfo(name: $0.name, dtype: $0.dtype, shape: nil) }
            + runtimeCaptures(captures.count, known: known).map { ValueInfo(name: captures[$0], dtype: nil, shape: nil) }
        do {
            return try Plan(model: Model(opsets: opsets, graph: g))
        } catch {
            throw node.invalid(attribute, "the subgraph cannot be planned: \(error)")
        }
    }

    /// Positions, among a node's `count` captures, of those without a value known at load time.
    static func runtimeCaptures(_ count: Int, known: [Tensor?]) -> [Int] {
        (0..<count).filter { $0 >= known.count || known[$0] == nil }
    }

    /// The known values of a node's captures (its last inputs), from its context.
    static func knownCaptures(_ ctx: OperatorContext, count: Int) -> [Tensor?] {
        ctx.constants.count >= count ? Array(ctx.constants.suffix(count)) : []
    }

    static func captures(of node: Node) -> [String] {
        if case .strings(let names)? = node.attributes[capturesAttribute] { return names }
        return []
    }

    static func subgraph(_ node: Node, _ name: String) throws -> Graph {
        guard case .graph(let g)? = node.attributes[name] else { throw node.invalid(name, "is required and must be a graph") }
        return g
    }

    /// The outer values a node's subgraph plans take at run time: of its last `count` inputs (its captures),
    /// those at `positions` (`runtimeCaptures`).
    static func captured(_ inputs: [Tensor?], _ count: Int, positions: [Int]) throws -> [Tensor] {
        let all = try captured(inputs, count)
        return positions.map { all[$0] }
    }

    /// The last `count` inputs of a node: the outer values its subgraphs read.
    static func captured(_ inputs: [Tensor?], _ count: Int) throws -> [Tensor] {
        try inputs.suffix(count).enumerated().map { i, t in
            guard let t else { throw KernelError("captured value \(i) is missing") }
            return t
        }
    }

    /// A boolean tensor's single value.
    static func condition(_ t: Tensor, _ what: String) throws -> Bool {
        guard t.count == 1, t.dtype == .bool || t.dtype.isInteger else {
            throw KernelError("\(what) is \(t.dtype) \(shapeString(t.shape)); it must hold one boolean")
        }
        return t.ints()[0] != 0
    }
}

struct IfOperator: Operator {
    let thenPlan: Plan
    let elsePlan: Plan
    let captureCount: Int
    /// Which captures the branch plans take as inputs (the others are folded in as constants).
    let capturePositions: [Int]

    init(_ ctx: OperatorContext) throws {
        let captures = Subgraphs.captures(of: ctx.node)
        captureCount = captures.count
        let known = Subgraphs.knownCaptures(ctx, count: captures.count)
        capturePositions = Subgraphs.runtimeCaptures(captures.count, known: known)
        let thenGraph = try Subgraphs.subgraph(ctx.node, "then_branch"), elseGraph = try Subgraphs.subgraph(ctx.node, "else_branch")
        guard thenGraph.outputs.count == elseGraph.outputs.count else {
            throw ctx.node.invalid("else_branch", "has \(elseGraph.outputs.count) outputs, then_branch \(thenGraph.outputs.count)")
        }
        thenPlan = try Subgraphs.plan(thenGraph, captures: captures, known: known, opsets: ctx.opsets, node: ctx.node,
                                      attribute: "then_branch")
        elsePlan = try Subgraphs.plan(elseGraph, captures: captures, known: known, opsets: ctx.opsets, node: ctx.node,
                                      attribute: "else_branch")
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let cond = try inputs.required(0, "cond")
        return try (Subgraphs.condition(cond, "cond") ? thenPlan : elsePlan)
            .run(Subgraphs.captured(inputs, captureCount, positions: capturePositions))
    }
}

struct LoopOperator: Operator {
    let body: Plan
    let captureCount: Int
    /// Which captures the body plan takes as inputs (the others are folded in as constants).
    let capturePositions: [Int]
    /// Which loop-carried values the body plan takes as inputs (the loop-invariant constant ones are its
    /// initializers; it still returns them, as constants).
    let variantCarried: [Int]
    let carried: Int
    let scans: Int

    init(_ ctx: OperatorContext) throws {
        let captures = Subgraphs.captures(of: ctx.node)
        captureCount = captures.count
        let graph = try Subgraphs.subgraph(ctx.node, "body")
        carried = ctx.node.inputs.count - 2 - captures.count
        guard carried >= 0, graph.inputs.count == 2 + carried, graph.outputs.count >= 1 + carried else {
            throw ctx.node.invalid("body", "takes \(graph.inputs.count) inputs and gives \(graph.outputs.count) outputs; with \(max(carried, 0)) loop-carried values it must take \(2 + max(carried, 0)) and give at least \(1 + max(carried, 0))")
        }
        scans = graph.outputs.count - 1 - carried
        let known = Subgraphs.knownCaptures(ctx, count: captures.count)
        capturePositions = Subgraphs.runtimeCaptures(captures.count, known: known)
        // Loop-invariant carried values: the body hands input 2 + k back unchanged as output 1 + k and its
        // initial value is known at load time (paddle2onnx carries every weight of a decoder through its Loop
        // this way). They become the body's initializers, so what it computes from them alone (a weight's
        // Transpose) is folded once instead of redone every iteration.
        var bodyGraph = graph
        var invariant = Set<Int>()
        for k in 0..<carried where graph.outputs[1 + k].name == graph.inputs[2 + k].name && 2 + k < ctx.constants.count {
            guard let value = ctx.constants[2 + k] else { continue }
            bodyGraph.initializers[graph.inputs[2 + k].name] = value
            invariant.insert(k)
        }
        bodyGraph.inputs = graph.inputs.enumerated().filter { i, _ in i < 2 || !invariant.contains(i - 2) }.map(\.element)
        variantCarried = (0..<carried).filter { !invariant.contains($0) }
        body = try Subgraphs.plan(bodyGraph, captures: captures, known: known, opsets: ctx.opsets, node: ctx.node,
                                  attribute: "body")
    }

    /// The most iterations a Loop without a trip count may run (a model whose condition never turns false
    /// would otherwise hang the run).
    static let iterationLimit = 1 << 20

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let tripCount = try inputs.optional(0).map { t -> Int in
            guard t.count == 1, t.dtype.isInteger else { throw KernelError("M is \(t.dtype) \(shapeString(t.shape)); it must be one integer") }
            return t.ints()[0]
        }
        var cond = try inputs.optional(1).map { try Subgraphs.condition($0, "cond") } ?? true
        var values = try (0..<carried).map { i -> Tensor in
            guard let t = inputs[2 + i] else { throw KernelError("loop-carried value \(i) (v_initial) is missing") }
            return t
        }
        let captured = try Subgraphs.captured(inputs, captureCount, positions: capturePositions)
        var scanned = [[Tensor]](repeating: [], count: scans)
        var iteration = 0
        while cond && iteration < (tripCount ?? Int.max) {
            guard iteration < Self.iterationLimit else {
                throw KernelError("ran \(Self.iterationLimit) iterations without its condition turning false")
            }
            let out = try body.run([Tensor(shape: [], scalars: [Int64(iteration)]), Tensor(shape: [], scalars: [cond])]
                                   + variantCarried.map { values[$0] } + captured)
            cond = try Subgraphs.condition(out[0], "the body's condition output")
            values = Array(out[1...carried])
            for k in 0..<scans { scanned[k].append(out[1 + carried + k]) }
            iteration += 1
        }
        let stacked = try scanned.enumerated().map { k, list -> Tensor in
            // No iteration: the body's declared shape and type are not known here, so an empty float tensor.
            guard let first = list.first else { return Tensor(uninitialized: [0], dtype: .float32) }
            guard list.allSatisfy({ $0.shape == first.shape && $0.dtype == first.dtype }) else {
                throw KernelError("scan output \(k) changes shape or type between iterations")
            }
            return concatenated(list.map { $0.reshaped([1] + $0.shape) }, axis: 0)
        }
        return values + stacked
    }
}
