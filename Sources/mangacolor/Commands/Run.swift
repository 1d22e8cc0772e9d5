import ArgumentParser
import Foundation
import ONNX
import Runtime
import Tensor

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run any ONNX model on tensor files.",
        discussion: """
        Inputs are given in graph-input order, each a .npy file or an ONNX TensorProto .pb file. \
        Writes DIR/output_K.npy (or .pb) for each graph output K.
        """)

    @Argument(help: "The ONNX model file.")
    var model: String

    @Option(name: .customLong("input"), help: "An input tensor file (.npy or .pb); repeat once per graph input, in order.")
    var inputs: [String] = []

    @Option(name: .customLong("output-dir"), help: "Folder for output_K files (created if missing).")
    var outputDir: String

    @Option(help: "Output file format: npy or pb.")
    var format: TensorFileFormat = .npy

    func validate() throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: outputDir, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("--output-dir \(outputDir) is a file; give a folder (it is created if missing)")
        }
    }

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        memory.apply()
        let plan = try loadPlan(model)
        guard inputs.count == plan.inputs.count else {
            throw CLIError("\(model) takes \(plan.inputs.count) input(s) (\(plan.inputs.map(\.name).joined(separator: ", "))); \(inputs.count) --input given")
        }
        let tensors = try inputs.map { try Tensor(contentsOfFile: $0) }
        let outputs = try plan.run(tensors)
        do {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the output folder \(outputDir): a parent is a file, or the disk is read-only or not writable")
        }
        for (k, t) in outputs.enumerated() {
            let path = (outputDir as NSString).appendingPathComponent("output_\(k).\(format.rawValue)")
            try t.write(to: path, format: format, name: plan.outputNames[k])
            print("\(path): \(plan.outputNames[k]) \(t.dtype) \(shapeString(t.shape))")
        }
    }
}

extension TensorFileFormat: ExpressibleByArgument {}

/// A user-facing error: printed as is.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The plan of the model at `path` (after `edit`, which may change the decoded model), its operators'
/// warnings printed to stderr.
func loadPlan(_ path: String, edit: (inout Model) throws -> Void = { _ in }) throws -> Plan {
    var model = try Model(contentsOf: path)
    try edit(&model)
    let plan = try Plan(model: model)
    for warning in plan.warnings { writeStderr("warning: \(path): \(warning)\n") }
    return plan
}
