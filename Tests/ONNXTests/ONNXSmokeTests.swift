import Testing
@testable import ONNX

@Test func ONNXModuleLoads() {
    #expect(Bool(true))
}
