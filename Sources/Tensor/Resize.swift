import Foundation

// Resize (ONNX Resize / Upsample, PyTorch interpolate): separable, one axis at a time.
//
// For each resized axis we precompute, per output position, the input positions it reads and their
// weights ("taps"). Nearest is then a pure index remap (any dtype, no arithmetic); linear and cubic apply
// the taps axis by axis in Float (float32 input) or Double (every other dtype). The math follows
// onnx/reference/ops/op_resize.py.

/// How a nearest-mode source coordinate is rounded to an index.
public enum NearestRounding: String, Sendable, CaseIterable {
    case roundPreferFloor = "round_prefer_floor"
    case roundPreferCeil = "round_prefer_ceil"
    case floor
    case ceil
    /// Upsample and Resize-10 (as onnxruntime): truncate when upsampling, ceil when downsampling.
    case simple
}

/// How an output coordinate maps back to an input coordinate (ONNX `coordinate_transformation_mode`).
public enum CoordinateTransform: String, Sendable, CaseIterable {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric
    case tfHalfPixelForNN = "tf_half_pixel_for_nn"
    case tfCropAndResize = "tf_crop_and_resize"
}

public enum ResizeInterpolation: String, Sendable, CaseIterable {
    case nearest, linear, cubic
}

public struct ResizeOptions: Sendable {
    public var interpolation: ResizeInterpolation
    public var nearest: NearestRounding
    public var coordinates: CoordinateTransform
    /// The `A` of the cubic convolution kernel (-0.75 as in PyTorch; -0.5 as in TensorFlow).
    public var cubicCoefficient: Double
    /// Give zero weight to taps outside the input, then renormalise.
    public var excludeOutside: Bool
    /// The value `tf_crop_and_resize` writes where the source coordinate falls outside the input.
    public var extrapolationValue: Double
    /// Widen the linear/cubic kernel when downsampling so every input pixel contributes.
    public var antialias: Bool

    public init(interpolation: ResizeInterpolation = .nearest, nearest: NearestRounding = .roundPreferFloor,
                coordinates: CoordinateTransform = .halfPixel, cubicCoefficient: Double = -0.75,
                excludeOutside: Bool = false, extrapolationValue: Double = 0, antialias: Bool = false) {
        self.interpolation = interpolation
        self.nearest = nearest
        self.coordinates = coordinates
        self.cubicCoefficient = cubicCoefficient
        self.excludeOutside = excludeOutside
        self.extrapolationValue = extrapolationValue
        self.antialias = antialias
    }
}

/// The input positions and weights each output position of one axis reads.
/// `indices[j * taps + k]` (clamped into the input) and `weights[j * taps + k]` for output j;
/// `extrapolated[j]` marks outputs that take `extrapolationValue` instead (tf_crop_and_resize).
public struct AxisTaps: Sendable {
    public let taps: Int
    public let indices: [Int]
    public let weights: [Double]
    public let extrapolated: [Bool]
}

/// The input coordinate that output position `x` maps to.
func sourceCoordinate(_ x: Double, transform: CoordinateTransform, scale: Double, inLength: Int,
                      outLength: Int, roi: (Double, Double)) -> Double {
    let inW = Double(inLength)
    let outW = scale * inW  // the un-rounded output length
    // NOTE: this follows onnx's reference implementation, which generates the conformance suite. It uses
    // the fractional output length scale * inW where the spec text (and onnxruntime) use the integer one,
    // so align_corners and tf_crop_and_resize differ from onnxruntime when scale * inW is not a whole
    // number (test_resize_downsample_scales_*_align_corners), and a one-pixel pytorch_half_pixel output
    // samples -0.5 rather than 0 (the same value for nearest and linear; not for cubic).
    switch transform {
    case .alignCorners:
        return outW == 1 ? 0 : x * (inW - 1) / (outW - 1)
    case .asymmetric:
        return x / scale
    case .tfHalfPixelForNN:
        return (x + 0.5) / scale
    case .tfCropAndResize:
        let start = roi.0 * (inW - 1)
        return outW == 1 ? (roi.1 - roi.0) * (inW - 1) / 2 + start
            : x * (roi.1 - roi.0) * (inW - 1) / (outW - 1) + start
    case .pytorchHalfPixel:
        return outW == 1 ? -0.5 : (x + 0.5) / scale - 0.5
    case .halfPixel:
        return (x + 0.5) / scale - 0.5
    case .halfPixelSymmetric:
        let adjustment = Double(outLength) / outW
        let offset = inW / 2 * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    }
}

