import Foundation

// Pooling kernels: max, average and Lp pooling over the trailing 1, 2 or 3 spatial dimensions of an
// (N, C, D1...Dk) float32 tensor, forward and backward; global average and max pooling.
//
// Public API (used by the trainer and by Runtime/Operators/Pooling.swift):
//   PoolingGeometry(kernel:strides:dilations:padsBegin:padsEnd:ceilMode:)  .outputSpatialShape(for:)
//   maxPoolForward(_ x:, _ geometry:) -> (output: Tensor, indices: Tensor)       indices: int64, per plane
//   maxPoolBackward(_ dY:, indices:, inputShape:) -> Tensor                      (dX)
//   avgPoolForward(_ x:, _ geometry:, countIncludePad:) -> Tensor
//   avgPoolBackward(_ dY:, _ geometry:, inputShape:, countIncludePad:) -> Tensor   (dX)
//   lpPoolForward(_ x:, _ geometry:, p:) -> Tensor
//   maxPool2d(_ x:, kernelSize:, stride:, padding:) -> (output: Tensor, indices: Tensor)
//   maxPool2dBackward(_ dY:, indices:, inputShape:) -> Tensor
//   avgPool2d(_ x:, kernelSize:, stride:, padding:, countIncludePad:) -> Tensor
//   avgPool2dBackward(_ dY:, inputShape:, kernelSize:, stride:, padding:, countIncludePad:) -> Tensor
//   globalAveragePool(_ x:) -> Tensor      (N, C, 1, ..., 1)
//   globalAveragePoolBackward(_ dY:, inputShape:) -> Tensor
//   globalMaxPool(_ x:) -> Tensor          (N, C, 1, ..., 1)
//   maxPoolNaive / avgPoolNaive: the obvious reference loops the fast kernels are tested against.
//
// Layout: NC + spatial, row-major. Max-pool indices are flat offsets inside one (n, c) plane
// (`d * H * W + h * W + w`), as PyTorch returns them; -1 for a window that holds no input element.

/// The sliding window of a pooling operator over k spatial dimensions (k = 1, 2 or 3).
public struct PoolingGeometry: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    /// Output size rounds up (the last window may hang past the end padding), as ONNX `ceil_mode`.
    public var ceilMode: Bool

    public init(kernel: [Int], strides: [Int]? = nil, dilations: [Int]? = nil, padsBegin: [Int]? = nil,
                padsEnd: [Int]? = nil, ceilMode: Bool = false) {
        let k = kernel.count
        self.kernel = kernel
        self.strides = strides ?? Array(repeating: 1, count: k)
        self.dilations = dilations ?? Array(repeating: 1, count: k)
        self.padsBegin = padsBegin ?? Array(repeating: 0, count: k)
        self.padsEnd = padsEnd ?? Array(repeating: 0, count: k)
        self.ceilMode = ceilMode
    }

    public var spatialRank: Int { kernel.count }

    /// Output spatial size: floor (or ceil) of (in + pb + pe - ((k - 1) * d + 1)) / s + 1. In ceil mode a
    /// window that would start inside the end padding is dropped (PyTorch and ONNX agree on this).
    public func outputSpatialShape(for input: [Int]) -> [Int] {
        (0..<spatialRank).map { i in
            Self.outputSize(input: input[i], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
                            padBegin: padsBegin[i], padEnd: padsEnd[i], ceilMode: ceilMode)
        }
    }

    /// One axis of `outputSpatialShape` (also what shape inference reports for pooling nodes).
    public static func outputSize(input: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
                                  ceilMode: Bool) -> Int {
        let window = (kernel - 1) * dilation + 1
        let span = input + padBegin + padEnd - window
        if span < 0 { return 0 }
        var out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1
        // The last window must start inside the input or its begin padding.
        if ceilMode && (out - 1) * stride >= input + padBegin { out -= 1 }
        return max(out, 0)
    }
}

/// A pooling problem flattened to 3 spatial dims (missing leading dims are size 1 with a unit window).
private struct Pool3D {
    var planes: Int
    var id: Int, ih: Int, iw: Int
    var od: Int, oh: Int, ow: Int
    var kd: Int, kh: Int, kw: Int
    var sd: Int, sh: Int, sw: Int
    var dd: Int, dh: Int, dw: Int
    var pd: Int, ph: Int, pw: Int
    /// End pads, used only for the count_include_pad divisor.
    var ed: Int, eh: Int, ew: Int

