import ArgumentParser
import Foundation
import ONNX
import Runtime
import Tensor

struct Conformance: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run ONNX backend test-case folders (model.onnx + test_data_set_N/input_K.pb, output_K.pb).",
        discussion: "Each argument is a case folder or a folder of case folders. Prints PASS/FAIL per case and ends with `N passed, M failed`.")

    @Argument(help: "Case folders, or folders that contain case folders.")
    var folders: [String]

    @Option(help: "Relative tolerance (onnx backend default 1e-3).")
    var rtol: Double = 1e-3

    @Option(help: "Absolute tolerance (onnx backend default 1e-7).")
    var atol: Double = 1e-7

    @Flag(help: "Print only failures and the summary.")
    var quiet = false

    func run() throws {
        var cases: [String] = []
        let fm = FileManager.default
        for folder in folders {
            if fm.fileExists(atPath: folder + "/model.onnx") {
                cases.append(folder)
            } else if let entries = try? fm.contentsOfDirectory(atPath: folder) {
                cases += entries.sorted().map { folder + "/" + $0 }.filter { fm.fileExists(atPath: $0 + "/model.onnx") }
            } else {
                throw CLIError("\(folder) is neither a test case (no model.onnx) nor a folder of test cases")
            }
        }
        var passed = 0, failed = 0
        for path in cases {
            let name = (path as NSString).lastPathComponent
            do {
                try runCase(path)
                passed += 1
                if !quiet { emit("PASS \(name)") }
            } catch {
                failed += 1
                emit("FAIL \(name): \(String(describing: error).replacingOccurrences(of: "\n", with: " "))")
            }
        }
        emit("\(passed) passed, \(failed) failed")
    }

    func runCase(_ path: String) throws {
        let plan = try Plan(model: Model(contentsOf: path + "/model.onnx"))
        let fm = FileManager.default
        let sets = try fm.contentsOfDirectory(atPath: path).filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { throw CLIError("no test_data_set_N folders") }
        for set in sets {
            let dir = path + "/" + set
            let files = try fm.contentsOfDirectory(atPath: dir)
            func numbered(_ prefix: String) -> [String] {
                files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
                    .sorted { Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0 < Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0 }
                    .map { dir + "/" + $0 }
            }
            let inputs = try numbered("input_").map { try Tensor(contentsOfFile: $0) }
            let expected = try numbered("output_").map { try Tensor(contentsOfFile: $0) }
            let got = try plan.run(inputs)
            guard got.count >= expected.count else { throw CLIError("\(set): \(got.count) outputs, expected \(expected.count)") }
            for (k, want) in expected.enumerated() {
                if let problem = compare(got[k], want, rtol: rtol, atol: atol) {
                    throw CLIError("\(set) output \(k) (\(plan.outputNames[k])): \(problem)")
                }
            }
        }
    }
}

/// nil when `got` matches `want` (numpy.testing.assert_allclose semantics, NaN equal to NaN), else a
/// readable account of the first differences.
func compare(_ got: Tensor, _ want: Tensor, rtol: Double, atol: Double) -> String? {
    if got.shape != want.shape { return "shape \(shapeString(got.shape)), expected \(shapeString(want.shape))" }
    if got.dtype != want.dtype { return "type \(got.dtype), expected \(want.dtype)" }
    if want.dtype == .string { return got.strings == want.strings ? nil : "strings differ: got \(got.strings.prefix(4)), want \(want.strings.prefix(4))" }
    let g = got.doubles(), w = want.doubles()
    var bad: [Int] = []
    var maxAbs = 0.0
    for i in 0..<g.count {
        let a = g[i], b = w[i]
        if a.isNaN && b.isNaN { continue }
        if a == b { continue }
        let diff = abs(a - b)
        if diff.isNaN || diff > atol + rtol * abs(b) {
            bad.append(i)
            if diff.isFinite { maxAbs = max(maxAbs, diff) } else { maxAbs = .infinity }
        }
    }
    if bad.isEmpty { return nil }
    let pairs = bad.prefix(4).map { "[\($0)] got \(g[$0]) want \(w[$0])" }.joined(separator: ", ")
    return "\(bad.count) of \(g.count) values differ (max abs \(maxAbs)): \(pairs)"
}

/// Writes a line to stdout unbuffered, so a log survives a crash of a later case.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