/// Cubic convolution kernel weight at distance `x` (Keys 1981).
@inline(__always)
func cubicWeight(_ x: Double, _ a: Double) -> Double {
    let x = abs(x)
    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
    return 0
}

/// Input positions each output position of an axis reads: 1 for nearest; 2 (linear) or 4 (cubic), widened
/// by 1/scale with antialias. A caller checks `outLength * taps` entries (16 bytes each) against the memory
/// budget before `resizeAxisTaps` builds them. Scales under 2^-40 count as 2^-40 (no tensor is that long).
public func resizeTapCount(scale: Double, options o: ResizeOptions) -> Int {
    let support = o.antialias ? min(max(scale, 0x1p-40), 1) : 1
    switch o.interpolation {
    case .nearest: return 1
    case .linear: return o.antialias ? 2 - 2 * Int(Foundation.floor(-1 / support) + 1) : 2
    case .cubic: return o.antialias ? 2 - 2 * Int(Foundation.floor(-2 / support) + 1) : 4
    }
}

/// Taps of one axis resized from `inLength` to `outLength` with scale factor `scale` (output/input).
/// `roi` is the (start, end) of the crop in normalised coordinates, used by tf_crop_and_resize only.
public func resizeAxisTaps(inLength: Int, outLength: Int, scale: Double, roi: (Double, Double) = (0, 1),
                           options o: ResizeOptions) -> AxisTaps {
    var indices: [Int] = [], weights: [Double] = [], extrapolated: [Bool] = []
    let last = inLength - 1
    let support = o.antialias ? min(scale, 1) : 1
    let taps = resizeTapCount(scale: scale, options: o)
    indices.reserveCapacity(outLength * taps)
    weights.reserveCapacity(outLength * taps)
    for j in 0..<outLength {
        var x = sourceCoordinate(Double(j), transform: o.coordinates, scale: scale, inLength: inLength,
                                 outLength: outLength, roi: roi)
        // NOTE: a NaN or infinite roi (a crafted file) is pinned far outside the input, NaN to the low side,
        // instead of trapping in Int(x).
        if !(x.magnitude < 0x1p40) { x = x > 0 ? 0x1p40 : -0x1p40 }
        extrapolated.append(o.coordinates == .tfCropAndResize && (x < 0 || x > Double(last)))
        let xi = Foundation.floor(x)
        // The reference prefers the pixel left of x: at an integer x the ratio is 1, not 0.
        let isInteger = x == xi
        let ratio = isInteger ? 1 : x - xi
        let left = Int(xi) - (isInteger ? 1 : 0)
        switch o.interpolation {
        case .nearest:
            let pick: Int
            switch o.nearest {
            case .simple: pick = scale < 1 ? Int(Foundation.ceil(x)) : Int(x)
            case _ where isInteger: pick = left + 1
            case .roundPreferFloor: pick = ratio <= 0.5 ? left : left + 1
            case .roundPreferCeil: pick = ratio < 0.5 ? left : left + 1
            case .floor: pick = left
            case .ceil: pick = left + 1
            }
            indices.append(min(max(pick, 0), last))
            weights.append(1)
        case .linear, .cubic:
            // Taps sit at left + i for i in first..<first+taps; weight from the distance i - ratio.
            let first = 1 - taps / 2
            var w = (0..<taps).map { k -> Double in
                let d = Double(first + k) - ratio
                if o.interpolation == .linear { return max(0, 1 - abs(d * support)) }
                return cubicWeight(d * support, o.cubicCoefficient)
            }
            if o.excludeOutside {
                for k in 0..<taps where left + first + k < 0 || left + first + k > last { w[k] = 0 }
            }
            let sum = w.reduce(0, +)
            if (o.antialias || o.excludeOutside) && sum != 0 { w = w.map { $0 / sum } }
            for k in 0..<taps {
                indices.append(min(max(left + first + k, 0), last))
                weights.append(w[k])
            }
        }
    }
    return AxisTaps(taps: taps, indices: indices, weights: weights, extrapolated: extrapolated)
}

