import Foundation

// `colorize --reference REF.png`: colours from a coloured page of the same series, region by region (the
// segmentation and per-segment colour correction of Hensman & Aizawa 2017).
//
// 1. Both pages are cut into ink-bounded regions (`segmentRegions`, as --flat does): the reference from its
//    luma, the page from the grey the generator saw (the descreened page for manga).
// 2. Each region is described by what it looks like in black and white — mean L* and its spread (texture),
//    area share, centre — and by its colour: the reference's own colour, or the model's guess on the page
//    (medians in CIELAB).
// 3. Each page region of at least `minRegion` pixels takes the colour of the reference region at the smallest
//    weighted distance over those features, if that distance is below `maxDistance`: its a*b* are shifted so
//    their median is the reference region's (the model's shading inside the region stays). Otherwise it keeps
//    the model's colour. Lightness stays the page's (keep-lines / compositing run after this). Reference
//    regions that are not one colour (a*b* spread above `maxSpread`: painted scenery) are left out, and so are
//    regions over `maxArea` of the page on either side (gutters and backgrounds joined to everything the ink
//    does not close off).
//
// The model's guess is one feature among five, so a region the model got wrong still finds its reference
// colour when its lightness, texture, size and place agree, and the model's colour breaks ties between
// regions that look alike in grey.
//
// API: PaletteOptions, RegionFeatures, ReferencePalette(reference:options:), ReferencePalette.recolour(generated:page:);
//      paletteRegions(page:lab:options:), recolourRegions(generated:page:options:target:) (shared with ChapterPalette)

public struct PaletteOptions: Sendable, Equatable {
    public var segmentation = FlatOptions()
    /// Regions smaller than this many pixels neither enter the palette nor take its colours.
    public var minRegion = 64
    /// Nor do regions over this share of the page: gutters, backgrounds, or painted areas that the ink does
    /// not close, which hold many objects and no one colour.
    public var maxArea = 0.08
    /// Feature scales: a difference of one scale unit costs 1 (distances add in quadrature).
    public var lightnessScale = 8.0   // L*
    public var textureScale = 6.0     // L* of spread
    public var sizeScale = 1.0        // natural log of the area ratio
    public var positionScale = 0.35   // page widths / heights
    public var colourScale = 30.0     // a*b* units
    /// Matches farther than this keep the model's colour.
    public var maxDistance = 2.5
    /// Reference regions whose colours spread more than this (a*b* units, median absolute deviation) are
    /// not one colour and do not enter the palette (painted gradients, scenery).
    public var maxSpread = 12.0

    public init() {}
}

/// What one region looks like: in black and white (lightness, texture, size, place) and in colour.
public struct RegionFeatures: Sendable, Equatable {
    public var lightness: Double
    public var texture: Double
    /// Share of the page's area.
    public var area: Double
    public var x: Double, y: Double
    /// Median a*, b* (the reference's colour, or the model's guess), and their spread (median absolute
    /// deviation, combined).
    public var a: Double, b: Double
    public var spread: Double
}

/// The colour regions of one or more reference pages.
public struct ReferencePalette: Sendable, Equatable {
    public var options: PaletteOptions
    public private(set) var regions: [RegionFeatures] = []

    /// Regions of the coloured `references` (colour images; their luma is their black-and-white look).
    public init(references: [Image], options: PaletteOptions = PaletteOptions()) throws {
        self.options = options
        for reference in references {
            guard reference.channels == 3 else {
                throw ImageError.mismatch("a reference page must be in colour (it has \(reference.channels) channel)")
            }
            regions += paletteRegions(page: reference, lab: reference.lab(), options: options)
                .map(\.features).filter { $0.spread <= options.maxSpread }
        }
        guard !regions.isEmpty else {
            throw ImageError.mismatch("no ink-bounded region of \(options.minRegion)+ pixels was found on the reference page(s)")
        }
    }

    /// `generated` (the model's colours for `page`) with each matched region's a*b* moved by the difference
    /// of the medians, so the region's median becomes its reference region's colour while the model's shading
    /// inside it stays; lightness and unmatched regions unchanged. `page`: the grey the generator saw.
    public func recolour(generated: Image, page: Image) throws -> Image {
        try checkGenerated(generated, matches: page, for: "reference colours")
        return recolourRegions(generated: generated, page: page, options: options) { features in
            nearest(to: features).map { ($0.a, $0.b) }
        }
    }

    /// The reference region closest to `features`, if within `maxDistance`.
    func nearest(to features: RegionFeatures) -> RegionFeatures? {
        var best: RegionFeatures? = nil, bestDistance = options.maxDistance
        for r in regions {
            let d = distance(features, r)
            if d < bestDistance { bestDistance = d; best = r }
        }
        return best
    }

