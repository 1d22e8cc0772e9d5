import Foundation

// Compositing a manga page the way a colorist would: colour goes under the ink, never over it.
//
//   ink and its fringe   the fill colour multiplied by the ink layer (Descreen.swift): black ink stays
//                        black, anti-aliased edges stay soft, lettering stays exactly as lettered
//   toned areas          the model's a* b* at the descreened lightness (the screen's printed coverage)
//   white paper          the model's a* b* *and* lightness — colorists paint white areas (skin, sky) —
//                        as far as the model's colour is vivid (C*ab from `vividFrom` to `vividTo`), and
//                        never darker than `paperFloor` L*, so speech bubbles stay readable. Where the model
//                        is unsure (low chroma: with today's model a pale blue-grey guess on most paper)
//                        paper stays white: painting it cost ΔE2000 0.6 on the E20 manga renders.
//
// How much paint paper takes is decided per paper region, not per pixel (`paintByRegion`): each connected
// area of paper (bounded by ink and tone) takes the mean of its pixels' paint weights. A model whose colour on
// paper hovers around the vivid threshold otherwise paints blotches — cream clouds with white halos around
// lettering — where a colorist paints a background or leaves it white as a whole, and at one lightness (the
// region's mean of the model's L*; its per-pixel lightness on paper is mottle). The margins and gutters
// (paper reaching three or more of the page's edges, or one as a thin network) stay white.
//
// Between tone and paper the lightness blends by the fill's paperness, a smoothstep of the descreened
// grey from `paperFrom` to `paperTo`. Colours outside the sRGB gamut at the chosen L* lose chroma, not
// lightness (`rgbKeepingLightness`), as in keep-lines.
//
// (After Style2Paints V4's `process_overlay`: colour multiplied by the sketch.)
//
// API: MangaCompositeOptions, composeManga(descreened:generated:options:) throws -> Image (3 channels)

public struct MangaCompositeOptions: Sendable, Equatable {
    /// Descreened grey where paper begins (below: tone at its own lightness).
    public var paperFrom: Float = 0.85
    /// Descreened grey from which a pixel is fully paper.
    public var paperTo: Float = 0.97
    /// Lowest L* paper may take from the model; 100 keeps all paper white.
    public var paperFloor: Double = 60
    /// Chroma C*ab of the model's colour from which paper starts to take it, and where it takes it fully.
    public var vividFrom: Double = 12
    public var vividTo: Double = 24
    /// One paint weight per connected paper region (its pixels' mean) instead of per pixel.
    public var paintByRegion = true

    public init(paperFrom: Float = 0.85, paperTo: Float = 0.97, paperFloor: Double = 60, vividFrom: Double = 12,
                vividTo: Double = 24) {
        self.paperFrom = paperFrom
        self.paperTo = paperTo
        self.paperFloor = paperFloor
        self.vividFrom = vividFrom
        self.vividTo = vividTo
    }
}

public func composeManga(descreened: DescreenedPage, generated: Image,
                         options: MangaCompositeOptions = MangaCompositeOptions()) throws -> Image {
    let fill = descreened.fill
    try checkGenerated(generated, matches: fill, for: "compositing")
    let n = fill.planeSize
    let tone = fill.pixels, layer = descreened.inkLayer
    let span = max(options.paperTo - options.paperFrom, 1e-6)
    // The model's colours in CIELAB, once: the paper's paint weights and the composite both read them.
    let lab = generated.lab().pixels
    let paint = paperPaint(fill: fill, inkLayer: layer, lab: lab, options: options)
    var out = Image(width: fill.width, height: fill.height, channels: 3)
    out.pixels.withUnsafeMutableBufferPointer { buffer in
        let dst = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n) { _, range in
            for i in range {
                let l0 = Double(lab[i]), a = Double(lab[n + i]), b = Double(lab[2 * n + i])
                let t = min(max((tone[i] - options.paperFrom) / span, 0), 1)
                let paperness = Double(t * t * (3 - 2 * t))
                let toneL = lightnessOfGrey(Double(tone[i]))
                let modelL = paint.lightness.map { Double($0[i]) } ?? l0
                let paperL = 100 - Double(paint.weight[i]) * (100 - max(modelL, options.paperFloor))
                let l = (1 - paperness) * toneL + paperness * paperL
                let rgb = rgbKeepingLightness(l, a, b)
                let k = Double(layer[i])
                dst[i] = Float(rgb.0 * k)
                dst[n + i] = Float(rgb.1 * k)
                dst[2 * n + i] = Float(rgb.2 * k)
            }
        }
    }
    return out
}

