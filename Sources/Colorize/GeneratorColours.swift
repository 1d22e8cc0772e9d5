import Foundation
import Tensor
import Training

// What a generator's output channels mean (Training.GeneratorColour), on the image side: training targets
// in the generator's colour space, its outputs back to sRGB, and the a*b* bins and rebalancing weights of an
// a*b*-class generator (Zhang, Isola & Efros 2016, section 3.1–3.2).
//
// API: OutputColour, labTarget(_ rgb: Tensor) -> Tensor, image(fromGeneratorOutput:colour:) throws -> Image,
//      inGamutABBins(binSize:) -> [[Float]], rebalancingWeights(pages:bins:sigma:mix:) -> [Float]

/// How to read a generator's 3 output channels: sRGB or scaled CIELAB (`LabScale`).
public enum OutputColour: Sendable, Equatable {
    case rgb, lab

    /// From an exported generator's metadata (`mangacolor.colour`; absent: RGB).
    public init(metadata: [String: String]) throws {
        self = try GeneratorColour(exportedMetadata: metadata).outputIsLab ? .lab : .rgb
    }
}

/// Scaled Lab [N, 3, H, W] (L*/50 - 1, a*/110, b*/110) of an sRGB tensor in [-1, 1].
public func labTarget(_ rgb: Tensor) -> Tensor {
    let s = rgb.shape, plane = s[2] * s[3]
    precondition(s.count == 4 && s[1] == 3, "Lab targets need [N, 3, H, W] RGB, got \(s)")
    let out = Tensor(uninitialized: s)
    let src = rgb.floats, dst = out.floats
    for b in 0..<s[0] {
        let base = b * 3 * plane
        for i in 0..<plane {
            func v(_ c: Int) -> Double { Double(min(max((src[base + c * plane + i] + 1) / 2, 0), 1)) }
            let lab = rgbToLab(v(0), v(1), v(2))
            dst[base + i] = Float(lab.l) / LabScale.lightness - 1
            dst[base + plane + i] = Float(lab.a) / LabScale.chroma
            dst[base + 2 * plane + i] = Float(lab.b) / LabScale.chroma
        }
    }
    return out
}

/// A generator's [1, 3, H, W] output as an sRGB image: RGB in [-1, 1], or scaled Lab brought into the sRGB
/// gamut by reducing chroma at the given lightness (as --keep-lines does).
public func image(fromGeneratorOutput output: Tensor, colour: OutputColour) throws -> Image {
    guard colour == .lab else { return try Image(tensor: output) }
    guard output.dtype == .float32, output.rank == 4, output.shape[0] == 1, output.shape[1] == 3 else {
        throw ImageError.badTensor(shape: output.shape, reason: "a Lab generator returns [1, 3, H, W] float32")
    }
    let h = output.shape[2], w = output.shape[3], n = h * w
    var lab = Image(width: w, height: h, channels: 3)
    let src = output.floats
    // NaN (a diverged model) becomes mid-grey rather than travelling on.
    func finite(_ v: Float) -> Float { v.isNaN ? 0 : v }
    for i in 0..<n {
        lab.pixels[i] = min(max((finite(src[i]) + 1) * LabScale.lightness, 0), 100)
        lab.pixels[n + i] = finite(src[n + i]) * LabScale.chroma
        lab.pixels[2 * n + i] = finite(src[2 * n + i]) * LabScale.chroma
    }
    return labImageToRGB(lab)
}

/// The centres of a square a*b* grid of side `binSize` (centres at multiples of it, |a*|, |b*| <= 110) that
/// some sRGB colour falls into: some L* in 0...100 puts a point of the cell in the gamut (Zhang et al. keep
/// the 313 in-gamut bins of size 10).
public func inGamutABBins(binSize: Float) -> [[Float]] {
    precondition(binSize >= 2, "a*b* bins of size \(binSize)")
    let limit = Int((110 / binSize).rounded(.down))
    var centres: [[Float]] = []
    for bi in -limit...limit {
        for ai in -limit...limit {
            let a = Float(ai) * binSize, b = Float(bi) * binSize
            // Probe the cell's centre and corners at each lightness.
            var inside = false
            outer: for l in stride(from: 2.0, through: 98.0, by: 2.0) {
                for (da, db) in [(0.0, 0.0), (-0.45, -0.45), (0.45, -0.45), (-0.45, 0.45), (0.45, 0.45)] {
                    let c = labToRGB(l, Double(a) + da * Double(binSize), Double(b) + db * Double(binSize))
                    if (0...1).contains(c.r) && (0...1).contains(c.g) && (0...1).contains(c.b) { inside = true; break outer }
                }
            }
            if inside { centres.append([a, b]) }
        }
    }
    return centres
}

/// Rebalancing weights for `bins` from the a*b* of `pages` (Zhang et al. eq. 4): the empirical distribution
/// over the nearest bins, smoothed by a Gaussian of std `sigma` over the bin centres, mixed with the uniform
/// distribution by `mix` (their λ = 0.5), inverted, and normalised so the expected weight over the data is 1.
/// Pages are sampled on a grid of about 200x200 pixels each.
public func rebalancingWeights(pages: [Image], bins: [[Float]], sigma: Float, mix: Float = 0.5) -> [Float] {
    let q = bins.count
    precondition(q > 0 && (0...1).contains(mix))
    var counts = [Double](repeating: 0, count: q)
    for page in pages {
        let rgb = page.rgb(), n = rgb.planeSize
        let stepX = max(1, rgb.width / 200), stepY = max(1, rgb.height / 200)
        for y in stride(from: 0, to: rgb.height, by: stepY) {
            for x in stride(from: 0, to: rgb.width, by: stepX) {
                let i = y * rgb.width + x
                let lab = rgbToLab(Double(rgb.pixels[i]), Double(rgb.pixels[n + i]), Double(rgb.pixels[2 * n + i]))
                var best = 0, bestDistance = Double.infinity
                for (k, c) in bins.enumerated() {
                    let d = (lab.a - Double(c[0])) * (lab.a - Double(c[0])) + (lab.b - Double(c[1])) * (lab.b - Double(c[1]))
                    if d < bestDistance { bestDistance = d; best = k }
                }
                counts[best] += 1
            }
        }
    }
    let total = max(counts.reduce(0, +), 1)
    let empirical = counts.map { $0 / total }
    // Smoothed over neighbouring bins.
    var smoothed = [Double](repeating: 0, count: q)
    for k in 0..<q {
        var sum = 0.0, norm = 0.0
        for j in 0..<q {
            let da = Double(bins[k][0] - bins[j][0]), db = Double(bins[k][1] - bins[j][1])
            let g = Foundation.exp(-(da * da + db * db) / (2 * Double(sigma * sigma)))
            sum += g * empirical[j]
            norm += g
        }
        smoothed[k] = sum / max(norm, 1e-12)
    }
    let smoothedTotal = max(smoothed.reduce(0, +), 1e-12)
    let weights = smoothed.map { 1 / ((1 - Double(mix)) * $0 / smoothedTotal + Double(mix) / Double(q)) }
    let expected = zip(weights, empirical).reduce(0) { $0 + $1.0 * $1.1 }
    return weights.map { Float($0 / max(expected, 1e-12)) }
}
