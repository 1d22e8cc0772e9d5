import Tensor

// Running the generator (any `(Tensor) throws -> Tensor` on [1, C, H, W] that keeps H and W) over a page
// of any size.
//
// 1. The page is padded to a multiple of `multiple` (a U-Net with k pooling levels needs 2^k; the seed
//    generator has 6, hence 64) by mirror reflection, split evenly between the two sides, and the output
//    is cropped back. Reflection (not zeros) keeps the border statistics of a page.
// 2. If the padded page is larger than `tileSize` on a side, it is cut into tiles of at most tileSize
//    (multiples of `multiple`) overlapping by at least `overlap` pixels. Each tile's output is weighted by
//    a ramp that is 0 in the outer quarter of the overlap (where a tile's own border effects live), rises
//    linearly across the middle half and is 1 inside; weights are 1 up to the page's own borders. The
//    blend is the weighted mean, so there are no hard seams, and a function whose receptive field reaches
//    at most overlap/4 pixels gives exactly the whole-page result (the tests check this with a 3x3 blur).
//    A U-Net sees farther, so its tiles can still differ slightly in colour; a larger overlap helps.
//
// API: TilingOptions, runTiled(_ input: Tensor, options:, _ model:) throws -> Tensor,
//      runTiled(_ image: Image, options:, _ model:) throws -> Image   (image <-> [-1, 1] tensors)
//      reflectPad(_ input: Tensor, top:left:bottom:right:) -> Tensor

public struct TilingOptions: Sendable, Equatable {
    /// Input sides are padded to a multiple of this.
    public var multiple: Int = 64
    /// Largest tile side; pages that fit (after padding) run in one piece. Rounded down to `multiple`.
    public var tileSize: Int = 1024
    /// Minimum overlap between neighbouring tiles, in pixels.
    public var overlap: Int = 64

    public init(multiple: Int = 64, tileSize: Int = 1024, overlap: Int = 64) {
        self.multiple = multiple
        self.tileSize = tileSize
        self.overlap = overlap
    }
}

/// Index into 0 ..< n by repeated mirror reflection (no edge repeat), for any integer i.
@inline(__always)
func reflectIndex(_ i: Int, _ n: Int) -> Int {
    if n == 1 { return 0 }
    let period = 2 * (n - 1)
    var m = i % period
    if m < 0 { m += period }
    return m < n ? m : period - m
}

/// [N, C, H, W] float32 padded by mirror reflection (repeated as needed for pads wider than the image).
public func reflectPad(_ input: Tensor, top: Int, left: Int, bottom: Int, right: Int) -> Tensor {
    precondition(input.rank == 4 && input.dtype == .float32)
    let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
    let oh = h + top + bottom, ow = w + left + right
    let out = Tensor(uninitialized: [n, c, oh, ow], dtype: .float32)
    let src = input.floats, dst = out.floats
    let columns = (0 ..< ow).map { reflectIndex($0 - left, w) }
    for plane in 0 ..< n * c {
        for y in 0 ..< oh {
            let sy = reflectIndex(y - top, h)
            let s = (plane * h + sy) * w, d = (plane * oh + y) * ow
            for x in 0 ..< ow { dst[d + x] = src[s + columns[x]] }
        }
    }
    return out
}

/// The [y0, y0+h) x [x0, x0+w) window of an [N, C, H, W] tensor, copied.
func cropTensor(_ input: Tensor, y0: Int, x0: Int, height h: Int, width w: Int) -> Tensor {
    let n = input.shape[0], c = input.shape[1], ih = input.shape[2], iw = input.shape[3]
    let out = Tensor(uninitialized: [n, c, h, w], dtype: .float32)
    let src = input.floats, dst = out.floats
    for plane in 0 ..< n * c {
        for y in 0 ..< h {
            let s = (plane * ih + y0 + y) * iw + x0, d = (plane * h + y) * w
            for x in 0 ..< w { dst[d + x] = src[s + x] }
        }
    }
    return out
}

/// Tile start positions along one axis of length `length` (tiles of `tile`, overlap >= `overlap`).
func tileStarts(length: Int, tile: Int, overlap: Int) -> [Int] {
    if tile >= length { return [0] }
    let stride = max(tile - overlap, 1)
    let count = (length - tile + stride - 1) / stride + 1
    // Spread the tiles evenly so every overlap is about the same; align starts to 1 px.
    return (0 ..< count).map { i in i * (length - tile) / (count - 1) }
}