    func distance(_ p: RegionFeatures, _ q: RegionFeatures) -> Double {
        let o = options
        let terms = [(p.lightness - q.lightness) / o.lightnessScale, (p.texture - q.texture) / o.textureScale,
                     Foundation.log(max(p.area, 1e-9) / max(q.area, 1e-9)) / o.sizeScale,
                     hypot(p.x - q.x, p.y - q.y) / o.positionScale, hypot(p.a - q.a, p.b - q.b) / o.colourScale]
        return terms.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
}

/// The ink-bounded regions of `page` (the grey the generator saw) that palettes work on — at least
/// `minRegion` pixels and at most `maxArea` of the page — with their features (colour from `lab`, the
/// generated image in CIELAB).
func paletteRegions(page: Image, lab: Image, options: PaletteOptions) -> [(members: [Int], features: RegionFeatures)] {
    let grey = page.luminance()
    let segmentation = segmentRegions(page: grey, options: options.segmentation)
    return regionFeatures(segmentation, grey: grey, lab: lab, minRegion: options.minRegion)
        .filter { $0.features.area <= options.maxArea }
}

/// `generated` with each palette region of `page` for which `target` gives a colour moved by the difference
/// of the medians: the region's a*b* median becomes that colour, the model's shading inside it stays;
/// lightness and the other regions unchanged (ReferencePalette and ChapterPalette recolour this way).
func recolourRegions(generated: Image, page: Image, options: PaletteOptions,
                     target: (RegionFeatures) -> (a: Double, b: Double)?) -> Image {
    let n = page.planeSize
    var lab = generated.lab()
    for (members, features) in paletteRegions(page: page, lab: lab, options: options) {
        guard let colour = target(features) else { continue }
        let da = Float(colour.a - features.a), db = Float(colour.b - features.b)
        for i in members {
            lab.pixels[n + i] += da
            lab.pixels[2 * n + i] += db
        }
    }
    return labImageToRGB(lab)
}

/// Per region of at least `minRegion` pixels: its pixel indices and features (lightness and texture from
/// `grey`, colour medians from `lab`, the colour image in CIELAB).
func regionFeatures(_ segmentation: Segmentation, grey: Image, lab: Image, minRegion: Int) -> [(members: [Int], features: RegionFeatures)] {
    let w = grey.width, h = grey.height, n = w * h
    var members = [[Int]](repeating: [], count: segmentation.count)
    for i in 0..<n {
        let r = Int(segmentation.labels[i])
        if r >= 0 && segmentation.sizes[r] >= minRegion { members[r].append(i) }
    }
    func median(_ values: [Double]) -> Double {
        let sorted = values.sorted(), m = sorted.count
        return m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2
    }
    var result: [(members: [Int], features: RegionFeatures)] = []
    for list in members where !list.isEmpty {
        var sum = 0.0, sumSquares = 0.0, sx = 0.0, sy = 0.0
        var a: [Double] = [], b: [Double] = []
        a.reserveCapacity(list.count); b.reserveCapacity(list.count)
        for i in list {
            let l = lightnessOfGrey(Double(grey.pixels[i]))
            sum += l; sumSquares += l * l
            sx += Double(i % w); sy += Double(i / w)
            a.append(Double(lab.pixels[n + i])); b.append(Double(lab.pixels[2 * n + i]))
        }
        let count = Double(list.count), mean = sum / count
        let ma = median(a), mb = median(b)
        let spread = hypot(median(a.map { abs($0 - ma) }), median(b.map { abs($0 - mb) }))
        let features = RegionFeatures(lightness: mean, texture: max(sumSquares / count - mean * mean, 0).squareRoot(),
                                      area: count / Double(n), x: sx / count / Double(w), y: sy / count / Double(h),
                                      a: ma, b: mb, spread: spread)
        result.append((list, features))
    }
    return result
}

/// A 3-channel CIELAB image back to sRGB, chroma reduced into the gamut at each pixel's L*.
func labImageToRGB(_ lab: Image) -> Image {
    let n = lab.planeSize
    var out = Image(width: lab.width, height: lab.height, channels: 3)
    let src = lab.pixels
    out.pixels.withUnsafeMutableBufferPointer { buffer in
        let dst = SendablePointer(buffer.baseAddress!)
        parallelChunks(count: n) { _, range in
            for i in range {
                let rgb = rgbKeepingLightness(Double(src[i]), Double(src[n + i]), Double(src[2 * n + i]))
                dst[i] = Float(rgb.0); dst[n + i] = Float(rgb.1); dst[2 * n + i] = Float(rgb.2)
            }
        }
    }
    return out
}
