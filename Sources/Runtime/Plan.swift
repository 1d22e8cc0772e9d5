import Foundation
import ONNX
import Tensor

/// A graph made ready to run: nodes in topological order with their operators built, constants folded,
/// values numbered, and each intermediate freed right after its last consumer.
///
/// Stages (as in tract): `Model` (decoded file) -> `Plan(model:)` (validated, ordered, operators built,
/// constant subgraphs folded) -> `run`.
public final class Plan: @unchecked Sendable {
    public struct Step: Sendable {
        public let node: Node
        public let op: any Operator
        /// Value slots of the inputs (-1 for an omitted optional input).
        let inputs: [Int]
        let outputs: [Int]
        /// Slots whose last consumer is this step: released after it runs.
        var frees: [Int]
    }

    public let model: Model
    public private(set) var steps: [Step] = []
    /// Graph inputs the caller feeds, in declaration order.
    public let inputs: [ValueInfo]
    public let outputNames: [String]
    /// Number of nodes removed by constant folding.
    public private(set) var foldedNodes = 0
    /// The operators' warnings ("node 'Resize_3' (Resize): ..."), in graph order; commands print them.
    public private(set) var warnings: [String] = []

    private var slotOf: [String: Int] = [:]
    private var constants: [Int: Tensor] = [:]
    /// Every run starts from these: the value slots with the constants in place, and their bytes counted
    /// (made once, so a run does not walk the constants' dictionary: tiny models run in tens of microseconds).
    private var slotTemplate: [Tensor?] = []
    private var constantLive = LiveBytes()
    private var inputSlots: [Int] = []
    private var outputSlots: [Int] = []
    private var slotCount = 0

    public convenience init(contentsOf path: String) throws {
        try self.init(model: Model(contentsOf: path))
    }

    /// How often each graph rewrite applied (Rewrites.swift), by name.
    public private(set) var rewrites: [String: Int] = [:]

    /// Builds the plan of `model` after the graph rewrites not in `disabledRewrites` (default: those
    /// `MANGACOLOR_DISABLE_REWRITES` names). `model` stays as given; the plan runs the rewritten graph.
    public init(model original: Model, disabledRewrites: Set<String>? = nil) throws {
        self.model = original
        let (model, applied) = GraphRewrites.apply(to: original, disabled: disabledRewrites ?? GraphRewrites.disabledByEnvironment)
        rewrites = applied
        // If / Loop: the outer values their subgraphs read become inputs of the node (Operators/ControlFlow.swift).
        let graph = Subgraphs.capturingOuterValues(model.graph)
        self.inputs = graph.runtimeInputs
        self.outputNames = graph.outputs.map(\.name)

        func slot(_ name: String) -> Int {
            if let s = slotOf[name] { return s }
            slotOf[name] = slotCount
            slotCount += 1
            return slotCount - 1
        }
        for (name, t) in graph.initializers { constants[slot(name)] = t }
        var constantBytes = graph.initializers.values.reduce(0) { $0 + $1.byteCount }
        try Plan.checkPlanBudget(constantBytes, "the model's initializers")
        for input in inputs { inputSlots.append(slot(input.name)) }

        let order = try Plan.topologicalOrder(graph)
        var known = Set(constants.keys).union(inputSlots)
        var pending: [(Node, any Operator, [Int], [Int])] = []
        for index in order {
            let node = graph.nodes[index]
            var ins: [Int] = []
            for name in node.inputs {
                if name.isEmpty { ins.append(-1); continue }
                guard let s = slotOf[name], known.contains(s) else { throw RuntimeError.missingValue(node: node.label, value: name) }
                ins.append(s)
            }
            var outs: [Int] = []
            for name in node.outputs {
                if name.isEmpty { outs.append(-1); continue }
                if let s = slotOf[name], known.contains(s) {
                    throw RuntimeError.duplicateValue(value: name, node: node.label)
                }
                let s = slot(name)
                known.insert(s)
                outs.append(s)
            }
            let op = try Plan.makeOperator(node, model: model, constants: ins.map { $0 >= 0 ? constants[$0] : nil })
            warnings += op.warnings.map { "\(node.label): \($0)" }
            // Constant folding: a deterministic node whose inputs are all known now runs once, here.
            if Plan.isFoldable(node), ins.allSatisfy({ $0 < 0 || constants[$0] != nil }) {
                let values = ins.map { $0 >= 0 ? constants[$0] : nil }
                do {
                    let results = try op.run(values)
                    for (k, s) in outs.enumerated() where s >= 0 && k < results.count {
                        constants[s] = results[k]
                        constantBytes += results[k].byteCount
                    }
                    try Plan.checkPlanBudget(constantBytes, "the model's initializers and folded constants")
                    if outs.enumerated().allSatisfy({ $0.element < 0 || $0.offset < results.count }) {
                        foldedNodes += 1
                        continue
                    }
                } catch let error as KernelError {
                    throw RuntimeError.nodeFailed(node: node.label, message: error.message)
                } catch let error as TensorSizeError {
                    throw RuntimeError.nodeFailed(node: node.label, message: error.message)
                }
            }
            pending.append((node, op, ins, outs))
        }
        for output in graph.outputs {
            guard let s = slotOf[output.name], known.contains(s) else { throw RuntimeError.missingGraphOutput(name: output.name) }
            outputSlots.append(s)
        }
        // Liveness: a slot is freed after the last step that reads it, unless it is a graph output or a constant.
        var lastUse: [Int: Int] = [:]
        for (i, p) in pending.enumerated() { for s in p.2 where s >= 0 { lastUse[s] = i } }
        let keep = Set(outputSlots)
        var freesAt = Array(repeating: [Int](), count: pending.count)
        for (s, i) in lastUse where !keep.contains(s) && constants[s] == nil { freesAt[i].append(s) }
        // Outputs nobody reads (e.g. an unused optional mask) are freed right away.
        for (i, p) in pending.enumerated() {
            for s in p.3 where s >= 0 && lastUse[s] == nil && !keep.contains(s) { freesAt[i].append(s) }
        }
        steps = pending.enumerated().map { i, p in
            Step(node: p.0, op: p.1, inputs: p.2, outputs: p.3, frees: freesAt[i])
        }
        slotTemplate = [Tensor?](repeating: nil, count: slotCount)
        for (s, t) in constants { slotTemplate[s] = t; constantLive.add(t) }
    }

