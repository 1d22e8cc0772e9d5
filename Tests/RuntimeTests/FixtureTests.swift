import Foundation
import Testing
import Runtime

/// Golden cases committed under Tests/Fixtures (each folder says which tools/ script made it):
/// parity models exported from PyTorch with onnxruntime's outputs, checked here without Python.
let fixturesRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// The case folders of one suite. A discovery error or an empty suite becomes one bogus folder naming the
/// problem, so the parameterised test fails instead of running zero cases (moved fixtures must not pass).
func fixtureCases(_ suite: String) -> [String] {
    let dir = fixturesRoot + "/" + suite
    do {
        let cases = try BackendTestCase.discover([dir]).map(\.folder)
        return cases.isEmpty ? ["\(dir) (no test cases found there)"] : cases
    } catch {
        return ["\(dir) (discovery failed: \(error))"]
    }
}

/// The committed suites hold what the README says they hold.
@Test func fixtureSuitesAreComplete() throws {
    #expect(try BackendTestCase.discover([fixturesRoot + "/parity"]).count == 16)
    #expect(try BackendTestCase.discover([fixturesRoot + "/golden"]).count >= 23)
}

@Test(arguments: fixtureCases("parity"))
func parityWithOnnxRuntime(folder: String) throws {
    // DESIGN.md: runtime vs onnxruntime, max abs difference <= 1e-4.
    try BackendTestCase(folder: folder).run(rtol: 0, atol: 1e-4)
}

@Test(arguments: fixtureCases("golden"))
func goldenCases(folder: String) throws {
    // Small single-operator and seed-generator cases with float64 or PyTorch-checked outputs (tools/make-fixtures.py).
    try BackendTestCase(folder: folder).run(rtol: 0, atol: 1e-4)
}
