import Foundation
import Testing
import ONNX
@testable import Runtime
import Tensor

/// Builds the registered operator for `opType` at `opset` and runs it once.
private func run(_ opType: String, _ inputs: [Tensor?], opset: Int = 17,
                 attributes: [String: Attribute] = [:]) throws -> Tensor {
    let node = Node(name: "t", opType: opType, inputs: inputs.indices.map { "in\($0)" }, outputs: ["out"],
                    attributes: attributes)
    guard let registration = OperatorRegistry.lookup(domain: "", opType: opType, opset: opset) else {
        throw KernelError("no registration for \(opType) at opset \(opset)")
    }
    let op = try registration.make(OperatorContext(node: node, opset: opset, constants: []))
    return try op.run(inputs)[0]
}

private func f32(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, floats: values) }

private func close(_ got: [Double], _ want: [Double], _ tol: Double = 1e-6) -> Bool {
    got.count == want.count && zip(got, want).allSatisfy { g, w in
        (g.isNaN && w.isNaN) || g == w || abs(g - w) <= tol * max(1, abs(w))
    }
}

// MARK: Unary

@Test func unaryMathValues() throws {
    let x = f32([4], [0.25, 1, 4, 9])
    #expect(try run("Sqrt", [x]).doubles() == [0.5, 1, 2, 3])
    #expect(try run("Reciprocal", [x]).doubles() == [4, 1, 0.25, Double(Float(1) / Float(9))])
    #expect(close(try run("Log", [x]).doubles(), [log(0.25), 0, log(4), log(9)]))
    #expect(close(try run("Erf", [f32([3], [-1, 0, 0.5])]).doubles(), [-0.8427007929497149, 0, 0.5204998778130465]))
    // NOTE: Round is half to even.
    #expect(try run("Round", [f32([7], [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6])]).doubles() == [0, 2, 2, -0, -2, 2, -3])
    #expect(try run("Floor", [f32([2], [-1.5, 1.5])]).doubles() == [-2, 1])
    #expect(try run("Ceil", [f32([2], [-1.5, 1.5])]).doubles() == [-1, 2])
}

@Test func unaryIntegerAndPredicates() throws {
    let i = Tensor(shape: [4], scalars: [Int8(-128), -3, 0, 5])
    #expect(try run("Abs", [i]).ints() == [-128, 3, 0, 5])   // wraps like numpy
    #expect(try run("Neg", [i]).ints() == [-128, 3, 0, -5])
    #expect(try run("Sign", [i]).ints() == [-1, -1, 0, 1])
    let s = try run("Sign", [f32([4], [-2, 0, .nan, 3])]).doubles()
    #expect(s[0] == -1 && s[1] == 0 && s[2].isNaN && s[3] == 1)
    let special = f32([4], [.infinity, -.infinity, .nan, 1])
    #expect(try run("IsNaN", [special]).scalars(as: Bool.self) == [false, false, true, false])
    #expect(try run("IsInf", [special]).scalars(as: Bool.self) == [true, true, false, false])
    #expect(try run("IsInf", [special], attributes: ["detect_negative": .int(0)]).scalars(as: Bool.self)
        == [true, false, false, false])
    #expect(try run("BitwiseNot", [Tensor(shape: [2], scalars: [UInt8(0), 0xF0])], opset: 18).ints() == [255, 15])
    #expect(throws: KernelError.self) { try run("Sqrt", [Tensor(shape: [1], scalars: [Int32(4)])]) }
}

@Test func unaryHalfPrecisionRoundsBack() throws {
    let h = Tensor(shape: [2], scalars: [Float16(2), Float16(0.5)])
    let r = try run("Sqrt", [h])
    #expect(r.dtype == .float16 && r.scalars(as: Float16.self) == [Float16(Float(2).squareRoot()), Float16(0.70710677)])
    let b = Tensor(shape: [1], scalars: [BFloat16(4)])
    #expect(try run("Exp", [b]).dtype == .bfloat16)
}

// MARK: Activations