    init(inputShape: [Int], outputSpatial: [Int], _ g: PoolingGeometry) {
        precondition(inputShape.count == g.spatialRank + 2 && (1...3).contains(g.spatialRank),
                     "pooling needs (N, C, D1..Dk) with k in 1...3 matching the kernel; got \(inputShape)")
        func pad3(_ a: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: 3 - a.count) + a }
        let i = pad3(Array(inputShape.dropFirst(2)), 1), o = pad3(outputSpatial, 1)
        let k = pad3(g.kernel, 1), s = pad3(g.strides, 1), d = pad3(g.dilations, 1)
        let p = pad3(g.padsBegin, 0), e = pad3(g.padsEnd, 0)
        planes = inputShape[0] * inputShape[1]
        (id, ih, iw) = (i[0], i[1], i[2])
        (od, oh, ow) = (o[0], o[1], o[2])
        (kd, kh, kw) = (k[0], k[1], k[2])
        (sd, sh, sw) = (s[0], s[1], s[2])
        (dd, dh, dw) = (d[0], d[1], d[2])
        (pd, ph, pw) = (p[0], p[1], p[2])
        (ed, eh, ew) = (e[0], e[1], e[2])
    }

    var inPlane: Int { id * ih * iw }
    var outPlane: Int { od * oh * ow }

    /// The taps t in 0..<k with start + t * dil inside [0, size).
    @inline(__always)
    static func tapRange(_ start: Int, _ k: Int, _ dil: Int, _ size: Int) -> Range<Int> {
        if dil == 1 {
            let lo = max(0, -start), hi = min(k, size - start)
            return lo..<max(lo, hi)
        }
        let lo = start >= 0 ? 0 : (-start + dil - 1) / dil
        let hi = size - start <= 0 ? 0 : min(k, (size - start + dil - 1) / dil)
        return lo..<max(lo, hi)
    }

    /// Kernel taps of a window starting at `start` (with dilation `dil`, `k` taps) that land in [lo, hi).
    @inline(__always)
    static func taps(start: Int, k: Int, dil: Int, lo: Int, hi: Int) -> Int {
        // Counted, not walked: a crafted kernel of 2^31 taps hung the loop this replaced.
        tapRange(start - lo, k, dil, hi - lo).count
    }

    /// Calls `body(o, window)` for every output position of a plane, `o` counting them row-major from 0.
    /// The one window walk of max, average (forward and backward) and Lp pooling.
    @inline(__always)
    func forEachWindow(_ body: (_ o: Int, _ window: PoolWindow) -> Void) {
        var o = 0
        for z in 0..<od {
            let d0 = z * sd - pd, dr = Pool3D.tapRange(d0, kd, dd, id)
            for y in 0..<oh {
                let h0 = y * sh - ph, hr = Pool3D.tapRange(h0, kh, dh, ih)
                for x in 0..<ow {
                    let w0 = x * sw - pw
                    body(o, PoolWindow(d0: d0, h0: h0, w0: w0, dr: dr, hr: hr, wr: Pool3D.tapRange(w0, kw, dw, iw),
                                       dd: dd, dh: dh, dw: dw, ih: ih, iw: iw))
                    o += 1
                }
            }
        }
    }
}

/// One pooling window: the taps of its start (d0, h0, w0) that land inside the input.
private struct PoolWindow {
    let d0: Int, h0: Int, w0: Int
    let dr: Range<Int>, hr: Range<Int>, wr: Range<Int>
    let dd: Int, dh: Int, dw: Int, ih: Int, iw: Int

    /// Calls `f` with the in-plane offset of each tap inside the input, in window order (d, then h, then w).
    @inline(__always)
    func forEachOffset(_ f: (Int) -> Void) {
        for a in dr {
            let d = d0 + a * dd
            for b in hr {
                let row = (d * ih + h0 + b * dh) * iw + w0
                for c in wr { f(row + c * dw) }
            }
        }
    }
}

/// Runs `body(plane)` for every plane, in parallel when the work is large enough to pay for threads.
/// (Shared with Normalization.swift.)
func poolingForEachPlane(_ planes: Int, work: Int, _ body: (Int) -> Void) {
    if planes > 1 && planes * work >= 1 << 15 {
        concurrentFor(planes, body)
    } else {
        for p in 0..<planes { body(p) }
    }
}

func pooledShape(_ x: Tensor, _ g: PoolingGeometry) -> [Int] {
    Array(x.shape.prefix(2)) + g.outputSpatialShape(for: Array(x.shape.dropFirst(2)))
}

// MARK: Max pooling

