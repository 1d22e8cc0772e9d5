import Foundation

// `--keep-lines`: the lightness of every pixel comes from the original page, only the colour from the
// generator. In CIELAB: L* from the original, a* and b* from the generated image. Line art, screentone and
// lettering therefore stay exactly as drawn, and a blurry generator cannot soften them.
//
// A chosen (L*, a*, b*) can lie outside the sRGB gamut (bright saturated yellow at low L*, say). Clipping
// RGB would change L*, so instead the chroma is scaled down (hue kept) by bisection until the colour fits:
// the output's L* equals the input's to float precision (the tests check |ΔL*| < 1e-3).
//
// Also here: the check for pages that are already in colour, so a batch run can skip them.
//
// API:
//   keepLines(original:generated:) throws -> Image          3 channels
//   chromaStatistics(_ image:vivid:) -> (mean, vividShare)   (vividShare > 0.05: already a colour page)

/// sRGB for (l, a, b), reducing chroma until the colour is inside the gamut (L* kept).
@inline(__always)
func rgbKeepingLightness(_ l: Double, _ a: Double, _ b: Double) -> (Double, Double, Double) {
    // Black and white have no room for chroma.
    if l <= 0 { return (0, 0, 0) }
    if l >= 100 { return (1, 1, 1) }
    let tolerance = 1e-7
    func fits(_ c: (r: Double, g: Double, b: Double)) -> Bool {
        c.r >= -tolerance && c.r <= 1 + tolerance && c.g >= -tolerance && c.g <= 1 + tolerance
            && c.b >= -tolerance && c.b <= 1 + tolerance
    }
    var rgb = labToRGB(l, a, b)
    if !fits(rgb) {
        // Largest chroma scale in [0, 1] that fits, to 2^-16 (well below what 8-bit output can show).
        var lo = 0.0, hi = 1.0
        for _ in 0 ..< 16 {
            let mid = (lo + hi) / 2
            if fits(labToRGB(l, a * mid, b * mid)) { lo = mid } else { hi = mid }
        }
        rgb = labToRGB(l, a * lo, b * lo)
    }
    return (min(max(rgb.r, 0), 1), min(max(rgb.g, 0), 1), min(max(rgb.b, 0), 1))
}

/// Throws unless `generated` is a 3-channel image of `page`'s size (`purpose` names the step in the error).
func checkGenerated(_ generated: Image, matches page: Image, for purpose: String) throws {
    guard page.width == generated.width, page.height == generated.height else {
        throw ImageError.mismatch("the page is \(page.width)x\(page.height) but the generated image is "
            + "\(generated.width)x\(generated.height)")
    }
    guard generated.channels == 3 else {
        throw ImageError.mismatch("the generated image has \(generated.channels) channel(s); \(purpose) needs colour")
    }
}

/// L* from `original` (grey or colour), a* b* from `generated` (colour); same size.
public func keepLines(original: Image, generated: Image) throws -> Image {
    try checkGenerated(generated, matches: original, for: "keeping lines")
    let n = original.planeSize
    let source = original, colours = generated
    var out = Image(width: original.width, height: original.height, channels: 3)
    out.pixels.withUnsafeMutableBufferPointer { buffer in
        let dst = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n) { _, range in
            let p = source.pixels, q = colours.pixels
            for i in range {
                let l = source.channels == 1 ? lightnessOfGrey(Double(p[i]))
                    : rgbToLab(Double(p[i]), Double(p[n + i]), Double(p[2 * n + i])).l
                let lab = rgbToLab(Double(q[i]), Double(q[n + i]), Double(q[2 * n + i]))
                let rgb = rgbKeepingLightness(l, lab.a, lab.b)
                dst[i] = Float(rgb.0)
                dst[n + i] = Float(rgb.1)
                dst[2 * n + i] = Float(rgb.2)
            }
        }
    }
    return out
}

/// Chroma statistics over (a sample of) the pixels: the mean CIELAB chroma C*ab = sqrt(a*^2 + b*^2) and
/// the share of pixels with C*ab above `vivid`. Grey images: (0, 0).
public func chromaStatistics(_ image: Image, vivid: Double = 20) -> (mean: Double, vividShare: Double) {
    guard image.channels == 3, image.planeSize > 0 else { return (0, 0) }
    let n = image.planeSize, step = max(1, n / 250_000)
    var total = 0.0, count = 0, vividCount = 0
    image.pixels.withUnsafeBufferPointer { p in
        var i = 0
        while i < n {
            let lab = rgbToLab(Double(p[i]), Double(p[n + i]), Double(p[2 * n + i]))
            let chroma = (lab.a * lab.a + lab.b * lab.b).squareRoot()
            total += chroma
            if chroma > vivid { vividCount += 1 }
            count += 1
            i += step
        }
    }
    return (total / Double(count), Double(vividCount) / Double(count))
}

// A page already carries colour when more than `ColorizeOptions.colorShare` (5 %) of its pixels have chroma
// C*ab > 20 (`chromaStatistics(_:).vividShare`; the pipeline's colour-page skip). NOTE: not the mean chroma:
// a yellowed black-and-white scan has C*ab ~5-12 on every pixel, while the least colourful Pepper&Carrot page
// measured here has a mean of only 9.3. The vivid share separates them: every one of the 47 Pepper&Carrot
// pages and the Little Nemo page has 0.11-0.80 of its pixels above C* 20; uniform paper tint has none.
