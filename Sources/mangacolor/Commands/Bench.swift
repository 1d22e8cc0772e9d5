import ArgumentParser
import Foundation
import ONNX
import Runtime
import Tensor

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model on random input: prints `min X ms, median Y ms, Z GFLOP/s` and peak memory.",
        discussion: "GFLOP/s counts the multiply-adds of Conv, ConvTranspose, Gemm and MatMul (2 FLOP each) at the given shape. Use a release build (swift build -c release).")

    @Argument(help: "The ONNX model file.")
    var model: String

    @Option(help: "Input shape like 1x1x512x512 (for the first graph input; float32).")
    var shape: String

    @Option(help: "Timed runs after one warm-up run.")
    var runs: Int = 5

    @Flag(help: "Also print where the time goes: per operator type, its share of the timed runs and the median per run.")
    var profile = false

    @Option(help: "Also print the N slowest nodes (median ms per run) with their input shapes.")
    var top: Int = 0

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard top >= 0 else { throw ValidationError("--top must be 0 or more") }
        guard let dims = parseShape(shape) else { throw ValidationError("--shape must look like 1x1x512x512") }
        do {
            try MemoryBudget.current.check(shape: dims, dtype: .float32, what: "the --shape input")
        } catch {
            throw ValidationError(error.message)
        }
    }

    @OptionGroup var memory: MemoryOptions

    func run() throws {
        memory.apply()
        let plan = try loadPlan(model)
        let dims = parseShape(shape)!
        guard plan.inputs.count >= 1 else { throw CLIError("\(model) has no inputs to feed") }
        var rng = SystemRandomNumberGenerator()
        let x = Tensor(shape: dims, floats: (0..<dims.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &rng) })
        let extra = plan.inputs.dropFirst().map { info -> Tensor in
            Tensor(zeros: (info.shape ?? []).map { if case .fixed(let n) = $0 { n } else { 1 } }, dtype: info.dtype ?? .float32)
        }
        let feed = [x] + extra
        // Warm-up run (also pages in weights); it counts the FLOPs as it goes.
        var flops = 0.0
        _ = try plan.run(feed) { step, ins, outs, _ in flops += step.op.flops(inputs: ins, outputs: outs) }
        var times: [Double] = []
        // Per operator type: nanoseconds of each timed run.
        var byOp: [String: [UInt64]] = [:]
        // Per step (by its index in the plan): nanoseconds of each timed run, and its inputs' shapes.
        var byStep: [Int: (label: String, shapes: String, ns: [UInt64])] = [:]
        for run in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            if profile || top > 0 {
                var index = 0
                _ = try plan.run(feed) { step, ins, _, ns in
                    byOp[step.node.opType, default: Array(repeating: 0, count: runs)][run] += ns
                    if top > 0 {
                        let shapes = ins.map { $0.map { $0.shape.map(String.init).joined(separator: "x") } ?? "-" }
                        byStep[index, default: (step.node.label, shapes.joined(separator: ", "),
                                                Array(repeating: 0, count: runs))].ns[run] = ns
                    }
                    index += 1
                }
            } else {
                _ = try plan.run(feed)
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let gflops = flops / (median / 1000) / 1e9
        // Three decimals below 10 ms: tiny models' fixed per-run cost is tens of microseconds.
        let digits = median < 10 ? 3 : 1
        print(String(format: "min %.\(digits)f ms, median %.\(digits)f ms, %.1f GFLOP/s", times[0], median, gflops))
        print(String(format: "%.2f GFLOP per run, %d runs, peak memory %.0f MiB", flops / 1e9, runs, peakMemoryMiB())
            + ", \(kernelThreadCount) threads, matrix products on \(ownGemmKernels ? "mangacolor's AVX-512 kernels" : "OpenBLAS")")
        if profile { printProfile(byOp) }
        if top > 0 { printSlowest(byStep, count: top) }
    }

    /// The `count` steps with the largest median time per run.
    private func printSlowest(_ byStep: [Int: (label: String, shapes: String, ns: [UInt64])], count: Int) {
        let medians = byStep.map { index, entry in (index, entry, Double(entry.ns.sorted()[entry.ns.count / 2]) / 1e6) }
        print("step   median ms  node (input shapes)")
        for (index, entry, median) in medians.sorted(by: { $0.2 > $1.2 }).prefix(count) {
            print(String(format: "%4d  %9.3f  ", index, median) + entry.label + " (" + entry.shapes + ")")
        }
    }

    /// Operator types by total time, with their share and median milliseconds per run.
    private func printProfile(_ byOp: [String: [UInt64]]) {
        let total = Double(byOp.values.joined().reduce(0, +))
        guard total > 0 else { return }
        print("operator                          share   median ms/run")
        for (op, spent) in byOp.sorted(by: { $0.value.reduce(0, +) > $1.value.reduce(0, +) }) {
            let sorted = spent.sorted()
            let median = Double(sorted[sorted.count / 2]) / 1e6
            let share = Double(spent.reduce(0, +)) / total * 100
            print(op.padding(toLength: max(32, op.count), withPad: " ", startingAt: 0) + String(format: " %5.1f%%  %9.2f", share, median))
        }
    }
}

func parseShape(_ text: String) -> [Int]? {
    let parts = text.split(separator: "x").map { Int($0) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
    return parts.map { $0! }
}

/// Peak resident set size of this process (Linux: VmHWM in /proc/self/status).
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}
