import Foundation

// Colour at a reduced scale, detail at the page's: the generator runs on the page shrunk by `scale`
// (area-averaged), and its colour comes back to full size by the fast guided filter (He & Sun 2015,
// "Fast Guided Filter"; the guided filter: He, Sun & Tang 2010). Colour is low-frequency — the seed's
// own observation, and why chroma-first colorizers predict it at a quarter of the resolution — so the
// network's work falls with scale^2 while edges still follow the page: each output channel is fitted,
// window by window at the reduced scale, as a linear function of the page's lightness (q = A·I + B),
// and A, B are upsampled bilinearly and applied to the full-size page. Where the page has an ink edge
// inside a window, the colour steps with it; in flat areas it is the model's colour, smoothed.
//
// Channels are fitted in CIELAB (L*, a*, b*), so a colour edge that is a lightness edge in the page
// (a coloured region against white paper) is reproduced sharply, and keep-lines / compositing later
// replace L* by the page's own anyway.
//
// API:
//   Image.areaResized(width:height:) -> Image           box-filter (area) resampling, for reductions
//   guidedUpsample(_ low: Image, lowGuide: Image, guide: Image, radius:epsilon:) -> Image
//   ReducedScaleOptions (scale, radius, epsilon);  scaledSize(width:height:scale:)

public struct ReducedScaleOptions: Sendable, Equatable {
    /// The generator's input as a fraction of the page's side (1: the page as it is).
    public var scale: Double = 1
    /// Window radius of the guided filter, in pixels of the reduced image.
    public var radius: Int = 2
    /// Regulariser of the guided filter, in units of the guide (lightness in [0, 1]) squared: edges weaker
    /// than about sqrt(epsilon) in lightness do not carry colour edges.
    public var epsilon: Float = 1e-3

    public init(scale: Double = 1, radius: Int = 2, epsilon: Float = 1e-3) {
        self.scale = scale
        self.radius = radius
        self.epsilon = epsilon
    }
}

