import Foundation
import Tensor

// Image quality metrics for evaluating a colorizer against held-out colour pages.
//
// - PSNR: over every sample of every channel, data range 1: 10 log10(1 / MSE). Identical images: +infinity.
// - SSIM (Wang et al. 2004): on the Rec. 601 luma of both images (grey images as they are), Gaussian
//   window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, data range 1, averaged over the "valid" positions
//   where the whole window fits (as in the authors' reference code). Images narrower than 11 px use the
//   largest odd window that fits. Luma, because a colorizer's structure lives in lightness; colour error
//   is measured by CIEDE2000. Identical images: exactly 1.
// - Mean CIEDE2000 (Sharma, Wu & Dalal 2005, the full formula with kL = kC = kH = 1) between the CIELAB
//   (D65) values of corresponding pixels. Identical images: 0.
// - Colourfulness (Hasler & Süsstrunk 2003): sigma_rgyb + 0.3 mu_rgyb on 0-255 values with rg = R - G,
//   yb = (R + G) / 2 - B. Grey images: 0. About 15 is "slightly colourful", 45 "quite", 60+ "highly".
//
// API:
//   psnr(_ a: Image, _ b: Image) throws -> Double
//   ssim(_ a: Image, _ b: Image) throws -> Double
//   meanCIEDE2000(_ a: Image, _ b: Image) throws -> Double
//   ciede2000(_ lab1: (l, a, b), _ lab2: (l, a, b)) -> Double
//   colourfulness(_ image: Image) -> Double
// The comparisons throw ImageError.mismatch when sizes differ; a grey image compares with a colour one
// as the grey repeated in R, G and B.

private func comparable(_ a: Image, _ b: Image) throws -> (Image, Image) {
    guard a.width == b.width, a.height == b.height else {
        throw ImageError.mismatch("cannot compare a \(a.width)x\(a.height) image with a \(b.width)x\(b.height) one")
    }
    if a.channels == b.channels { return (a, b) }
    return (a.rgb(), b.rgb())
}

/// Peak signal-to-noise ratio in dB, data range 1.
public func psnr(_ a: Image, _ b: Image) throws -> Double {
    let (a, b) = try comparable(a, b)
    var sum = 0.0
    a.pixels.withUnsafeBufferPointer { x in
        b.pixels.withUnsafeBufferPointer { y in
            for i in 0 ..< x.count {
                let d = Double(x[i]) - Double(y[i])
                sum += d * d
            }
        }
    }
    if sum == 0 { return .infinity }
    return 10 * log10(Double(a.pixels.count) / sum)
}

/// Normalised 1-D Gaussian taps.
func gaussianKernel(size: Int, sigma: Double) -> [Double] {
    let r = size / 2
    let taps = (0 ..< size).map { exp(-Double(($0 - r) * ($0 - r)) / (2 * sigma * sigma)) }
    let total = taps.reduce(0, +)
    return taps.map { $0 / total }
}

/// Separable "valid" filtering of a plane: output (w - k + 1) x (h - k + 1).
private func filterValid(_ plane: [Double], width w: Int, height h: Int, kernel: [Double]) -> [Double] {
    let k = kernel.count, ow = w - k + 1, oh = h - k + 1
    var rows = [Double](repeating: 0, count: ow * h)
    plane.withUnsafeBufferPointer { src in
        rows.withUnsafeMutableBufferPointer { dst in
            for y in 0 ..< h {
                for x in 0 ..< ow {
                    var s = 0.0
                    for t in 0 ..< k { s += kernel[t] * src[y * w + x + t] }
                    dst[y * ow + x] = s
                }
            }
        }
    }
    var out = [Double](repeating: 0, count: ow * oh)
    rows.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for y in 0 ..< oh {
                for t in 0 ..< k {
                    let weight = kernel[t], base = (y + t) * ow
                    for x in 0 ..< ow { dst[y * ow + x] += weight * src[base + x] }
                }
            }
        }
    }
    return out
}

/// Result slots written by concurrent tasks, each its own index.
private final class MomentSlots: @unchecked Sendable {
    var values: [[Double]]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ k: Int, _ value: [Double]) { lock.lock(); values[k] = value; lock.unlock() }
}

/// Structural similarity of the luma of two images (see the file header for the exact definition).
public func ssim(_ a: Image, _ b: Image) throws -> Double {
    let (a, b) = try comparable(a, b)
    let x = a.luminance().pixels.map(Double.init), y = b.luminance().pixels.map(Double.init)
    let w = a.width, h = a.height
    guard w > 0, h > 0 else { return 1 }
    var size = min(11, w, h)
    if size % 2 == 0 { size -= 1 }
    let kernel = gaussianKernel(size: size, sigma: 1.5)
    let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
    // The five local moments, filtered concurrently.
    let inputs = [x, y, zip(x, x).map(*), zip(y, y).map(*), zip(x, y).map(*)]
    let moments = MomentSlots(count: 5)
    concurrentFor(5) { k in
        moments.set(k, filterValid(inputs[k], width: w, height: h, kernel: kernel))
    }
    let mx = moments.values[0], my = moments.values[1], mxx = moments.values[2], myy = moments.values[3]
    let mxy = moments.values[4]
    var total = 0.0
    for i in 0 ..< mx.count {
        let vx = mxx[i] - mx[i] * mx[i], vy = myy[i] - my[i] * my[i], cxy = mxy[i] - mx[i] * my[i]
        let numerator = (2 * mx[i] * my[i] + c1) * (2 * cxy + c2)
        let denominator = (mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2)
        total += numerator / denominator
    }
    return total / Double(mx.count)
}

