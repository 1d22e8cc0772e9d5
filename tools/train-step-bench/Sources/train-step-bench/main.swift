// Times GAN training steps in a release build: swift run -c release --package-path tools/train-step-bench train-step-bench [SIZE [STEPS [seed|patch]]]
// Prints wall and process CPU seconds per step (G+D, batch 1, seed widths). See the trainer report for numbers.
import Foundation
import Tensor
import Training

let size = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 256
let steps = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 3
let kind = CommandLine.arguments.count > 3 ? DiscriminatorKind(rawValue: CommandLine.arguments[3])! : .seed
let config = TrainingConfiguration(imageSize: size, discriminator: kind)
let trainer = try GANTrainer(configuration: config)
var rng = RandomGenerator(seed: 1)
let x = rng.normal([1, 1, size, size], std: 0.5), y = rng.normal([1, 3, size, size], std: 0.5)
let t0 = Date()
let gx = trainer.generator.infer(x)
print("G forward (inference) \(size)x\(size): \(String(format: "%.3f", Date().timeIntervalSince(t0))) s, out \(gx.shape)")
func cpu() -> Double {
    var u = rusage(); getrusage(Int32(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}
for _ in 0..<steps {
    let c0 = cpu()
    let m = try trainer.step(batch: TrainingBatch(input: x, target: y))
    print("  cpu \(String(format: "%.3f", cpu() - c0)) s")
    print("step \(m.step): \(String(format: "%.3f", m.seconds)) s (G+D, batch 1, \(size)x\(size), \(kind)); L1 \(m.l1) D \(m.discriminatorLoss)")
}
