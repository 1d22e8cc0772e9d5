import Testing
@testable import Tensor

@Test func convertFloatToIntegersTruncatesAndWraps() throws {
    let x = Tensor(shape: [6], floats: [1.9, -1.9, 0.5, -1, 300, 70000])
    #expect(try x.converted(to: .int64).ints() == [1, -1, 0, -1, 300, 70000])
    #expect(try x.converted(to: .int32).ints() == [1, -1, 0, -1, 300, 70000])
    #expect(try x.converted(to: .uint8).ints() == [1, 255, 0, 255, 44, 112])   // numpy astype
    #expect(try x.converted(to: .int8).ints() == [1, -1, 0, -1, 44, 112])
    let nan = Tensor(shape: [3], floats: [.nan, .infinity, -.infinity])
    #expect(try nan.converted(to: .int64).ints() == [0, Int(Int64.max), Int(Int64.min)])
    #expect(try nan.converted(to: .bool).scalars(as: Bool.self) == [true, true, true])
}

@Test func convertIntegersWrap() throws {
    let x = Tensor(shape: [4], scalars: [Int16(200), -1, 256, -129])
    #expect(try x.converted(to: .int8).ints() == [-56, -1, 0, 127])
    #expect(try x.converted(to: .uint16).ints() == [200, 65535, 256, 65407])
    #expect(try x.converted(to: .bool).scalars(as: Bool.self) == [true, true, true, true])
    let big = Tensor(shape: [2], scalars: [Int64.max, Int64.min])
    #expect(try big.converted(to: .uint64).scalars(as: UInt64.self) == [UInt64(Int64.max), 1 << 63])
    let u = Tensor(shape: [1], scalars: [UInt64.max])
    #expect(try u.converted(to: .int64).ints() == [-1])
    #expect(try u.converted(to: .float64).doubles() == [18446744073709551615.0])
}

@Test func convertFloatFormats() throws {
    let x = Tensor(shape: [5], floats: [1, 0.1, 65504, 70000, -2.5])
    let h = try x.converted(to: .float16)
    #expect(h.dtype == .float16)
    #expect(h.scalars(as: Float16.self) == [1, 0.1, 65504, .infinity, -2.5])
    let b = try x.converted(to: .bfloat16)
    #expect(b.scalars(as: BFloat16.self).map(\.floatValue) == [1, 0.10009765625, 65536, 70144, -2.5])
    let back = try h.converted(to: .float64).doubles()
    #expect(back[1] == Double(Float16(0.1)))
    // A double rounds once straight to float16 (not through float32).
    let d = Tensor(shape: [1], scalars: [Double(1) + 1.0 / 2048 + 1e-12])
    #expect(try d.converted(to: .float16).scalars(as: Float16.self) == [Float16(1) + Float16(1.0 / 1024)])
}

@Test func convertBool() throws {
    let b = Tensor(shape: [2], scalars: [true, false])
    #expect(try b.converted(to: .float32).scalars(as: Float.self) == [1, 0])
    #expect(try b.converted(to: .int8).ints() == [1, 0])
    #expect(try Tensor(shape: [3], floats: [0, -0.0, 0.5]).converted(to: .bool).scalars(as: Bool.self)
        == [false, false, true])
}

@Test func convertStrings() throws {
    let s = Tensor(shape: [5], strings: ["3.5", "1e-5", "-INF", "NaN", " 7 "])
    let f = try s.converted(to: .float32).scalars(as: Float.self)
    #expect(f[0] == 3.5 && f[1] == 1e-5 && f[2] == -.infinity && f[3].isNaN && f[4] == 7)
    let i = Tensor(shape: [2], strings: ["9223372036854775807", "100.5"])
    #expect(try i.converted(to: .int64).ints() == [Int(Int64.max), 100])
    #expect(try Tensor(shape: [3], floats: [0.5, 1e20, .infinity]).converted(to: .string).strings
        == ["0.5", "1e+20", "inf"])
    #expect(throws: CastError.self) { try Tensor(shape: [1], strings: ["hello"]).converted(to: .float32) }
}

@Test func convertSameTypeSharesAndEmptyWorks() throws {
    let x = Tensor(zeros: [0, 2], dtype: .int32)
    #expect(try x.converted(to: .float16).shape == [0, 2])
    let y = Tensor(shape: [1], floats: [1])
    #expect(try y.converted(to: .float32).storage === y.storage)
}
