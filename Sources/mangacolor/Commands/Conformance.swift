import ArgumentParser
import Foundation
import Runtime

struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run ONNX backend test-case folders (model.onnx + test_data_set_N/input_K.pb, output_K.pb).",
        discussion: "Each argument is a case folder or a folder of case folders. Prints PASS/FAIL per case and ends with `N passed, M failed`.")

    @Argument(help: "Case folders, or folders that contain case folders.")
    var folders: [String]

    @Option(help: "Relative tolerance (the onnx backend default).")
    var rtol: Double = 1e-3

    @Option(help: "Absolute tolerance (the onnx backend default).")
    var atol: Double = 1e-7

    @Flag(help: "Print only failures and the summary.")
    var quiet = false

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        memory.apply()
        let cases = try BackendTestCase.discover(folders)
        var passed = 0, failed = 0
        for testCase in cases {
            do {
                try testCase.run(rtol: rtol, atol: atol)
                passed += 1
                if !quiet { emit("PASS \(testCase.name)") }
            } catch {
                failed += 1
                emit("FAIL \(testCase.name): \(String(describing: error).replacingOccurrences(of: "\n", with: " "))")
            }
        }
        emit("\(passed) passed, \(failed) failed")
    }
}

/// Writes a line to stdout unbuffered, so a log survives a crash of a later case.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
