import Foundation

// Descreening: screentone back to continuous tone at its printed coverage, without blurring the ink.
//
// The page minus its ink is low-passed by a normalised, edge-aware recursive filter:
//
//   fill(p) = Σ_q k(p, q) m(q) v(q) / Σ_q k(p, q) m(q)
//
// v the page's luma, m(q) = 1 away from ink (ink and its one-pixel anti-aliased fringe excluded, so a line
// leaves no grey ghost), k a Gaussian-like kernel of scale σ that does not cross ink: the domain-transform
// recursive filter (Gastal & Oliveira 2011, "Domain Transform for Edge-Aware Image and Video Processing"),
// with the feedback cut to 0 where the previous pixel is ink, and between open paper (light pixels farther
// than 0.75 period from anything dark) and the rest: tone on one side of an ink line never bleeds into
// paper on the other side, and a tone that ends without a line (a panel gutter) keeps a crisp edge. Four iterations of horizontal and vertical passes, each causal then
// anti-causal, J[i] = (1 − a) I[i] + a J[i−1], all at σ_k = σ / 2 (a = exp(−√2 / σ_k)): equal scales
// suppress the screen's frequency better than the domain transform's halving schedule, which we do not
// need because edges are barriers here rather than distances. (At a 6 px screen and σ = 0.8 P the
// fundamental's 1-D response is ~0.01.)
//
// σ = 0.8 x the screen period, 2.5 px when the page's screen elements were not resolved (soft scans with
// ~3–4 px screens), clamped to [1.5, 10].
//
// The descreened page — what the generator sees — is the fill with the ink put back: the page's own value
// on ink and its fringe (darken-only: min(page, fill)), the fill elsewhere. The ink layer is that darkening
// as a factor: page / fill on ink and fringe, 1 elsewhere, so compositing can multiply colour by it.
//
// API: DescreenedPage (fill, page, inkLayer), descreen(_ grey:analysis:sigma:) -> DescreenedPage,
//      descreeningSigma(period:) -> Double

public struct DescreenedPage: Sendable {
    /// Continuous tone under the ink (1 channel): the screen's coverage as grey, paper 1.
    public var fill: Image
    /// The fill with the page's ink on top (1 channel): the generator's input.
    public var page: Image
    /// Per pixel: how much the ink darkens the fill, in [0, 1] (1 away from ink).
    public var inkLayer: [Float]
}

public func descreeningSigma(period: Double?) -> Double {
    guard let period else { return 2.5 }
    return min(max(0.8 * period, 1.5), 10)
}

/// Descreens a grey page given its analysis (see the file header). `sigma` nil: from the analysis' period.
public func descreen(_ page: Image, analysis: PageAnalysis, sigma: Double? = nil) -> DescreenedPage {
    let grey = page.luminance()
    let w = grey.width, h = grey.height, n = w * h
    precondition(analysis.width == w && analysis.height == h, "analysis of another page size")
    let ink = analysis.ink
    let toInk = chamferDistance(to: ink, width: w, height: h)
    let nearInk = toInk.map { $0 < 1.5 }
    let s = sigma ?? descreeningSigma(period: analysis.period)
    let dark = grey.pixels.map { $0 < 0.5 }
    let toDark = chamferDistance(to: dark, width: w, height: h)
    let openReach = Float(max(2, 0.75 * (analysis.period ?? 4)))
    let domain: [UInt8] = (0 ..< n).map { ink[$0] ? 2 : (toDark[$0] > openReach ? 1 : 0) }
    var numerator = [Float](repeating: 0, count: n), denominator = [Float](repeating: 0, count: n)
    for i in 0 ..< n where !nearInk[i] {
        numerator[i] = grey.pixels[i]
        denominator[i] = 1
    }
    let iterations = 4
    let a = Float(exp(-(2.0.squareRoot()) / (s / Double(iterations).squareRoot())))
    for _ in 0 ..< iterations {
        recursivePass(&numerator, &denominator, domain: domain, width: w, height: h, feedback: a)
    }
    var fill = Image(width: w, height: h, channels: 1)
    var out = Image(width: w, height: h, channels: 1)
    var layer = [Float](repeating: 1, count: n)
    for i in 0 ..< n {
        let f = denominator[i] > 1e-6 ? min(max(numerator[i] / denominator[i], 0), 1) : 1
        fill.pixels[i] = f
        if nearInk[i] {
            let v = min(grey.pixels[i], f)
            out.pixels[i] = v
            layer[i] = f > 1e-3 ? v / f : 0
        } else {
            out.pixels[i] = f
        }
    }
    return DescreenedPage(fill: fill, page: out, inkLayer: layer)
}

/// One horizontal and one vertical pass, each causal then anti-causal, of J[i] = (1 − a) I[i] + a J[i−1]
/// on both planes, with a = 0 where the previous pixel along the pass is ink (domain 2) or in another
/// domain (0 tone and lines' surroundings, 1 open paper). Ink pixels receive but never pass on.
private func recursivePass(_ x: inout [Float], _ y: inout [Float], domain: [UInt8], width w: Int, height h: Int,
                           feedback a: Float) {
    let b = 1 - a
    domain.withUnsafeBufferPointer { d in
        x.withUnsafeMutableBufferPointer { p in
            y.withUnsafeMutableBufferPointer { q in
                func line(start: Int, count: Int, step: Int) {
                    var i = start + step
                    for _ in 1 ..< max(count, 1) {
                        let from = d[i - step]
                        if from != 2 && (from == d[i] || d[i] == 2) {
                            p[i] = b * p[i] + a * p[i - step]
                            q[i] = b * q[i] + a * q[i - step]
                        }
                        i += step
                    }
                    i = start + (count - 2) * step
                    for _ in 1 ..< max(count, 1) {
                        let from = d[i + step]
                        if from != 2 && (from == d[i] || d[i] == 2) {
                            p[i] = b * p[i] + a * p[i + step]
                            q[i] = b * q[i] + a * q[i + step]
                        }
                        i -= step
                    }
                }
                for row in 0 ..< h { line(start: row * w, count: w, step: 1) }
                for column in 0 ..< w { line(start: column, count: h, step: w) }
            }
        }
    }
}