/// CIEDE2000 colour difference between two CIELAB colours (Sharma, Wu & Dalal 2005, kL = kC = kH = 1).
public func ciede2000(_ lab1: (l: Double, a: Double, b: Double), _ lab2: (l: Double, a: Double, b: Double)) -> Double {
    let degrees = 180 / Double.pi, radians = Double.pi / 180
    let pow25to7 = 6_103_515_625.0 // 25^7
    let c1 = (lab1.a * lab1.a + lab1.b * lab1.b).squareRoot()
    let c2 = (lab2.a * lab2.a + lab2.b * lab2.b).squareRoot()
    let cBar = (c1 + c2) / 2, cBar2 = cBar * cBar
    let cBar7 = cBar2 * cBar2 * cBar2 * cBar
    let g = 0.5 * (1 - (cBar7 / (cBar7 + pow25to7)).squareRoot())
    let a1p = (1 + g) * lab1.a, a2p = (1 + g) * lab2.a
    let c1p = (a1p * a1p + lab1.b * lab1.b).squareRoot(), c2p = (a2p * a2p + lab2.b * lab2.b).squareRoot()
    func hue(_ b: Double, _ ap: Double) -> Double {
        if b == 0 && ap == 0 { return 0 }
        let h = atan2(b, ap) * degrees
        return h < 0 ? h + 360 : h
    }
    let h1p = hue(lab1.b, a1p), h2p = hue(lab2.b, a2p)

    let dLp = lab2.l - lab1.l
    let dCp = c2p - c1p
    var dhp = 0.0
    if c1p * c2p != 0 {
        dhp = h2p - h1p
        if dhp > 180 { dhp -= 360 } else if dhp < -180 { dhp += 360 }
    }
    let dHp = 2 * (c1p * c2p).squareRoot() * sin(dhp / 2 * radians)

    let lBarP = (lab1.l + lab2.l) / 2
    let cBarP = (c1p + c2p) / 2
    var hBarP = h1p + h2p
    if c1p * c2p != 0 {
        if abs(h1p - h2p) <= 180 {
            hBarP = (h1p + h2p) / 2
        } else if h1p + h2p < 360 {
            hBarP = (h1p + h2p + 360) / 2
        } else {
            hBarP = (h1p + h2p - 360) / 2
        }
    }
    let t = 1 - 0.17 * cos((hBarP - 30) * radians) + 0.24 * cos(2 * hBarP * radians)
        + 0.32 * cos((3 * hBarP + 6) * radians) - 0.20 * cos((4 * hBarP - 63) * radians)
    let hueOffset = (hBarP - 275) / 25
    let dTheta = 30 * exp(-hueOffset * hueOffset)
    let cBarP2 = cBarP * cBarP
    let cBarP7 = cBarP2 * cBarP2 * cBarP2 * cBarP
    let rc = 2 * (cBarP7 / (cBarP7 + pow25to7)).squareRoot()
    let l50 = (lBarP - 50) * (lBarP - 50)
    let sl = 1 + 0.015 * l50 / (20 + l50).squareRoot()
    let sc = 1 + 0.045 * cBarP
    let sh = 1 + 0.015 * cBarP * t
    let rt = -sin(2 * dTheta * radians) * rc
    let l = dLp / sl, c = dCp / sc, h = dHp / sh
    return (l * l + c * c + h * h + rt * c * h).squareRoot()
}

/// Mean CIEDE2000 over corresponding pixels.
public func meanCIEDE2000(_ a: Image, _ b: Image) throws -> Double {
    let (a, b) = try comparable(a, b)
    let la = a.lab(), lb = b.lab()
    let n = a.planeSize
    guard n > 0 else { return 0 }
    // Chunks in parallel; per-chunk sums added in a fixed order so the result is deterministic.
    let p = la.pixels, q = lb.pixels
    var sums = [Double](repeating: 0, count: 16)
    sums.withUnsafeMutableBufferPointer { buffer in
        let slots = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n, chunks: 16) { chunk, range in
            var s = 0.0
            for i in range {
                s += ciede2000((Double(p[i]), Double(p[n + i]), Double(p[2 * n + i])),
                               (Double(q[i]), Double(q[n + i]), Double(q[2 * n + i])))
            }
            slots[chunk] = s
        }
    }
    return sums.reduce(0, +) / Double(n)
}

/// Hasler & Süsstrunk colourfulness (0 for grey images).
public func colourfulness(_ image: Image) -> Double {
    guard image.channels == 3, image.planeSize > 0 else { return 0 }
    let n = image.planeSize
    var sumRG = 0.0, sumYB = 0.0, sumRG2 = 0.0, sumYB2 = 0.0
    image.pixels.withUnsafeBufferPointer { p in
        for i in 0 ..< n {
            let r = Double(p[i]) * 255, g = Double(p[n + i]) * 255, b = Double(p[2 * n + i]) * 255
            let rg = r - g, yb = 0.5 * (r + g) - b
            sumRG += rg
            sumYB += yb
            sumRG2 += rg * rg
            sumYB2 += yb * yb
        }
    }
    let count = Double(n)
    let meanRG = sumRG / count, meanYB = sumYB / count
    let varRG = max(sumRG2 / count - meanRG * meanRG, 0), varYB = max(sumYB2 / count - meanYB * meanYB, 0)
    return (varRG + varYB).squareRoot() + 0.3 * (meanRG * meanRG + meanYB * meanYB).squareRoot()
}