@Test func activationOperators() throws {
    let x = f32([5], [-2, -0.5, 0, 0.5, 2])
    #expect(try run("Relu", [x]).doubles() == [0, 0, 0, 0.5, 2])
    #expect(try run("Relu", [Tensor(shape: [2], scalars: [Int32(-3), 4])], opset: 14).ints() == [0, 4])
    #expect(close(try run("LeakyRelu", [x], attributes: ["alpha": .float(0.1)]).doubles(), [-0.2, -0.05, 0, 0.5, 2]))
    #expect(close(try run("HardSigmoid", [x]).doubles(), [0.1, 0.4, 0.5, 0.6, 0.9]))
    #expect(close(try run("HardSwish", [x], opset: 14).doubles(), [-2 * (1.0 / 6 * -2 + 0.5), -0.5 * (0.5 - 0.5 / 6), 0, 0.5 * (0.5 + 0.5 / 6), 2 * (2.0 / 6 + 0.5)]))
    #expect(close(try run("Elu", [x]).doubles(), [exp(-2) - 1, exp(-0.5) - 1, 0, 0.5, 2]))
    #expect(close(try run("ThresholdedRelu", [x], opset: 10, attributes: ["alpha": .float(0.4)]).doubles(), [0, 0, 0, 0.5, 2]))
    let gelu = try run("Gelu", [x], opset: 20).doubles()
    let geluTanh = try run("Gelu", [x], opset: 20, attributes: ["approximate": .string("tanh")]).doubles()
    #expect(close(gelu, [-0.04550026389635842, -0.15426876936299347, 0, 0.34573123063700656, 1.9544997361036416]))
    #expect(close(geluTanh, [-0.04540230591222, -0.15428599017, 0, 0.34571400982, 1.95459769409], 1e-5))
    #expect(throws: ONNXError.self) { try run("Gelu", [x], opset: 20, attributes: ["approximate": .string("erf")]) }
    let sig = try run("Sigmoid", [Tensor(shape: [2], scalars: [Double(-800), 0])])
    #expect(sig.dtype == .float64 && sig.doubles() == [0, 0.5])
}

@Test func preluBroadcastsSlope() throws {
    let x = f32([1, 2, 2], [-1, 2, -3, 4])
    #expect(try run("PRelu", [x, f32([2, 1], [0.5, 0.25])]).doubles() == [-0.5, 2, -0.75, 4])
    // A 1-D slope matching one dimension that numpy would not broadcast (ONNX reference fallback).
    let y = f32([2, 3], [-1, -1, -1, -2, -2, -2])
    #expect(try run("PRelu", [y, f32([2], [0.5, 2])], opset: 6).doubles() == [-0.5, -0.5, -0.5, -4, -4, -4])
    // A slope that would grow X is refused (ONNX: unidirectional broadcast).
    #expect(throws: KernelError.self) { try run("PRelu", [f32([2, 3, 1], [1, 2, 3, 4, 5, 6]), f32([2], [1, 2])]) }
}

@Test func clipAcrossOpsets() throws {
    let x = f32([4], [-3, -1, 1, 3])
    #expect(try run("Clip", [x], opset: 6, attributes: ["min": .float(-2), "max": .float(2)]).doubles() == [-2, -1, 1, 2])
    #expect(try run("Clip", [x], opset: 6).doubles() == [-3, -1, 1, 3])
    #expect(try run("Clip", [x, Tensor(scalar: Float(0)), nil], opset: 13).doubles() == [0, 0, 1, 3])
    #expect(try run("Clip", [x, nil, Tensor(scalar: Float(0))], opset: 13).doubles() == [-3, -1, 0, 0])
    // NOTE: min > max gives max everywhere, as numpy.clip.
    #expect(try run("Clip", [x, Tensor(scalar: Float(2)), Tensor(scalar: Float(1))], opset: 13).doubles() == [1, 1, 1, 1])
    let i = Tensor(shape: [3], scalars: [Int8(-100), 5, 100])
    #expect(try run("Clip", [i, Tensor(scalar: Int8(-10)), Tensor(scalar: Int8(10))], opset: 12).ints() == [-10, 5, 10])
    let n = try run("Clip", [f32([1], [.nan]), Tensor(scalar: Float(0)), Tensor(scalar: Float(1))], opset: 13)
    #expect(n.doubles()[0].isNaN)
}

// MARK: Binary