/// The axes a resize changes, in the order it resizes them, with their taps. Axes whose size and scale
/// are unchanged (and whose roi is [0, 1]) are left out, as are empty ones.
func resizePlan(inShape: [Int], outShape: [Int], scales: [Double], roi: [(Double, Double)]?, order: [Int]?,
                options: ResizeOptions) -> [(axis: Int, taps: AxisTaps)] {
    precondition(outShape.count == inShape.count && scales.count == inShape.count)
    var plan: [(axis: Int, taps: AxisTaps)] = []
    for d in order ?? Array(0..<inShape.count) {
        let axisRoi = roi?[d] ?? (0, 1)
        let trivialRoi = options.coordinates != .tfCropAndResize
            || (abs(axisRoi.0) < 1e-9 && abs(axisRoi.1 - 1) < 1e-9)
        if outShape[d] == inShape[d] && abs(scales[d] - 1) < 1e-9 && trivialRoi { continue }
        if inShape[d] == 0 || outShape[d] == 0 { continue }
        plan.append((d, resizeAxisTaps(inLength: inShape[d], outLength: outShape[d], scale: scales[d],
                                       roi: axisRoi, options: options)))
    }
    return plan
}

/// Resizes `x` to `outShape`. `scales[d]` is the scale factor of axis d (output/input, as given or as
/// derived from the sizes), `roi` per axis for tf_crop_and_resize. Axes whose size and scale are
/// unchanged (and whose roi is [0, 1]) are skipped; the others are resized in `order`.
/// Shapes: x [d0, ...] -> outShape. Any dtype for nearest; numeric dtypes for linear/cubic.
public func resized(_ x: Tensor, outShape: [Int], scales: [Double], roi: [(Double, Double)]? = nil,
                    order: [Int]? = nil, options: ResizeOptions) -> Tensor {
    let r = x.rank
    // NOTE: before the plan: an empty output needs no taps, whatever length its other axes claim.
    if x.count == 0 || outShape.contains(0) { return Tensor(zeros: outShape, dtype: x.dtype) }
    let plan = resizePlan(inShape: x.shape, outShape: outShape, scales: scales, roi: roi, order: order, options: options)
    if plan.isEmpty { return x }

    if options.interpolation == .nearest {
        // One gather through per-axis index maps; extrapolated positions read the fill value.
        var maps = (0..<r).map { Array(0..<x.shape[$0]) }
        for (axis, t) in plan {
            maps[axis] = zip(t.indices, t.extrapolated).map { $1 ? -1 : $0 }
        }
        let fill = x.dtype == .string ? nil : scalarTensor(options.extrapolationValue, dtype: x.dtype)
        return remapped(x, maps: maps, fill: fill)
    }
    if x.dtype == .float32 {
        // Float32 runs in place on tensor storage: no conversion, one buffer per resized axis.
        var current = x
        var shape = x.shape
        for step in plan {
            shape[step.axis] = step.taps.extrapolated.count
            let next = Tensor(uninitialized: shape)
            resizeAxis(current.pointer(as: Float.self), next.pointer(as: Float.self), shape: current.shape,
                       axis: step.axis, taps: step.taps, fill: Float(options.extrapolationValue))
            current = next
        }
        return current
    }
    var data = x.doubles()
    var shape = x.shape
    for step in plan {
        var next = [Double](repeating: 0, count: shape.reduce(1, *) / shape[step.axis] * step.taps.extrapolated.count)
        data.withUnsafeMutableBufferPointer { src in
            next.withUnsafeMutableBufferPointer { dst in
                resizeAxis(src.baseAddress!, dst.baseAddress!, shape: shape, axis: step.axis, taps: step.taps,
                           fill: options.extrapolationValue)
            }
        }
        shape[step.axis] = step.taps.extrapolated.count
        data = next
    }
    return tensorFromDoubles(data, shape: outShape, dtype: x.dtype, rounding: true)
}

