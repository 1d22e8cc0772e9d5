import Testing
@testable import Tensor

@Test func tensorStoresAndReshapes() {
    let t = Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
    #expect(t.count == 6)
    #expect(t.strides == [3, 1])
    let r = t.reshaped([3, 2])
    #expect(r.shape == [3, 2])
    #expect(r.scalars(as: Float.self) == [1, 2, 3, 4, 5, 6])
    let empty = Tensor(zeros: [0, 4])
    #expect(empty.count == 0)
    #expect(Tensor(scalar: Int64(7)).ints() == [7])
}

@Test func bfloat16RoundsToNearestEven() {
    #expect(BFloat16(1.0).floatValue == 1.0)
    #expect(BFloat16(Float(bitPattern: 0x3F80_8000)).bitPattern == 0x3F80)
    #expect(BFloat16(Float(bitPattern: 0x3F81_8000)).bitPattern == 0x3F82)
}