/// Max pooling. x: (N, C, D1..Dk) float32 -> output (N, C, O1..Ok) and indices (N, C, O1..Ok) int64,
/// each the flat offset of the chosen element inside its (n, c) plane.
/// NOTE: ties go to the first maximum in window order, and a NaN wins, as in PyTorch.
public func maxPoolForward(_ x: Tensor, _ g: PoolingGeometry) -> (output: Tensor, indices: Tensor) {
    let outShape = pooledShape(x, g)
    let p = Pool3D(inputShape: x.shape, outputSpatial: Array(outShape.dropFirst(2)), g)
    let y = Tensor(uninitialized: outShape, dtype: .float32)
    let ind = Tensor(uninitialized: outShape, dtype: .int64)
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let ip = ind.pointer(as: Int64.self)
    let inPlane = p.inPlane, outPlane = p.outPlane
    if p.id == 1 && p.kd == 1 && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1
        && p.ph == 0 && p.pw == 0 && p.oh * 2 <= p.ih && p.ow * 2 <= p.iw {
        maxPool2x2(xp, yp, ip, p)
        return (y, ind)
    }
    poolingForEachPlane(p.planes, work: outPlane * p.kd * p.kh * p.kw) { plane in
        let xs = xp + plane * inPlane, ys = yp + plane * outPlane, ids = ip + plane * outPlane
        p.forEachWindow { o, window in
            var best: Float = 0
            var bestIndex = -1
            window.forEachOffset { offset in
                let v = xs[offset]
                if bestIndex < 0 || v > best || (v.isNaN && !best.isNaN) {
                    best = v
                    bestIndex = offset
                }
            }
            ys[o] = best
            ids[o] = Int64(bestIndex)
        }
    }
    return (y, ind)
}

/// The U-Net's 2x2 stride-2 max pooling, every window inside the input: no bounds checks.
private func maxPool2x2(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>,
                        _ ip: UnsafeMutablePointer<Int64>, _ p: Pool3D) {
    let ih = p.ih, iw = p.iw, oh = p.oh, ow = p.ow
    poolingForEachPlane(p.planes, work: oh * ow * 4) { plane in
        let xs = xp + plane * ih * iw, ys = yp + plane * oh * ow, ids = ip + plane * oh * ow
        for r in 0..<oh {
            let top = xs + 2 * r * iw, bottom = top + iw
            let yrow = ys + r * ow, irow = ids + r * ow
            let rowBase = 2 * r * iw
            for c in 0..<ow {
                // Window order: top-left, top-right, bottom-left, bottom-right; the first maximum wins.
                var best = top[2 * c], k = 0
                let b = top[2 * c + 1], cc = bottom[2 * c], d = bottom[2 * c + 1]
                if b > best || (b.isNaN && !best.isNaN) { best = b; k = 1 }
                if cc > best || (cc.isNaN && !best.isNaN) { best = cc; k = 2 }
                if d > best || (d.isNaN && !best.isNaN) { best = d; k = 3 }
                yrow[c] = best
                irow[c] = Int64(rowBase + (k >> 1) * iw + 2 * c + (k & 1))
            }
        }
    }
}

/// Gradient of max pooling: each dY element flows to the input element its index names (accumulated
/// when windows overlap). dY, indices: (N, C, O...); returns dX of `inputShape`.
public func maxPoolBackward(_ dY: Tensor, indices: Tensor, inputShape: [Int]) -> Tensor {
    precondition(dY.shape == indices.shape && dY.shape.prefix(2) == inputShape.prefix(2),
                 "maxPoolBackward: dY \(dY.shape), indices \(indices.shape), input \(inputShape)")
    let dX = Tensor(zeros: inputShape, dtype: .float32)
    let planes = inputShape[0] * inputShape[1]
    let inPlane = inputShape.dropFirst(2).reduce(1, *), outPlane = dY.shape.dropFirst(2).reduce(1, *)
    let gp = UnsafePointer(dY.pointer(as: Float.self)), ip = UnsafePointer(indices.pointer(as: Int64.self))
    let dp = dX.pointer(as: Float.self)
    poolingForEachPlane(planes, work: outPlane) { plane in
        let g = gp + plane * outPlane, idx = ip + plane * outPlane, d = dp + plane * inPlane
        for o in 0..<outPlane {
            let i = Int(idx[o])
            if i >= 0 { d[i] += g[o] }
        }
    }
    return dX
}

// MARK: Average pooling

