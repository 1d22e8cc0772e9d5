import Foundation
import Testing
import ONNX
import Runtime
import Tensor

// Crashers found by tools/fuzz/fuzz-onnx.py and the libFuzzer target (tools/fuzz/run-libfuzzer.sh onnx),
// kept as regression cases (Tests/Fixtures/fuzz/README.md lists each one's seed case and mutation). Each
// folder holds model.onnx and input_K.pb; shape inference, planning and running it may succeed or throw, but
// must not crash, hang or allocate past the memory budget.

let fuzzFolder = fixturesRoot + "/fuzz"

func fuzzCases() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: fuzzFolder)) ?? []
    let cases = names.filter { FileManager.default.fileExists(atPath: fuzzFolder + "/" + $0 + "/model.onnx") }.sorted()
    return cases.isEmpty ? ["(no cases in \(fuzzFolder))"] : cases
}

@Test(arguments: fuzzCases())
func fuzzCrasherStaysFixed(name: String) throws {
    let folder = fuzzFolder + "/" + name
    #expect(FileManager.default.fileExists(atPath: folder + "/model.onnx"), "\(folder) is missing")
    var inputs: [Tensor] = []
    while case let path = folder + "/input_\(inputs.count).pb", FileManager.default.fileExists(atPath: path) {
        inputs.append(try Tensor(contentsOfFile: path))
    }
    do {
        let model = try Model(contentsOf: folder + "/model.onnx")
        _ = ShapeInference.infer(model)
        let plan = try Plan(model: model)
        _ = try plan.run(inputs)
    } catch {
        #expect("\(error)".count > 10, "\(name): \(error)")
    }
}

@Test func fuzzRegressionsArePresent() {
    #expect(fuzzCases().count >= 11)
}
