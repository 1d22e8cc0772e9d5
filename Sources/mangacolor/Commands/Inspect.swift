import ArgumentParser
import Foundation
import ONNX
import Runtime
import Tensor

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's opsets, inputs, outputs, operator counts and parameter count.")

    @Argument(help: "The ONNX model file.")
    var model: String

    @Flag(help: "Print the inferred (symbolic) output shape of every node.")
    var shapes = false

    @Flag(help: "Also build the execution plan and report what the runtime would do (unsupported operators, folded constants).")
    var plan = false

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        memory.apply()
        let m = try Model(contentsOf: model)
        let g = m.graph
        print("model: \(model)")
        print("ir_version: \(m.irVersion)   producer: \(m.producerName) \(m.producerVersion)")
        print("opsets: " + m.opsets.sorted { $0.key < $1.key }
            .map { "\($0.key.isEmpty ? "ai.onnx" : $0.key) \($0.value)" }.joined(separator: ", "))
        print("inputs:")
        for v in g.runtimeInputs { print("  \(v.name): \(v.typeDescription)") }
        let inferred = ShapeInference.infer(m)
        func shapeText(_ name: String) -> String {
            inferred[name].map { "[" + $0.map(\.description).joined(separator: ",") + "]" } ?? "[unknown]"
        }
        print("outputs:")
        for v in g.outputs { print("  \(v.name): \(v.typeDescription)   inferred \(shapeText(v.name))") }
        if shapes {
            print("value shapes:")
            for n in g.nodes { for o in n.outputs where !o.isEmpty { print("  \(n.label) -> \(o): \(shapeText(o))") } }
        }
        var counts: [String: Int] = [:]
        for n in g.nodes { counts[(n.domain.isEmpty ? "" : n.domain + ".") + n.opType, default: 0] += 1 }
        print("operators (\(g.nodes.count) nodes):")
        for (op, n) in counts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            let known = OperatorRegistry.knows(domain: "", opType: op) || op.contains(".")
            print("  \(op.padding(toLength: max(24, op.count), withPad: " ", startingAt: 0)) \(n)\(known ? "" : "   (not implemented)")")
        }
        let params = g.initializers.values.filter { $0.dtype.isFloatingPoint }.reduce(0) { $0 + $1.count }
        let bytes = g.initializers.values.reduce(0) { $0 + $1.byteCount }
        print("parameters: \(params) (\(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB of initializers)")
        if plan {
            let p = try Plan(model: m)
            print("plan: \(p.steps.count) steps, \(p.foldedNodes) nodes folded into constants")
            for warning in p.warnings { print("warning: \(warning)") }
        }
    }
}