/// Average pooling. x: (N, C, D1..Dk) -> (N, C, O1..Ok). The divisor counts the window's taps that land
/// in the input, or, with `countIncludePad`, those inside the padded input (never the extra taps a
/// ceil-mode window hangs past the end padding), as ONNX and PyTorch define it.
public func avgPoolForward(_ x: Tensor, _ g: PoolingGeometry, countIncludePad: Bool) -> Tensor {
    let outShape = pooledShape(x, g)
    let p = Pool3D(inputShape: x.shape, outputSpatial: Array(outShape.dropFirst(2)), g)
    let y = Tensor(uninitialized: outShape, dtype: .float32)
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let inPlane = p.inPlane, outPlane = p.outPlane
    if p.id == 1 && p.kd == 1 && p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1
        && p.ph == 0 && p.pw == 0 && p.oh * 2 <= p.ih && p.ow * 2 <= p.iw {
        // 2x2 stride 2 with every window inside the input: each divisor is 4.
        let (ih, iw, oh, ow) = (p.ih, p.iw, p.oh, p.ow)
        poolingForEachPlane(p.planes, work: oh * ow * 4) { plane in
            let xs = xp + plane * ih * iw, ys = yp + plane * oh * ow
            for r in 0..<oh {
                let top = xs + 2 * r * iw, bottom = top + iw, yrow = ys + r * ow
                for c in 0..<ow { yrow[c] = (top[2 * c] + top[2 * c + 1] + bottom[2 * c] + bottom[2 * c + 1]) * 0.25 }
            }
        }
        return y
    }
    let rp = avgReciprocals(p, countIncludePad)
    poolingForEachPlane(p.planes, work: outPlane * p.kd * p.kh * p.kw) { plane in
        let xs = xp + plane * inPlane, ys = yp + plane * outPlane
        p.forEachWindow { o, window in
            var sum: Float = 0
            window.forEachOffset { sum += xs[$0] }
            ys[o] = sum * rp[o]
        }
    }
    return y
}

/// 1 / divisor for every output position, (od, oh, ow) row-major; the divisor is a product of per-dimension
/// tap counts, so three short tables make it.
private func avgReciprocals(_ p: Pool3D, _ includePad: Bool) -> [Float] {
    func counts(_ o: Int, _ s: Int, _ pad: Int, _ k: Int, _ dil: Int, _ size: Int, _ end: Int) -> [Int] {
        (0..<o).map { i in
            Pool3D.taps(start: i * s - pad, k: k, dil: dil, lo: includePad ? -pad : 0, hi: includePad ? size + end : size)
        }
    }
    let cd = counts(p.od, p.sd, p.pd, p.kd, p.dd, p.id, p.ed)
    let ch = counts(p.oh, p.sh, p.ph, p.kh, p.dh, p.ih, p.eh)
    let cw = counts(p.ow, p.sw, p.pw, p.kw, p.dw, p.iw, p.ew)
    var out = [Float]()
    out.reserveCapacity(p.outPlane)
    for a in cd { for b in ch { for c in cw { let n = a * b * c; out.append(n > 0 ? 1 / Float(n) : 0) } } }
    return out
}

/// Gradient of average pooling: each dY element spreads dY / divisor over its window's input taps.
public func avgPoolBackward(_ dY: Tensor, _ g: PoolingGeometry, inputShape: [Int],
                            countIncludePad: Bool) -> Tensor {
    let p = Pool3D(inputShape: inputShape, outputSpatial: Array(dY.shape.dropFirst(2)), g)
    let dX = Tensor(zeros: inputShape, dtype: .float32)
    let gp = UnsafePointer(dY.pointer(as: Float.self)), dp = dX.pointer(as: Float.self)
    let inPlane = p.inPlane, outPlane = p.outPlane
    let rp = avgReciprocals(p, countIncludePad)
    poolingForEachPlane(p.planes, work: outPlane * p.kd * p.kh * p.kw) { plane in
        let dxs = dp + plane * inPlane, gs = gp + plane * outPlane
        p.forEachWindow { o, window in
            let share = gs[o] * rp[o]
            window.forEachOffset { dxs[$0] += share }
        }
    }
    return dX
}

// MARK: Lp pooling

