import Foundation
import ONNX
import Runtime
import Tensor

// libFuzzer target: ONNX decode + shape inference + plan + run, the path of `mangacolor inspect --shapes
// --plan` and `mangacolor run`.
//
// The fuzz input is a serialized ModelProto. Graph inputs are fed tensors of their declared shapes
// (symbolic or unknown dims as 2, an undeclared shape as [2, 3]) and element types, filled with small values
// from a generator seeded by the input's bytes, so a crash reproduces from the file alone. Models whose
// inputs would hold more than `maxInputElements` are decoded and planned but not run. Seeds that carry their
// test inputs as initializers (tools/fuzz/make-libfuzzer-seeds.py) fold to constants at plan time instead.
//
// An error thrown anywhere is a correct outcome; a trap, a signal, an allocation past libFuzzer's
// -rss_limit_mb or a unit past -timeout is a finding. The memory budget is set well below the RSS limit, so
// an allocation the budget should have refused shows up as an RSS finding rather than an error.

private let maxInputElements = 1 << 16

/// FUZZ_WRITE_INPUTS=DIR: also write the generated inputs as DIR/input_K.pb, which is how a crasher becomes
/// a Tests/Fixtures/fuzz case (tools/fuzz/keep-onnx-crasher.sh).
private let writeInputsFolder = ProcessInfo.processInfo.environment["FUZZ_WRITE_INPUTS"]

/// SplitMix64: deterministic values for the inputs, seeded from the fuzz input's bytes.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// FNV-1a over the input.
private func seed(of data: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
}

/// A tensor for a declared input, or nil when its shape is too large to feed.
private func input(for info: ValueInfo, rng: inout SplitMix) -> Tensor? {
    let shape = info.shape.map { dims in
        dims.map { d -> Int in
            if case .fixed(let n) = d { return n }
            return 2
        }
    } ?? [2, 3]
    guard let count = checkedElementCount(shape), count <= maxInputElements else { return nil }
    let dtype = info.dtype ?? .float32
    if dtype == .string {
        return Tensor(shape: shape, strings: (0 ..< count).map { _ in String(rng.next() % 100) })
    }
    // Small integers (indices, axes, shape entries stay in range often enough) for integer and bool
    // inputs; values in [-2, 2) for floating-point ones.
    let integral = !dtype.isFloatingPoint
    let values = (0 ..< count).map { _ -> Float in
        let r = rng.next()
        return integral ? Float(Int(r % 5) - 1) : Float(Int(r % 4096) - 2048) / 1024
    }
    return try? Tensor(shape: shape, floats: values).converted(to: dtype)
}

private func fuzzOne(_ data: UnsafeBufferPointer<UInt8>) {
    guard let model = try? Model(bytes: Data(buffer: data)) else { return }
    _ = ShapeInference.infer(model)
    guard let plan = try? Plan(model: model) else { return }
    var rng = SplitMix(state: seed(of: data))
    var tensors: [Tensor] = []
    for info in plan.inputs {
        guard let t = input(for: info, rng: &rng) else { return }
        tensors.append(t)
    }
    if let folder = writeInputsFolder {
        for (k, t) in tensors.enumerated() {
            try? t.write(to: folder + "/input_\(k).pb", format: .pb, name: plan.inputs[k].name)
        }
    }
    _ = try? plan.run(tensors)
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    // One tensor at most 64 MiB, one model's live tensors 256 MiB: far below the script's 4096 MB RSS
    // limit, so an allocation the budget misses stands out; and small enough that legitimate work on the
    // largest tensors allowed stays well inside the 10 s timeout on a loaded 2-core machine.
    MemoryBudget.setProcessBudget(MemoryBudget(tensorBytes: 64 << 20, planBytes: 256 << 20))
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let start else { return 0 }
    fuzzOne(UnsafeBufferPointer(start: start, count: count))
    return 0
}
