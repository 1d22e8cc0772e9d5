import Foundation
import Testing
import Runtime

/// Golden cases committed under Tests/Fixtures (each folder says which tools/ script made it):
/// parity models exported from PyTorch with onnxruntime's outputs, checked here without Python.
let fixturesRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures").path

func fixtureCases(_ suite: String) -> [String] {
    let dir = fixturesRoot + "/" + suite
    guard let cases = try? BackendTestCase.discover([dir]) else { return [] }
    return cases.map(\.folder)
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
