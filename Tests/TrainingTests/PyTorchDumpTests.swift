import Foundation
import ONNX
import Tensor
import Testing
@testable import Training

/// Test hook for tools/pytorch_adam_check.py: with MANGACOLOR_ADAM_DUMP=DIR set, trains a tiny U-Net
/// generator alone (mean L1 to a target, Adam lr 1e-3, betas 0.5/0.999) for 3 steps and writes to DIR:
/// `config.json`, `input.pb`, `target.pb`, `output0.pb` (forward with the initial weights),
/// `G0.onnx`, `G1.onnx`, `G3.onnx` (weights after 0, 1, 3 steps), and `grad/<param>.pb` (step-1 gradients).
/// Without the variable it only checks that the loss drops (so the hook stays compiled and exercised).
@Test func pytorchAdamDump() throws {
    let dir = ProcessInfo.processInfo.environment["MANGACOLOR_ADAM_DUMP"]
    let config = GeneratorConfiguration(levels: [[4, 6], [8], [8]])
    var rng = RandomGenerator(seed: 11)
    let g = UNetGenerator(config, rng: &rng)
    let x = randomTensor([1, 1, 8, 8], seed: 12, std: 0.5)
    let y = randomTensor([1, 3, 8, 8], seed: 13, std: 0.5)
    let adam = Adam(parameters: g.parameters, learningRate: 1e-3, beta1: 0.5, beta2: 0.999, epsilon: 1e-8)

    func write(_ data: Data, _ name: String) throws {
        guard let dir else { return }
        try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent(name))
    }
    if let dir {
        try FileManager.default.createDirectory(atPath: dir + "/grad", withIntermediateDirectories: true)
        try write(try JSONEncoder().encode(config), "config.json")
        try write(x.tensorProtoBytes(name: "input"), "input.pb")
        try write(y.tensorProtoBytes(name: "target"), "target.pb")
        try write(g.infer(x).tensorProtoBytes(name: "output"), "output0.pb")
        try write(g.exportModel().serialized(), "G0.onnx")
        // Both discriminators, for the onnxruntime check of the exporter.
        for kind in DiscriminatorKind.allCases {
            let d = Discriminator(kind == .seed ? DiscriminatorConfiguration(kind: .seed, imageSize: 16, plain: [4], strided: [8, 8], fullyConnected: [16])
                                                : DiscriminatorConfiguration(kind: .patch, plain: [8], strided: [4, 8]), rng: &rng)
            let pair = randomTensor([2, 4, 16, 16], seed: 14)
            try write(d.exportModel().serialized(), "D_\(kind).onnx")
            try write(pair.tensorProtoBytes(name: "input"), "D_\(kind)_input.pb")
            try write(d.infer(pair).tensorProtoBytes(name: "output"), "D_\(kind)_output.pb")
        }
    }
    var losses: [Float] = []
    for step in 1...3 {
        let tape = Tape()
        let loss = tape.l1(g(Variable(x), ForwardContext(tape: tape, training: true)), target: y)
        losses.append(loss.value.floats[0])
        tape.backward(loss)
        if step == 1 {
            for p in g.parameters { try write(p.grad!.tensorProtoBytes(name: p.name), "grad/\(p.name).pb") }
        }
        adam.update()
        if step == 1 || step == 3 { try write(g.exportModel().serialized(), "G\(step).onnx") }
    }
    #expect(losses[2] < losses[0], "L1 \(losses)")
}