    /// Called after each step with the step, its inputs, its outputs and the nanoseconds it took.
    public typealias Observer = (Step, [Tensor?], [Tensor], UInt64) -> Void

    /// Runs the graph on inputs given in graph-input order.
    public func run(_ values: [Tensor], observer: Observer? = nil) throws -> [Tensor] {
        guard values.count == inputs.count else {
            throw RuntimeError.wrongInputCount(expected: inputs.map(\.name), got: values.count)
        }
        var slots = slotTemplate
        var live = constantLive
        for (i, info) in inputs.enumerated() {
            try Plan.check(values[i], against: info)
            slots[inputSlots[i]] = values[i]
            live.add(values[i])
        }
        for step in steps {
            let ins = step.inputs.map { $0 >= 0 ? slots[$0] : nil }
            let outs: [Tensor]
            let start = observer == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            do {
                outs = try step.op.run(ins)
                observer?(step, ins, outs, DispatchTime.now().uptimeNanoseconds - start)
            } catch let error as KernelError {
                throw RuntimeError.nodeFailed(node: step.node.label, message: error.message + Plan.shapesNote(ins))
            } catch let error as TensorSizeError {
                throw RuntimeError.nodeFailed(node: step.node.label, message: error.message + Plan.shapesNote(ins))
            }
            for (k, s) in step.outputs.enumerated() where s >= 0 {
                guard k < outs.count else {
                    throw RuntimeError.nodeFailed(node: step.node.label, message: "produced \(outs.count) outputs, output \(k) is used")
                }
                slots[s] = outs[k]
                live.add(outs[k])
            }
            do {
                try MemoryBudget.current.checkPlan(bytes: live.bytes, what: "the tensors alive after this step")
            } catch {
                throw RuntimeError.nodeFailed(node: step.node.label, message: error.message)
            }
            for s in step.frees {
                if let t = slots[s] { live.remove(t) }
                slots[s] = nil
            }
        }
        return try outputSlots.enumerated().map { k, s in
            guard let t = slots[s] else { throw RuntimeError.missingGraphOutput(name: outputNames[k]) }
            return t
        }
    }

    /// Runs the graph on named inputs; returns outputs by name.
    public func run(named values: [String: Tensor]) throws -> [String: Tensor] {
        let ordered = try inputs.map { info in
            guard let t = values[info.name] else { throw RuntimeError.missingGraphInput(name: info.name) }
            return t
        }
        return Dictionary(uniqueKeysWithValues: zip(outputNames, try run(ordered)))
    }