@Test func arithmeticBroadcastsAndWraps() throws {
    let a = f32([2, 1, 3], [1, 2, 3, 4, 5, 6]), b = f32([2, 1], [10, 20])
    #expect(try run("Add", [a, b]).shape == [2, 2, 3])
    #expect(try run("Sub", [a, b]).doubles() == [-9, -8, -7, -19, -18, -17, -6, -5, -4, -16, -15, -14])
    let i8 = Tensor(shape: [2], scalars: [Int8(127), -128])
    #expect(try run("Add", [i8, Tensor(scalar: Int8(1))]).ints() == [-128, -127])
    #expect(try run("Mul", [i8, Tensor(scalar: Int8(2))]).ints() == [-2, 0])
    let empty = try run("Mul", [f32([0, 3], []), f32([1, 3], [1, 2, 3])])
    #expect(empty.shape == [0, 3])
}

@Test func integerDivisionTruncates() throws {
    let a = Tensor(shape: [5], scalars: [Int32(7), -7, 7, -7, Int32.min])
    let b = Tensor(shape: [5], scalars: [Int32(2), 2, -2, -2, -1])
    #expect(try run("Div", [a, b]).ints() == [3, -3, -3, 3, Int(Int32.min)])
    #expect(try run("Div", [a, Tensor(scalar: Int32(0))]).ints() == [0, 0, 0, 0, 0])
    let u = Tensor(shape: [2], scalars: [UInt8(250), 7])
    #expect(try run("Div", [u, Tensor(scalar: UInt8(3))]).ints() == [83, 2])
}

@Test func modFollowsNumpyAndFmod() throws {
    let a = Tensor(shape: [4], scalars: [Int64(-4), 7, 5, -5]), b = Tensor(shape: [4], scalars: [Int64(3), -3, 0, 2])
    #expect(try run("Mod", [a, b]).ints() == [2, -2, 0, 1])
    #expect(try run("Mod", [a, b], attributes: ["fmod": .int(1)]).ints() == [-1, 1, 0, -1])
    let x = f32([3], [-4.5, 7, 2]), y = f32([3], [2, -3, -1])
    #expect(try run("Mod", [x, y]).doubles() == [1.5, -2, -0.0])
    #expect(try run("Mod", [x, y], attributes: ["fmod": .int(1)]).doubles() == [-0.5, 1, 0])
}

@Test func powMixedTypes() throws {
    let x = f32([3], [-2, 4, 9])
    #expect(try run("Pow", [x, f32([3], [3, 0.5, 0.5])]).doubles() == [-8, 2, 3])
    #expect(try run("Pow", [x, Tensor(scalar: Int64(2))], opset: 15).doubles() == [4, 16, 81])
    let r = try run("Pow", [Tensor(shape: [2], scalars: [Int32(3), -2]), Tensor(scalar: Float(2.5))], opset: 15)
    #expect(r.dtype == .int32 && r.ints() == [15, 0])   // 3^2.5 = 15.58 -> 15; (-2)^2.5 = NaN -> 0
    #expect(try run("Pow", [Tensor(shape: [2], scalars: [Int64(3), -2]), Tensor(scalar: Int64(3))], opset: 15).ints() == [27, -8])
    #expect(try run("Pow", [f32([1], [-8]), f32([1], [1.0 / 3])]).doubles()[0].isNaN)
}

@Test func variadicMinMaxSumMean() throws {
    let a = f32([2, 1], [1, .nan]), b = f32([3], [0, 2, 4]), c = f32([], [3])
    let mx = try run("Max", [a, b, c]).doubles()
    #expect(mx.count == 6 && Array(mx[0..<3]) == [3, 3, 4] && mx[3...].allSatisfy(\.isNaN))
    let mn = try run("Min", [a, b]).doubles()
    #expect(Array(mn[0..<3]) == [0, 1, 1] && mn[3...].allSatisfy(\.isNaN))
    #expect(try run("Sum", [b, b, c]).doubles() == [3, 7, 11])
    #expect(try run("Mean", [b, f32([3], [2, 2, 2])]).doubles() == [1, 2, 3])
    #expect(try run("Max", [b]).doubles() == [0, 2, 4])
    #expect(try run("Max", [Tensor(shape: [2], scalars: [UInt64.max, 1]), Tensor(scalar: UInt64(2))], opset: 13)
        .scalars(as: UInt64.self) == [UInt64.max, 2])
    #expect(throws: KernelError.self) { try run("Mean", [Tensor(scalar: Int32(1))]) }
}

