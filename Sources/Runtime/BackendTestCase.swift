import Foundation
import ONNX
import Tensor

/// An ONNX backend test case folder: `model.onnx` and `test_data_set_N/{input_K,output_K}.pb`.
/// Used by `mangacolor conformance` and by the fixture tests (`Tests/Fixtures`).
public struct BackendTestCase: Sendable {
    public let folder: String
    public var name: String { (folder as NSString).lastPathComponent }

    public init(folder: String) { self.folder = folder }

    /// Case folders under each path: a path holding model.onnx is a case; otherwise its sub-folders are searched.
    public static func discover(_ paths: [String]) throws -> [BackendTestCase] {
        let fm = FileManager.default
        var cases: [BackendTestCase] = []
        for path in paths {
            if fm.fileExists(atPath: path + "/model.onnx") {
                cases.append(BackendTestCase(folder: path))
            } else if let entries = try? fm.contentsOfDirectory(atPath: path) {
                cases += entries.sorted().map { path + "/" + $0 }
                    .filter { fm.fileExists(atPath: $0 + "/model.onnx") }.map(BackendTestCase.init)
            } else {
                throw ONNXError.unreadable(path: path, reason: "neither a test case (no model.onnx) nor a folder of test cases")
            }
        }
        return cases
    }

    /// Runs every data set; throws `CaseFailure` describing the first mismatch.
    public func run(rtol: Double = 1e-3, atol: Double = 1e-7) throws {
        let plan = try Plan(model: Model(contentsOf: folder + "/model.onnx"))
        let fm = FileManager.default
        let sets = try fm.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("test_data_set_") }.sorted()
        guard !sets.isEmpty else { throw CaseFailure(message: "no test_data_set_N folders in \(folder)") }
        for set in sets {
            let dir = folder + "/" + set
            let files = try fm.contentsOfDirectory(atPath: dir)
            func numbered(_ prefix: String) -> [String] {
                files.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".pb") }
                    .sorted { Int($0.dropFirst(prefix.count).dropLast(3)) ?? 0 < Int($1.dropFirst(prefix.count).dropLast(3)) ?? 0 }
                    .map { dir + "/" + $0 }
            }
            let inputs = try numbered("input_").map { try Tensor(contentsOfFile: $0) }
            let expected = try numbered("output_").map { try Tensor(contentsOfFile: $0) }
            let got = try plan.run(inputs)
            guard got.count >= expected.count else {
                throw CaseFailure(message: "\(set): \(got.count) outputs, expected \(expected.count)")
            }
            for (k, want) in expected.enumerated() {
                if let problem = differences(got: got[k], want: want, rtol: rtol, atol: atol) {
                    throw CaseFailure(message: "\(set) output \(k) (\(plan.outputNames[k])): \(problem)")
                }
            }
        }
    }
}

public struct CaseFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// nil when `got` matches `want` (numpy.testing.assert_allclose semantics: |g - w| <= atol + rtol * |w|,
/// NaN equals NaN), else a readable account: count, max abs difference, the first got/want pairs.
public func differences(got: Tensor, want: Tensor, rtol: Double, atol: Double) -> String? {
    if got.shape != want.shape { return "shape \(shapeString(got.shape)), expected \(shapeString(want.shape))" }
    if got.dtype != want.dtype { return "type \(got.dtype), expected \(want.dtype)" }
    if want.dtype == .string {
        return got.strings == want.strings ? nil : "strings differ: got \(got.strings.prefix(4)), want \(want.strings.prefix(4))"
    }
    let g = got.doubles(), w = want.doubles()
    var bad: [Int] = []
    var maxAbs = 0.0
    for i in 0..<g.count {
        let a = g[i], b = w[i]
        if a == b || (a.isNaN && b.isNaN) { continue }
        let diff = abs(a - b)
        if diff.isNaN || diff > atol + rtol * abs(b) {
            bad.append(i)
            maxAbs = diff.isFinite ? max(maxAbs, diff) : .infinity
        }
    }
    if bad.isEmpty { return nil }
    let pairs = bad.prefix(4).map { "[\($0)] got \(g[$0]) want \(w[$0])" }.joined(separator: ", ")
    return "\(bad.count) of \(g.count) values differ (max abs \(maxAbs)): \(pairs)"
}

/// Two tensors that cannot be compared element by element.
public struct ComparisonError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

/// Largest absolute difference between two numeric tensors of the same shape (parity checks, `verify`).
/// NaN when any element of either is NaN (so `<= tolerance` fails; Swift's `max(x, .nan)` would drop it),
/// infinity when one side is infinite and the other not. Throws on a shape mismatch and on empty tensors,
/// where there is nothing to compare and a check would pass vacuously.
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    guard a.shape == b.shape else {
        throw ComparisonError(message: "cannot compare shapes \(shapeString(a.shape)) and \(shapeString(b.shape))")
    }
    guard a.count > 0 else {
        throw ComparisonError(message: "both tensors are empty (\(shapeString(a.shape))): nothing to compare")
    }
    var worst = 0.0
    for (x, y) in zip(a.doubles(), b.doubles()) {
        if x == y { continue }  // equal infinities included
        let d = abs(x - y)
        if d.isNaN { return .nan }
        if d > worst { worst = d }
    }
    return worst
}