/// How much of the model's colour and lightness each pixel's paper takes: a smoothstep of the model's chroma
/// from `vividFrom` to `vividTo`, then (with `paintByRegion`) the mean over each connected paper region, with
/// the region's mean model L* as the lightness it is painted at (flat, as a colorist paints a background; the
/// model's lightness inside a region is noise on paper). Per pixel, `lightness` is nil: the model's own L*.
/// `lab`: the generated image's CIELAB planes (L*, a*, b*).
func paperPaint(fill: Image, inkLayer: [Float], lab: [Float],
                options: MangaCompositeOptions) -> (weight: [Float], lightness: [Float]?) {
    let n = fill.planeSize
    var paint = [Float](repeating: 0, count: n)
    paint.withUnsafeMutableBufferPointer { buffer in
        let dst = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n) { _, range in
            for i in range {
                let a = Double(lab[n + i]), b = Double(lab[2 * n + i])
                let chroma = (a * a + b * b).squareRoot()
                let v = min(max((chroma - options.vividFrom) / max(options.vividTo - options.vividFrom, 1e-6), 0), 1)
                dst[i] = Float(v * v * (3 - 2 * v))
            }
        }
    }
    guard options.paintByRegion else { return (paint, nil) }
    // Paper regions are bounded by ink (the fill has none: it is the tone under the ink) and by tone.
    let paper = (0 ..< n).map { fill.pixels[$0] >= options.paperFrom && inkLayer[$0] >= 0.5 }
    let regions = connectedComponents(width: fill.width, height: fill.height, eightConnected: false, member: paper)
    var sums = [Double](repeating: 0, count: regions.sizes.count), lightness = sums
    for i in 0 ..< n where regions.labels[i] >= 0 {
        sums[Int(regions.labels[i])] += Double(paint[i])
        lightness[Int(regions.labels[i])] += Double(lab[i])
    }
    // Margins and gutters: paper that reaches three or more of the page's edges (the frame around the panels,
    // with any borderless panel open onto it), or reaches one as a thin network rather than an area (under half
    // of its bounding box). They stay white; a full-bleed panel's open paper (a sky reaching one or two edges)
    // is compact and is painted.
    let w = fill.width, h = fill.height, count = regions.sizes.count
    var minX = [Int](repeating: Int.max, count: count), maxX = [Int](repeating: -1, count: count)
    // Which page edges each region reaches: bits 0-3 for left, top, right, bottom.
    var minY = minX, maxY = maxX, edges = [UInt8](repeating: 0, count: count)
    for y in 0 ..< h {
        for x in 0 ..< w {
            let label = regions.labels[y * w + x]
            guard label >= 0 else { continue }
            let r = Int(label)
            minX[r] = min(minX[r], x); maxX[r] = max(maxX[r], x)
            minY[r] = min(minY[r], y); maxY[r] = max(maxY[r], y)
            if x == 0 { edges[r] |= 1 }
            if y == 0 { edges[r] |= 2 }
            if x == w - 1 { edges[r] |= 4 }
            if y == h - 1 { edges[r] |= 8 }
        }
    }
    let margin = (0 ..< count).map { r -> Bool in
        if edges[r].nonzeroBitCount >= 3 { return true }
        let box = Double(maxX[r] - minX[r] + 1) * Double(maxY[r] - minY[r] + 1)
        return edges[r] != 0 && Double(regions.sizes[r]) < 0.5 * box
    }
    var regionL = Array(lab[0 ..< n])
    for i in 0 ..< n where regions.labels[i] >= 0 {
        let r = Int(regions.labels[i]), size = Double(regions.sizes[r])
        paint[i] = margin[r] ? 0 : Float(sums[r] / size)
        regionL[i] = Float(lightness[r] / size)
    }
    return (paint, regionL)
}