    // MARK: Building

    static func makeOperator(_ node: Node, model: Model, constants: [Tensor?]) throws -> any Operator {
        guard let opset = model.opset(for: node.domain) else {
            throw RuntimeError.missingDomain(node: node.label, domain: node.domain)
        }
        guard let registration = OperatorRegistry.lookup(domain: node.domain, opType: node.opType, opset: opset) else {
            if OperatorRegistry.knows(domain: node.domain, opType: node.opType) {
                throw RuntimeError.unsupportedOpset(node: node.label, opType: node.opType, domain: node.domain, opset: opset)
            }
            throw RuntimeError.unknownOperator(node: node.label, opType: node.opType, domain: node.domain, opset: opset)
        }
        do {
            return try registration.make(OperatorContext(node: node, opset: opset, constants: constants, opsets: model.opsets))
        } catch let error as KernelError {
            throw RuntimeError.nodeFailed(node: node.label, message: error.message)
        } catch let error as TensorSizeError {
            throw RuntimeError.nodeFailed(node: node.label, message: error.message)
        }
    }

    static let nondeterministic: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"]

    static func isFoldable(_ node: Node) -> Bool { !nondeterministic.contains(node.opType) }

    /// Kahn's algorithm over value dependencies; ties keep file order. A leftover node means a cycle.
    static func topologicalOrder(_ graph: Graph) throws -> [Int] {
        var producer: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            for o in node.outputs where !o.isEmpty { producer[o] = i }
        }
        let n = graph.nodes.count
        var indegree = Array(repeating: 0, count: n)
        var consumers = Array(repeating: [Int](), count: n)
        for (i, node) in graph.nodes.enumerated() {
            for name in Set(node.inputs) where !name.isEmpty {
                guard let p = producer[name] else { continue }
                indegree[i] += 1
                // A node reading its own output never becomes ready: reported as a cycle below.
                if p != i { consumers[p].append(i) }
            }
        }
        var ready = (0..<n).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(n)
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i] {
                indegree[c] -= 1
                if indegree[c] == 0 { ready.append(c); ready.sort(by: >) }
            }
        }
        if order.count < n {
            let stuck = Set(0..<n).subtracting(order).sorted().map { graph.nodes[$0].label }
            throw RuntimeError.cycle(nodes: stuck)
        }
        return order
    }

    static func check(_ t: Tensor, against info: ValueInfo) throws {
        if let dtype = info.dtype, dtype != t.dtype {
            throw RuntimeError.badGraphInput(name: info.name,
                reason: "expects \(info.typeDescription), got \(t.dtype) \(shapeString(t.shape))")
        }
        guard let shape = info.shape else { return }
        guard shape.count == t.rank else {
            throw RuntimeError.badGraphInput(name: info.name,
                reason: "expects rank \(shape.count) \(info.typeDescription), got \(t.dtype) \(shapeString(t.shape))")
        }
        for (d, n) in zip(shape, t.shape) {
            if case .fixed(let want) = d, want != n {
                throw RuntimeError.badGraphInput(name: info.name,
                    reason: "expects \(info.typeDescription), got \(t.dtype) \(shapeString(t.shape))")
            }
        }
    }

    static func checkPlanBudget(_ bytes: Int, _ what: String) throws {
        do {
            try MemoryBudget.current.checkPlan(bytes: bytes, what: what)
        } catch {
            throw RuntimeError.overBudget(message: error.message)
        }
    }

    static func shapesNote(_ inputs: [Tensor?]) -> String {
        let shapes = inputs.map { $0.map { "\($0.dtype)\(shapeString($0.shape))" } ?? "-" }
        return " (inputs: \(shapes.joined(separator: ", ")))"
    }
}

/// Bytes held by the tensors a run keeps alive, each storage counted once however many values share it
/// (Reshape and Identity outputs view their input's storage).
struct LiveBytes {
    private var references: [ObjectIdentifier: Int] = [:]
    private(set) var bytes = 0

    mutating func add(_ t: Tensor) {
        let id = ObjectIdentifier(t.storage)
        if references[id, default: 0] == 0 { bytes += t.storage.byteCount }
        references[id, default: 0] += 1
    }

    mutating func remove(_ t: Tensor) {
        let id = ObjectIdentifier(t.storage)
        guard let n = references[id] else { return }
        if n == 1 {
            references[id] = nil
            bytes -= t.storage.byteCount
        } else {
            references[id] = n - 1
        }
    }
}
