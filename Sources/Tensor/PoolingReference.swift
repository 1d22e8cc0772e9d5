// The pooling oracles: the plainest loops over (n, c, output position, window tap), no shared window walk,
// for tests of Pooling.swift and MaxPoolValues.swift (as ConvolutionReference.swift is for convolutions).
// NOTE: the max reference does not model NaN (a NaN wins only as a window's first tap).

/// Reference max pooling: the plainest loops over (n, c, output position, window), for tests.
public func maxPoolNaive(_ x: Tensor, _ g: PoolingGeometry) -> (output: Tensor, indices: Tensor) {
    let outShape = pooledShape(x, g)
    let k = g.spatialRank
    let inSpatial = Array(x.shape.dropFirst(2)), outSpatial = Array(outShape.dropFirst(2))
    let inPlane = inSpatial.reduce(1, *), outPlane = outSpatial.reduce(1, *)
    let inStrides = Tensor.strides(of: inSpatial), outStrides = Tensor.strides(of: outSpatial)
    let windowStrides = Tensor.strides(of: g.kernel)
    var y = [Float](repeating: 0, count: outShape.reduce(1, *))
    var ind = [Int64](repeating: -1, count: y.count)
    let xs = x.scalars(as: Float.self)
    for plane in 0..<(x.shape[0] * x.shape[1]) {
        for o in 0..<outPlane {
            var best = -Float.infinity, bestIndex = -1
            for t in 0..<g.kernel.reduce(1, *) {
                var offset = 0, inside = true
                for i in 0..<k {
                    let oi = (o / outStrides[i]) % outSpatial[i], ti = (t / windowStrides[i]) % g.kernel[i]
                    let pos = oi * g.strides[i] - g.padsBegin[i] + ti * g.dilations[i]
                    if pos < 0 || pos >= inSpatial[i] { inside = false; break }
                    offset += pos * inStrides[i]
                }
                if inside && (bestIndex < 0 || xs[plane * inPlane + offset] > best) {
                    best = xs[plane * inPlane + offset]
                    bestIndex = offset
                }
            }
            y[plane * outPlane + o] = bestIndex < 0 ? 0 : best
            ind[plane * outPlane + o] = Int64(bestIndex)
        }
    }
    return (Tensor(shape: outShape, floats: y), Tensor(shape: outShape, scalars: ind))
}

/// Reference average pooling (plain loops), for tests.
public func avgPoolNaive(_ x: Tensor, _ g: PoolingGeometry, countIncludePad: Bool) -> Tensor {
    let outShape = pooledShape(x, g)
    let k = g.spatialRank
    let inSpatial = Array(x.shape.dropFirst(2)), outSpatial = Array(outShape.dropFirst(2))
    let inPlane = inSpatial.reduce(1, *), outPlane = outSpatial.reduce(1, *)
    let inStrides = Tensor.strides(of: inSpatial), outStrides = Tensor.strides(of: outSpatial)
    let windowStrides = Tensor.strides(of: g.kernel)
    var y = [Float](repeating: 0, count: outShape.reduce(1, *))
    let xs = x.scalars(as: Float.self)
    for plane in 0..<(x.shape[0] * x.shape[1]) {
        for o in 0..<outPlane {
            var sum: Float = 0, n = 0
            for t in 0..<g.kernel.reduce(1, *) {
                var offset = 0, inside = true, insidePadded = true
                for i in 0..<k {
                    let oi = (o / outStrides[i]) % outSpatial[i], ti = (t / windowStrides[i]) % g.kernel[i]
                    let pos = oi * g.strides[i] - g.padsBegin[i] + ti * g.dilations[i]
                    if pos < 0 || pos >= inSpatial[i] { inside = false }
                    if pos < -g.padsBegin[i] || pos >= inSpatial[i] + g.padsEnd[i] { insidePadded = false }
                    offset += pos * inStrides[i]
                }
                if inside { sum += xs[plane * inPlane + offset] }
                if countIncludePad ? insidePadded : inside { n += 1 }
            }
            y[plane * outPlane + o] = n > 0 ? sum / Float(n) : 0
        }
    }
    return Tensor(shape: outShape, floats: y)
}