/// Lp pooling: (sum over the window's input taps of |x|^p)^(1/p). Padding contributes zeros.
public func lpPoolForward(_ x: Tensor, _ g: PoolingGeometry, p exponent: Float) -> Tensor {
    let outShape = pooledShape(x, g)
    let p = Pool3D(inputShape: x.shape, outputSpatial: Array(outShape.dropFirst(2)), g)
    let y = Tensor(uninitialized: outShape, dtype: .float32)
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    let inPlane = p.inPlane, outPlane = p.outPlane
    poolingForEachPlane(p.planes, work: outPlane * p.kd * p.kh * p.kw) { plane in
        let xs = xp + plane * inPlane, ys = yp + plane * outPlane
        p.forEachWindow { o, window in
            // Only the taps inside the input (a huge kernel with SAME padding is mostly padding: walking
            // every tap hung on a crafted kernel_shape of 2^31).
            var sum: Float = 0
            window.forEachOffset { offset in
                let v = abs(xs[offset])
                sum += exponent == 2 ? v * v : (exponent == 1 ? v : Float(pow(Double(v), Double(exponent))))
            }
            ys[o] = exponent == 2 ? sum.squareRoot() : (exponent == 1 ? sum : Float(pow(Double(sum), 1 / Double(exponent))))
        }
    }
    return y
}

// MARK: 2-D conveniences (the trainer's entry points)

/// 2-D max pooling of x (N, C, H, W): square `kernelSize`, `stride`, symmetric `padding`.
public func maxPool2d(_ x: Tensor, kernelSize: Int, stride: Int, padding: Int = 0) -> (output: Tensor, indices: Tensor) {
    maxPoolForward(x, PoolingGeometry(kernel: [kernelSize, kernelSize], strides: [stride, stride],
                                      padsBegin: [padding, padding], padsEnd: [padding, padding]))
}

/// dX (N, C, H, W) of `maxPool2d` from dY and the indices it returned.
public func maxPool2dBackward(_ dY: Tensor, indices: Tensor, inputShape: [Int]) -> Tensor {
    maxPoolBackward(dY, indices: indices, inputShape: inputShape)
}

/// 2-D average pooling of x (N, C, H, W).
public func avgPool2d(_ x: Tensor, kernelSize: Int, stride: Int, padding: Int = 0,
                      countIncludePad: Bool = true) -> Tensor {
    avgPoolForward(x, PoolingGeometry(kernel: [kernelSize, kernelSize], strides: [stride, stride],
                                      padsBegin: [padding, padding], padsEnd: [padding, padding]),
                   countIncludePad: countIncludePad)
}

/// dX (N, C, H, W) of `avgPool2d`.
public func avgPool2dBackward(_ dY: Tensor, inputShape: [Int], kernelSize: Int, stride: Int, padding: Int = 0,
                              countIncludePad: Bool = true) -> Tensor {
    avgPoolBackward(dY, PoolingGeometry(kernel: [kernelSize, kernelSize], strides: [stride, stride],
                                        padsBegin: [padding, padding], padsEnd: [padding, padding]),
                    inputShape: inputShape, countIncludePad: countIncludePad)
}

// MARK: Global pooling

/// Mean over every spatial position: (N, C, D1..Dk) -> (N, C, 1, ..., 1).
public func globalAveragePool(_ x: Tensor) -> Tensor {
    globalPool(x) { p, n in n > 0 ? Float(relaxedChunkedSum(n) { p[$0] } / Double(n)) : .nan }
}

/// Maximum over every spatial position: (N, C, D1..Dk) -> (N, C, 1, ..., 1).
public func globalMaxPool(_ x: Tensor) -> Tensor {
    globalPool(x) { p, n in
        var m = -Float.infinity
        for i in 0..<n where p[i] > m || p[i].isNaN { m = p[i]; if m.isNaN { break } }
        return m
    }
}

/// dX of `globalAveragePool`: dY / (spatial size) broadcast over each plane.
public func globalAveragePoolBackward(_ dY: Tensor, inputShape: [Int]) -> Tensor {
    let planes = inputShape.prefix(2).reduce(1, *), n = inputShape.dropFirst(2).reduce(1, *)
    let dX = Tensor(uninitialized: inputShape, dtype: .float32)
    let g = dY.pointer(as: Float.self), d = dX.pointer(as: Float.self)
    for plane in 0..<planes {
        let v = g[plane] / Float(n)
        for i in 0..<n { d[plane * n + i] = v }
    }
    return dX
}

private func globalPool(_ x: Tensor, _ reduce: (UnsafePointer<Float>, Int) -> Float) -> Tensor {
    precondition(x.rank >= 2, "global pooling needs (N, C, ...), got \(x.shape)")
    let planes = x.shape[0] * x.shape[1], n = x.shape.dropFirst(2).reduce(1, *)
    let y = Tensor(uninitialized: [x.shape[0], x.shape[1]] + Array(repeating: 1, count: x.rank - 2))
    let xp = UnsafePointer(x.pointer(as: Float.self)), yp = y.pointer(as: Float.self)
    for plane in 0..<planes { yp[plane] = reduce(xp + plane * n, n) }
    return y
}
