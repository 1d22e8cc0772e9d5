import Testing
@testable import Tensor

/// Naive reference: index every output element through unravel/ravel, as numpy defines broadcasting.
private func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ op: (Double, Double) -> Double) throws -> [Double] {
    let out = try broadcastShape(a.shape, b.shape)
    let n = out.reduce(1, *)
    let av = a.doubles(), bv = b.doubles()
    func source(_ flat: Int, _ shape: [Int]) -> Int {
        var rem = flat, index = 0, step = 1
        for d in stride(from: out.count - 1, through: 0, by: -1) {
            let i = rem % out[d]; rem /= out[d]
            let k = d - (out.count - shape.count)
            if k >= 0 {
                index += (shape[k] == 1 ? 0 : i) * step
                step *= shape[k]
            }
        }
        return index
    }
    return (0..<n).map { op(av[source($0, a.shape)], bv[source($0, b.shape)]) }
}

private func ramp(_ shape: [Int], start: Float = 0) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, floats: (0..<n).map { start + Float($0) * 0.5 })
}

@Test func broadcastShapeFollowsNumpy() throws {
    #expect(try broadcastShape([2, 3, 4], [4]) == [2, 3, 4])
    #expect(try broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
    #expect(try broadcastShape([], [5]) == [5])
    #expect(try broadcastShape([0, 1], [1, 3]) == [0, 3])
    #expect(try broadcastShape([[1, 2], [3, 1], [1]]) == [3, 2])
    #expect(throws: BroadcastError.self) { try broadcastShape([2, 3], [4]) }
    do {
        _ = try broadcastShape([2, 3], [4])
    } catch let e as BroadcastError {
        #expect(e.description.contains("[2,3]") && e.description.contains("[4]"))
    }
}

@Test(arguments: [
    ([2, 3, 4, 5], [2, 3, 4, 5]),   // same shape
    ([2, 3, 4, 5], []),             // scalar
    ([2, 3, 4, 5], [1, 3, 1, 1]),   // per channel
    ([1, 3, 1, 1], [2, 3, 4, 5]),   // per channel on the left
    ([2, 1, 4], [3, 1]),            // both sides broadcast
    ([3, 1, 5], [1, 4, 1]),         // outer product-like
    ([5], [2, 3, 5]),               // rank extension
    ([2, 1, 3, 1], [1, 4, 1, 6]),   // alternating
    ([7, 1], [1, 1]),
    ([0, 3], [1, 3]),               // empty
])
func broadcastBinaryMatchesNaive(shapes: ([Int], [Int])) throws {
    let a = ramp(shapes.0, start: -3), b = ramp(shapes.1, start: 1)
    for (op, f) in [(ArithmeticOperation.add, { (x: Double, y: Double) in x + y }),
                    (.subtract, { $0 - $1 }), (.multiply, { $0 * $1 }), (.divide, { $0 / $1 })] {
        let got = try broadcastArithmetic(op, a, b)
        let want = try naiveBroadcast(a, b, f)
        #expect(got.shape == (try broadcastShape(a.shape, b.shape)))
        let g = got.doubles()
        #expect(g.count == want.count)
        for i in 0..<want.count {
            #expect(abs(g[i] - Double(Float(want[i]))) <= 1e-6 * max(1, abs(want[i])), "op \(op) at \(i)")
        }
    }
}

@Test func broadcastBinaryMixedTypes() throws {
    let a = Tensor(shape: [2, 1], scalars: [Int32(2), 3])
    let b = Tensor(shape: [3], floats: [1, 2, 3])
    let r = try broadcastBinary(a, b, Int32.self, Float.self, Double.self) { Double($0) * Double($1) }
    #expect(r.dtype == .float64 && r.shape == [2, 3])
    #expect(r.doubles() == [2, 4, 6, 3, 6, 9])
}

@Test func broadcastTernarySelects() throws {
    let cond = Tensor(shape: [2, 1], scalars: [true, false])
    let x = Tensor(shape: [3], floats: [1, 2, 3])
    let y = Tensor(scalar: Float(-1))
    let r = try broadcastTernary(cond, x, y, Bool.self, Float.self, Float.self, Float.self) { $0 ? $1 : $2 }
    #expect(r.shape == [2, 3])
    #expect(r.scalars(as: Float.self) == [1, 2, 3, -1, -1, -1])
}

@Test func broadcastMismatchThrows() {
    #expect(throws: BroadcastError.self) { try ramp([2, 3]).adding(ramp([2])) }
    #expect(throws: TensorTypeError.self) { try ramp([2]).adding(Tensor(shape: [2], scalars: [Int64(1), 2])) }
}

@Test func reduceToShapeSumsBroadcastAxes() throws {
    let g = Tensor(shape: [2, 3, 2], floats: (0..<12).map(Float.init))
    let want: [Float] = [14, 22, 30]   // (0+1+6+7), (2+3+8+9), (4+5+10+11)
    #expect(try reduceToShape(g, [3, 1]).scalars(as: Float.self) == want)
    #expect(try reduceToShape(g, []).scalars(as: Float.self) == [66])
    #expect(try reduceToShape(g, [2, 1, 2]).scalars(as: Float.self) == [6, 9, 24, 27])
}

@Test func mapElementsKeepsShape() {
    let t = Tensor(shape: [2, 2], scalars: [Int64(1), -2, 3, -4])
    let r = t.mapElements(Int64.self, to: Bool.self) { $0 > 0 }
    #expect(r.shape == [2, 2] && r.scalars(as: Bool.self) == [true, false, true, false])
    #expect(ramp([3]).scaled(by: 2).scalars(as: Float.self) == [0, 1, 2])
}