/// One separable pass: resizes axis `axis` of `src` (shape `shape`) into `dst`, every element of which
/// it writes. Shapes: [outer, inN, inner] -> [outer, outN, inner].
func resizeAxis<F: BinaryFloatingPoint>(_ src: UnsafeMutablePointer<F>, _ dst: UnsafeMutablePointer<F>,
                                        shape: [Int], axis: Int, taps t: AxisTaps, fill: F) {
    let outer = shape[0..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let inN = shape[axis], outN = t.extrapolated.count, n = t.taps
    let weights = t.weights.map { F($0) }
    weights.withUnsafeBufferPointer { w in
        t.indices.withUnsafeBufferPointer { idx in
            if inner == 1 {
                // Resizing the innermost axis: each output is a dot product of its taps.
                parallelRows(outer, work: outN * n) { o in
                    let from = src + o * inN, row = dst + o * outN
                    for j in 0..<outN {
                        if t.extrapolated[j] { row[j] = fill; continue }
                        var sum: F = 0
                        for k in 0..<n { sum += w[j * n + k] * from[idx[j * n + k]] }
                        row[j] = sum
                    }
                }
                return
            }
            // An outer axis: whole rows of `inner` elements blend; the inner loop vectorises.
            parallelRows(outer, work: outN * n * inner) { o in
                for j in 0..<outN {
                    let row = dst + (o * outN + j) * inner
                    if t.extrapolated[j] { row.update(repeating: fill, count: inner); continue }
                    let first = src + (o * inN + idx[j * n]) * inner
                    let w0 = w[j * n]
                    for i in 0..<inner { row[i] = w0 * first[i] }
                    for k in 1..<max(n, 1) {
                        let wk = w[j * n + k]
                        if wk == 0 { continue }
                        let from = src + (o * inN + idx[j * n + k]) * inner
                        for i in 0..<inner { row[i] += wk * from[i] }
                    }
                }
            }
        }
    }
}

/// Gradient of `resized` for float32: each output's gradient flows back to the input positions it read,
/// weighted by their taps (the transpose of the forward passes, applied in reverse order); extrapolated
/// outputs pass nothing back. Shapes: dY [outShape] -> dX [inputShape].
public func resizeBackward(_ dY: Tensor, inputShape: [Int], scales: [Double], roi: [(Double, Double)]? = nil,
                           options: ResizeOptions) -> Tensor {
    let plan = resizePlan(inShape: inputShape, outShape: dY.shape, scales: scales, roi: roi, order: nil, options: options)
    if dY.count == 0 || inputShape.contains(0) { return Tensor(zeros: inputShape) }
    if plan.isEmpty { return dY.copy() }
    // Shapes before each forward step.
    var shapes = [inputShape]
    for step in plan {
        var next = shapes.last!
        next[step.axis] = step.taps.extrapolated.count
        shapes.append(next)
    }
    var g = dY
    for (k, step) in plan.enumerated().reversed() {
        let shape = shapes[k], t = step.taps
        let outer = shape[0..<step.axis].reduce(1, *), inner = shape[(step.axis + 1)...].reduce(1, *)
        let inN = shape[step.axis], outN = t.extrapolated.count
        let dX = Tensor(zeros: shape)
        let src = g.pointer(as: Float.self), dst = dX.pointer(as: Float.self)
        for o in 0..<outer {
            for j in 0..<outN where !t.extrapolated[j] {
                let from = src + (o * outN + j) * inner
                for tap in 0..<t.taps {
                    let w = Float(t.weights[j * t.taps + tap])
                    if w == 0 { continue }
                    let to = dst + (o * inN + t.indices[j * t.taps + tap]) * inner
                    for i in 0..<inner { to[i] += w * from[i] }
                }
            }
        }
        g = dX
    }
    return g
}

/// Reference for `resized` (float32): each output element is the full tensor-product sum over its
/// per-axis taps, with no separation into passes; any extrapolated axis gives the extrapolation value.
public func resizedNaive(_ x: Tensor, outShape: [Int], scales: [Double], roi: [(Double, Double)]? = nil,
                         options: ResizeOptions) -> Tensor {
    let r = x.rank
    let taps = (0..<r).map { d -> AxisTaps in
        if outShape[d] == x.shape[d] && scales[d] == 1 && options.coordinates != .tfCropAndResize {
            return AxisTaps(taps: 1, indices: Array(0..<x.shape[d]), weights: Array(repeating: 1, count: x.shape[d]),
                            extrapolated: Array(repeating: false, count: x.shape[d]))
        }
        return resizeAxisTaps(inLength: x.shape[d], outLength: outShape[d], scale: scales[d],
                              roi: roi?[d] ?? (0, 1), options: options)
    }
    let out = Tensor(zeros: outShape)
    let src = x.floats, dst = out.floats
    let inStrides = x.strides, outStrides = Tensor.strides(of: outShape)
    for i in 0..<out.count {
        let position = (0..<r).map { (i / outStrides[$0]) % outShape[$0] }
        if (0..<r).contains(where: { taps[$0].extrapolated[position[$0]] }) {
            dst[i] = Float(options.extrapolationValue)
            continue
        }
        var sum = 0.0
        var k = Array(repeating: 0, count: r)
        outer: while true {
            var weight = 1.0, s = 0
            for d in 0..<r {
                let t = taps[d], at = position[d] * t.taps + k[d]
                weight *= t.weights[at]
                s += t.indices[at] * inStrides[d]
            }
            sum += weight * Double(src[s])
            var d = r - 1
            while d >= 0 {
                k[d] += 1
                if k[d] < taps[d].taps { continue outer }
                k[d] = 0
                d -= 1
            }
            break
        }
        dst[i] = Float(sum)
    }
    return out
}