@Test func bitOperators() throws {
    let a = Tensor(shape: [4], scalars: [Int8(1), -16, 64, 5]), s = Tensor(shape: [4], scalars: [Int8(1), 2, 1, 8])
    #expect(try run("BitShift", [a, s], opset: 11, attributes: ["direction": .string("LEFT")]).ints() == [2, -64, -128, 0])
    #expect(try run("BitShift", [a, s], opset: 11, attributes: ["direction": .string("RIGHT")]).ints() == [0, -4, 32, 0])
    #expect(try run("BitShift", [Tensor(shape: [1], scalars: [Int8(-5)]), Tensor(scalar: Int8(9))], opset: 11,
                    attributes: ["direction": .string("RIGHT")]).ints() == [-1])
    #expect(throws: ONNXError.self) { try run("BitShift", [a, s], opset: 11, attributes: ["direction": .string("UP")]) }
    let u = Tensor(shape: [2], scalars: [UInt16(0b1100), 0xFF00]), v = Tensor(scalar: UInt16(0b1010))
    #expect(try run("BitwiseAnd", [u, v], opset: 18).ints() == [0b1000, 0])
    #expect(try run("BitwiseOr", [u, v], opset: 18).ints() == [0b1110, 0xFF0A])
    #expect(try run("BitwiseXor", [u, v], opset: 18).ints() == [0b0110, 0xFF0A])
    #expect(throws: KernelError.self) { try run("BitwiseAnd", [f32([1], [1]), f32([1], [1])], opset: 18) }
}

@Test func legacyBroadcastWithAxis() throws {
    let a = f32([2, 3, 2], Array(repeating: 0, count: 12)), b = f32([3], [1, 2, 3])
    let r = try run("Add", [a, b], opset: 6, attributes: ["broadcast": .int(1), "axis": .int(1)])
    #expect(r.shape == [2, 3, 2] && r.doubles() == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
    // Without axis, opset 6 aligns B to the trailing dimensions, like numpy.
    let t = try run("Mul", [f32([2, 2], [1, 2, 3, 4]), f32([2], [10, 100])], opset: 6, attributes: ["broadcast": .int(1)])
    #expect(t.doubles() == [10, 200, 30, 400])
}

@Test func binaryErrorsAreKernelErrors() {
    #expect(throws: KernelError.self) { try run("Add", [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([2], [1, 2])]) }
    #expect(throws: KernelError.self) { try run("Add", [f32([1], [1]), Tensor(shape: [1], scalars: [Int64(1)])]) }
    #expect(throws: KernelError.self) { try run("Add", [Tensor(shape: [1], scalars: [true]), Tensor(shape: [1], scalars: [true])]) }
}

// MARK: Logical

@Test func comparisonsAndLogic() throws {
    let a = f32([3], [1, .nan, 3]), b = f32([], [2])
    #expect(try run("Less", [a, b]).scalars(as: Bool.self) == [true, false, false])
    #expect(try run("GreaterOrEqual", [a, b]).scalars(as: Bool.self) == [false, false, true])
    #expect(try run("Equal", [a, a]).scalars(as: Bool.self) == [true, false, true])   // NaN != NaN
    let s = Tensor(shape: [2], strings: ["a", "b"])
    #expect(try run("Equal", [s, Tensor(shape: [1], strings: ["b"])], opset: 19).scalars(as: Bool.self) == [false, true])
    let p = Tensor(shape: [2, 1], scalars: [true, false]), q = Tensor(shape: [2], scalars: [true, false])
    #expect(try run("And", [p, q]).scalars(as: Bool.self) == [true, false, false, false])
    #expect(try run("Or", [p, q]).scalars(as: Bool.self) == [true, true, true, false])
    #expect(try run("Xor", [p, q]).scalars(as: Bool.self) == [false, true, true, false])
    #expect(try run("Not", [q]).scalars(as: Bool.self) == [false, true])
    #expect(throws: KernelError.self) { try run("And", [p, f32([1], [1])]) }
}

