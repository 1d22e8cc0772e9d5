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
    guard fill.width == generated.width, fill.height == generated.height else {
        throw ImageError.mismatch("the page is \(fill.width)x\(fill.height) but the generated image is "
            + "\(generated.width)x\(generated.height)")
    }
    guard generated.channels == 3 else {
        throw ImageError.mismatch("the generated image has \(generated.channels) channel(s); compositing needs colour")
    }
    let n = fill.planeSize
    let tone = fill.pixels, colours = generated.pixels, layer = descreened.inkLayer
    let span = max(options.paperTo - options.paperFrom, 1e-6)
    var out = Image(width: fill.width, height: fill.height, channels: 3)
    out.pixels.withUnsafeMutableBufferPointer { buffer in
        let dst = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n) { _, range in
            for i in range {
                let lab = rgbToLab(Double(colours[i]), Double(colours[n + i]), Double(colours[2 * n + i]))
                let t = min(max((tone[i] - options.paperFrom) / span, 0), 1)
                let paperness = Double(t * t * (3 - 2 * t))
                let toneL = lightnessOfGrey(Double(tone[i]))
                // Paper is painted only as far as the model's colour is vivid (C* from vividFrom to vividTo).
                let chroma = (lab.a * lab.a + lab.b * lab.b).squareRoot()
                let v = min(max((chroma - options.vividFrom) / max(options.vividTo - options.vividFrom, 1e-6), 0), 1)
                let paint = v * v * (3 - 2 * v)
                let paperL = 100 - paint * (100 - max(lab.l, options.paperFloor))
                let l = (1 - paperness) * toneL + paperness * paperL
                let rgb = rgbKeepingLightness(l, lab.a, lab.b)
                let k = Double(layer[i])
                dst[i] = Float(rgb.0 * k)
                dst[n + i] = Float(rgb.1 * k)
                dst[2 * n + i] = Float(rgb.2 * k)
            }
        }
    }
    return out
}
