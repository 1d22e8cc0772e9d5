import Foundation
import Testing
import ONNX
@testable import Runtime
import Tensor

// Crafted ONNX files (tools/make-hostile-models.py, listed with reasons in Tests/Fixtures/hostile/README.md):
// each must be refused with an error at decode, plan or run. A crash would take the whole test runner
// down, which is the failure this suite guards against.

let hostileFolder = fixturesRoot + "/hostile"

func hostileModels() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: hostileFolder)) ?? []
    let models = names.filter { $0.hasSuffix(".onnx") }.sorted()
    return models.isEmpty ? ["(no .onnx files in \(hostileFolder))"] : models
}

/// Zeros of a declared input shape (symbolic dimensions become 1).
func zeroInput(_ info: ValueInfo) -> Tensor {
    let shape = (info.shape ?? []).map { if case .fixed(let n) = $0 { n } else { 1 } }
    return Tensor(zeros: shape, dtype: info.dtype ?? .float32)
}

/// Decodes, infers shapes (what `inspect --shapes` does), plans and runs; returns the error it threw.
func firstError(loading path: String) -> (any Error)? {
    do {
        let model = try Model(contentsOf: path)
        _ = ShapeInference.infer(model)
        let plan = try Plan(model: model)
        _ = try plan.run(plan.inputs.map(zeroInput))
        return nil
    } catch {
        return error
    }
}

@Test(arguments: hostileModels())
func hostileModelIsRefused(name: String) {
    let error = firstError(loading: hostileFolder + "/" + name)
    #expect(error != nil, "\(name) decoded, planned and ran without an error")
    if let error {
        let text = "\(error)"
        // A sentence for a user, not a Swift dump of an enum.
        #expect(text.count > 20 && !text.contains("Error("), "\(name): \(text)")
    }
}

@Test func hostileSuiteIsComplete() {
    #expect(hostileModels().count >= 35)
}

/// Attribute errors come from building the plan, before any input is given, and name node, attribute, value.
@Test(arguments: [
    ("conv_pads_huge", "Conv \"c\": attribute \"pads\" has value 4611686018427387904"),
    ("conv_dilations_huge", "Conv \"c\": attribute \"dilations\" has value 4611686018427387904"),
    ("conv_transpose_strides_huge", "ConvTranspose \"ct\": attribute \"strides\" has value 4611686018427387904"),
    ("conv_transpose_strides_negative", "attribute \"strides\" has value -4611686018427387904"),
    ("conv_transpose_output_padding_huge", "attribute \"output_padding\" has value 4611686018427387904"),
    ("max_pool_huge", "MaxPool \"p\": attribute \"strides\""),
    ("constant_of_shape_huge_folded", "ConstantOfShape \"cos\": the output would have shape [100000,100000,100]"),
    ("expand_huge_folded", "Expand \"e\": the output would have shape [100000,100000,100]"),
    ("range_overflow", "Range \"r\""),
])
func hostileAttributeFailsWhenPlanning(name: String, message: String) throws {
    let model = try Model(contentsOf: hostileFolder + "/" + name + ".onnx")
    #expect { _ = try Plan(model: model) } throws: { "\($0)".contains(message) }
}

/// A tensor declaring 10^12 elements with 16 bytes is refused by the decoder, before anything is allocated
/// (this used to abort the process trying to allocate 4 TB, `inspect` included).
@Test(arguments: ["initializer_lying_raw_data", "initializer_no_data", "constant_lying_raw_data", "initializer_dims_overflow"])
func lyingTensorFailsWhenDecoding(name: String) {
    #expect { _ = try Model(contentsOf: hostileFolder + "/" + name + ".onnx") } throws: { error in
        let text = "\(error)"
        return text.contains("[100000, 100000, 100]") || text.contains("64 bits")
    }
}

/// The memory budget is per task: a small one refuses a 4 MB ConstantOfShape that the default admits.
@Test func memoryBudgetIsEnforcedPerTask() throws {
    var g = Graph(name: "cos")
    g.addInitializer("s", Tensor(shape: [1], scalars: [Int64(1 << 20)]))
    g.nodes = [Node(name: "cos", opType: "ConstantOfShape", inputs: ["s"], outputs: ["y"])]
    g.outputs = [ValueInfo(name: "y", dtype: .float32, shape: nil)]
    let model = Model(graph: g)
    _ = try Plan(model: model)
    let small = MemoryBudget(tensorBytes: 1 << 20, planBytes: 1 << 30)
    try MemoryBudget.$override.withValue(small) {
        #expect { _ = try Plan(model: model) } throws: { "\($0)".contains("4.2 MB, over the memory budget of 1.0 MB") }
    }
    let tightPlan = MemoryBudget(tensorBytes: 1 << 30, planBytes: 1 << 20)
    try MemoryBudget.$override.withValue(tightPlan) {
        #expect { _ = try Plan(model: model) } throws: { "\($0)".contains("for one model") }
    }
}

/// Shape inference on out-of-range attributes gives unknown dimensions instead of trapping.
@Test func shapeInferenceSurvivesHugeAttributes() throws {
    for name in ["conv_dilations_huge", "conv_pads_huge", "conv_transpose_strides_huge", "pad_huge", "max_pool_huge"] {
        let model = try Model(contentsOf: hostileFolder + "/" + name + ".onnx")
        let shapes = ShapeInference.infer(model)
        #expect(shapes["y"] == nil || shapes["y"]!.contains(.unknown), "\(name): \(shapes["y"] ?? [])")
    }
}

@Test func maxAbsDifferenceReportsNaNAndRefusesMismatches() throws {
    let a = Tensor(shape: [3], floats: [1, 2, 3])
    #expect(try maxAbsDifference(a, Tensor(shape: [3], floats: [1, .nan, 3])).isNaN)
    #expect(try maxAbsDifference(Tensor(shape: [3], floats: [.nan, 2, 3]), a).isNaN)
    #expect(try maxAbsDifference(a, Tensor(shape: [3], floats: [1, 2, .infinity])) == .infinity)
    #expect(try maxAbsDifference(a, Tensor(shape: [3], floats: [1, 2, 3.5])) == 0.5)
    #expect(throws: ComparisonError.self) { try maxAbsDifference(a, Tensor(shape: [1, 3], floats: [1, 2, 3])) }
    #expect(throws: ComparisonError.self) { try maxAbsDifference(Tensor(shape: [0], floats: []), Tensor(shape: [0], floats: [])) }
}