@Test func whereBroadcastsThreeWays() throws {
    let c = Tensor(shape: [2, 1], scalars: [true, false])
    let r = try run("Where", [c, f32([1, 3], [1, 2, 3]), f32([], [-1])])
    #expect(r.shape == [2, 3] && r.doubles() == [1, 2, 3, -1, -1, -1])
    let s = try run("Where", [c, Tensor(shape: [2], strings: ["x", "y"]), Tensor(shape: [], strings: ["z"])])
    #expect(s.strings == ["x", "y", "z", "z"])
    #expect(try run("Where", [Tensor(shape: [0], scalars: [Bool]()), f32([1], [1]), f32([1], [2])]).shape == [0])
}

// MARK: Cast

@Test func castAndCastLike() throws {
    let x = f32([3], [1.7, -1.7, 300])
    let to = DType.int32.onnxCode
    #expect(try run("Cast", [x], attributes: ["to": .int(to)]).ints() == [1, -1, 300])
    #expect(try run("Cast", [x], opset: 1, attributes: ["to": .string("UINT8")]).ints() == [1, 255, 44])
    #expect(try run("CastLike", [x, Tensor(shape: [0], scalars: [Double]())]).dtype == .float64)
    #expect(throws: ONNXError.self) { try run("Cast", [x], opset: 19, attributes: ["to": .int(17)]) }   // float8
    #expect(throws: KernelError.self) {
        try run("Cast", [Tensor(shape: [1], strings: ["abc"])], attributes: ["to": .int(1)])
    }
}

// MARK: Newer operators

@Test func swishSwiGLUBitCastStringConcat() throws {
    let x = f32([3], [-1, 0, 2])
    let sig = { (v: Double) in 1 / (1 + exp(-v)) }
    #expect(close(try run("Swish", [x], opset: 24, attributes: ["alpha": .float(2)]).doubles(),
                  [-1 * sig(-2), 0, 2 * sig(4)]))
    #expect(close(try run("SwiGLU", [x, f32([3], [3, 3, -1])], opset: 28).doubles(), [-3 * sig(-1), 0, -2 * sig(2)]))
    #expect(throws: KernelError.self) { try run("SwiGLU", [x, f32([1], [1])], opset: 28) }
    let bits = try run("BitCast", [f32([2], [1, -2])], opset: 26, attributes: ["to": .int(DType.int32.onnxCode)])
    #expect(bits.ints() == [0x3F80_0000, Int(Int32(bitPattern: 0xC000_0000))])
    #expect(try run("BitCast", [Tensor(shape: [2], scalars: [UInt8(0), 7])], opset: 26,
                    attributes: ["to": .int(DType.bool.onnxCode)]).scalars(as: Bool.self) == [false, true])
    #expect(throws: KernelError.self) {
        try run("BitCast", [f32([1], [1])], opset: 26, attributes: ["to": .int(DType.int64.onnxCode)])
    }
    let s = try run("StringConcat", [Tensor(shape: [2, 1], strings: ["a", "b"]), Tensor(shape: [2], strings: ["x", "é"])],
                    opset: 20)
    #expect(s.shape == [2, 2] && s.strings == ["ax", "aé", "bx", "bé"])
}

@Test func regexFullMatchUsesRE2WordBoundaries() throws {
    let x = Tensor(shape: [3], strings: ["www.google.com", "www.bbc.co.uk", "xwww.a.com"])
    let y = try run("RegexFullMatch", [x], opset: 20, attributes: ["pattern": .string(#"www\.[\w.-]+\.\bcom\b"#)])
    #expect(y.scalars(as: Bool.self) == [true, false, false])
    #expect(throws: ONNXError.self) { try run("RegexFullMatch", [x], opset: 20, attributes: ["pattern": .string("(")]) }
}

@Test func stringNormalizerFollowsReference() throws {
    let x = Tensor(shape: [4], strings: ["Café", "monday", "Hello World", "MONDAY"])
    let y = try run("StringNormalizer", [x], opset: 10, attributes: [
        "case_change_action": .string("LOWER"), "stopwords": .strings(["monday"]),
    ])
    #expect(y.shape == [2] && y.strings == ["cafe", "hello world"])
    let all = try run("StringNormalizer", [Tensor(shape: [1, 1], strings: ["monday"])], opset: 10,
                      attributes: ["is_case_sensitive": .int(1), "stopwords": .strings(["monday"])])
    #expect(all.shape == [1, 1] && all.strings == [""])
}