/// The reduced size of a width x height page at `scale` (each side at least 1 pixel).
public func scaledSize(width: Int, height: Int, scale: Double) -> (width: Int, height: Int) {
    (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
}

extension Image {
    /// Area (box-filter) resampling: each output pixel is the mean of the source area it covers, partial
    /// pixels weighted by their overlap. Alias-free for reductions; for enlargements it is nearest-like.
    public func areaResized(width w: Int, height h: Int) -> Image {
        precondition(w > 0 && h > 0 && width > 0 && height > 0)
        if w == width && h == height { return self }
        let horizontal = areaTaps(from: width, to: w), vertical = areaTaps(from: height, to: h)
        // Rows first (width -> w), then columns (height -> h).
        var rows = Image(width: w, height: height, channels: channels)
        rows.pixels.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for row in 0 ..< channels * height {
                    let s = row * width, d = row * w
                    for x in 0 ..< w {
                        var sum: Float = 0
                        for (i, weight) in horizontal[x] { sum += src[s + i] * weight }
                        dst[d + x] = sum
                    }
                }
            }
        }
        var out = Image(width: w, height: h, channels: channels)
        out.pixels.withUnsafeMutableBufferPointer { dst in
            rows.pixels.withUnsafeBufferPointer { src in
                for c in 0 ..< channels {
                    for y in 0 ..< h {
                        let d = (c * h + y) * w
                        for (j, weight) in vertical[y] {
                            let s = (c * height + j) * w
                            for x in 0 ..< w { dst[d + x] += src[s + x] * weight }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// For each of `m` output samples, the source samples (of `n`) it covers and their weights (summing to 1).
private func areaTaps(from n: Int, to m: Int) -> [[(Int, Float)]] {
    let step = Double(n) / Double(m)
    return (0 ..< m).map { k in
        let start = Double(k) * step, end = Double(k + 1) * step
        var taps: [(Int, Float)] = []
        var i = Int(start.rounded(.down))
        while Double(i) < end && i < n {
            let overlap = min(end, Double(i + 1)) - max(start, Double(i))
            if overlap > 1e-12 { taps.append((i, Float(overlap / step))) }
            i += 1
        }
        return taps
    }
}

/// Mean over the (2r+1)^2 window around each pixel, windows clipped at the borders (the mean of what is
/// inside), by running sums: O(pixels) for any radius.
func boxMean(_ plane: [Float], width: Int, height: Int, radius r: Int) -> [Float] {
    var rows = [Float](repeating: 0, count: plane.count)
    for y in 0 ..< height {
        let base = y * width
        var sum: Float = 0
        // Window [x - r, x + r] ∩ [0, width).
        for x in 0 ..< min(r, width) { sum += plane[base + x] }
        for x in 0 ..< width {
            if x + r < width { sum += plane[base + x + r] }
            if x - r - 1 >= 0 { sum -= plane[base + x - r - 1] }
            let count = min(x + r, width - 1) - max(x - r, 0) + 1
            rows[base + x] = sum / Float(count)
        }
    }
    var out = [Float](repeating: 0, count: plane.count)
    var sums = [Float](repeating: 0, count: width)
    for y in 0 ..< min(r, height) { for x in 0 ..< width { sums[x] += rows[y * width + x] } }
    for y in 0 ..< height {
        if y + r < height { for x in 0 ..< width { sums[x] += rows[(y + r) * width + x] } }
        if y - r - 1 >= 0 { for x in 0 ..< width { sums[x] -= rows[(y - r - 1) * width + x] } }
        let count = Float(min(y + r, height - 1) - max(y - r, 0) + 1)
        for x in 0 ..< width { out[y * width + x] = sums[x] / count }
    }
    return out
}

/// `low` (any channels, the reduced size of `lowGuide`) brought to `guide`'s size by the fast guided filter:
/// per channel, q = A·I + B with A, B fitted in windows of `radius` at the reduced scale against `lowGuide`
/// and upsampled bilinearly. Guides are 1-channel lightness in [0, 1].
public func guidedUpsample(_ low: Image, lowGuide: Image, guide: Image, radius: Int, epsilon: Float) throws -> Image {
    guard lowGuide.channels == 1, guide.channels == 1 else {
        throw ImageError.mismatch("the guided filter's guides must be grey")
    }
    guard low.width == lowGuide.width, low.height == lowGuide.height else {
        throw ImageError.mismatch("the reduced output is \(low.width)x\(low.height) but its guide is "
            + "\(lowGuide.width)x\(lowGuide.height)")
    }
    let w = low.width, h = low.height, n = low.planeSize
    let i = lowGuide.pixels
    let meanI = boxMean(i, width: w, height: h, radius: radius)
    let varI = zip(boxMean(i.map { $0 * $0 }, width: w, height: h, radius: radius), meanI).map { $0 - $1 * $1 }
    var coefficients = Image(width: w, height: h, channels: 2 * low.channels)
    for c in 0 ..< low.channels {
        let p = Array(low.pixels[c * n ..< (c + 1) * n])
        let meanP = boxMean(p, width: w, height: h, radius: radius)
        let meanIP = boxMean(zip(i, p).map { $0 * $1 }, width: w, height: h, radius: radius)
        var a = [Float](repeating: 0, count: n), b = a
        for k in 0 ..< n {
            a[k] = (meanIP[k] - meanI[k] * meanP[k]) / (max(varI[k], 0) + epsilon)
            b[k] = meanP[k] - a[k] * meanI[k]
        }
        let meanA = boxMean(a, width: w, height: h, radius: radius), meanB = boxMean(b, width: w, height: h, radius: radius)
        coefficients.pixels.replaceSubrange(2 * c * n ..< (2 * c + 1) * n, with: meanA)
        coefficients.pixels.replaceSubrange((2 * c + 1) * n ..< (2 * c + 2) * n, with: meanB)
    }
    let full = coefficients.resized(width: guide.width, height: guide.height)
    let m = guide.planeSize
    var out = Image(width: guide.width, height: guide.height, channels: low.channels)
    for c in 0 ..< low.channels {
        for k in 0 ..< m {
            out.pixels[c * m + k] = full.pixels[2 * c * m + k] * guide.pixels[k] + full.pixels[(2 * c + 1) * m + k]
        }
    }
    return out
}