/// Blend weights along one axis of a tile starting at `start` (see the file header).
func rampWeights(tile: Int, start: Int, length: Int, overlap: Int) -> [Float] {
    let margin = overlap / 4, ramp = max(overlap - 2 * margin, 1)
    let interiorBefore = start > 0, interiorAfter = start + tile < length
    return (0 ..< tile).map { i in
        var weight: Float = 1
        if interiorBefore { weight = min(max((Float(i - margin) + 0.5) / Float(ramp), 0), 1) }
        if interiorAfter {
            let j = tile - 1 - i
            weight = min(weight, min(max((Float(j - margin) + 0.5) / Float(ramp), 0), 1))
        }
        return weight
    }
}

/// Runs `model` over a [1, C, H, W] float32 input of any size; returns [1, OC, H, W].
public func runTiled(_ input: Tensor, options: TilingOptions = TilingOptions(),
                     _ model: (Tensor) throws -> Tensor) throws -> Tensor {
    guard input.rank == 4, input.shape[0] == 1, input.dtype == .float32 else {
        throw ImageError.badTensor(shape: input.shape, reason: "expected a float32 [1, C, H, W] page")
    }
    let multiple = max(options.multiple, 1)
    let h = input.shape[2], w = input.shape[3]
    let ph = (h + multiple - 1) / multiple * multiple, pw = (w + multiple - 1) / multiple * multiple
    let top = (ph - h) / 2, left = (pw - w) / 2
    let padded = ph == h && pw == w ? input
        : reflectPad(input, top: top, left: left, bottom: ph - h - top, right: pw - w - left)
    let tileLimit = max(options.tileSize / multiple * multiple, multiple)

    func checked(_ out: Tensor, _ th: Int, _ tw: Int) throws -> Tensor {
        guard out.rank == 4, out.shape[0] == 1, out.shape[2] == th, out.shape[3] == tw, out.dtype == .float32 else {
            throw ImageError.badTensor(shape: out.shape,
                                       reason: "the model turned a [1, \(input.shape[1]), \(th), \(tw)] input into this; expected [1, C, \(th), \(tw)] float32")
        }
        return out
    }

    if ph <= tileLimit && pw <= tileLimit {
        let out = try checked(model(padded), ph, pw)
        return ph == h && pw == w ? out : cropTensor(out, y0: top, x0: left, height: h, width: w)
    }

    let th = min(tileLimit, ph), tw = min(tileLimit, pw)
    let ys = tileStarts(length: ph, tile: th, overlap: options.overlap)
    let xs = tileStarts(length: pw, tile: tw, overlap: options.overlap)
    var accumulator: [Float] = [], weightSum = [Float](repeating: 0, count: ph * pw)
    var outChannels = 0
    for y0 in ys {
        let wy = rampWeights(tile: th, start: y0, length: ph, overlap: options.overlap)
        for x0 in xs {
            let wx = rampWeights(tile: tw, start: x0, length: pw, overlap: options.overlap)
            let out = try checked(model(cropTensor(padded, y0: y0, x0: x0, height: th, width: tw)), th, tw)
            if outChannels == 0 {
                outChannels = out.shape[1]
                accumulator = [Float](repeating: 0, count: outChannels * ph * pw)
            } else if out.shape[1] != outChannels {
                throw ImageError.badTensor(shape: out.shape, reason: "tiles gave \(outChannels) and \(out.shape[1]) channels")
            }
            let src = out.floats
            accumulator.withUnsafeMutableBufferPointer { acc in
                for y in 0 ..< th {
                    for x in 0 ..< tw {
                        let weight = wy[y] * wx[x]
                        if weight == 0 { continue }
                        weightSum[(y0 + y) * pw + x0 + x] += weight
                        for c in 0 ..< outChannels {
                            acc[(c * ph + y0 + y) * pw + x0 + x] += weight * src[(c * th + y) * tw + x]
                        }
                    }
                }
            }
        }
    }
    let result = Tensor(uninitialized: [1, outChannels, h, w], dtype: .float32)
    let dst = result.floats
    for c in 0 ..< outChannels {
        for y in 0 ..< h {
            for x in 0 ..< w {
                let i = (top + y) * pw + left + x
                dst[(c * h + y) * w + x] = accumulator[c * ph * pw + i] / weightSum[i]
            }
        }
    }
    return result
}

/// `runTiled` on an image: the model sees [1, C, H, W] in [-1, 1] and returns the same range.
public func runTiled(_ image: Image, options: TilingOptions = TilingOptions(),
                     _ model: (Tensor) throws -> Tensor) throws -> Image {
    try Image(tensor: runTiled(image.tensor(), options: options, model))
}
