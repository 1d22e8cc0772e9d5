import Foundation

// `colorize --consistent`: one palette across the pages of a run, without a reference page. A model colours
// each page on its own, so the same shirt can come out red on page 3 and brown on page 4. Here:
//
// 1. First pass: every page's ink-bounded regions (`segmentRegions`, as --flat and --reference cut them),
//    each described by how it looks in black and white — mean L*, texture (L* spread), area share — and by
//    the model's colour for it (a*b* medians). `ChapterPalette.collect` does one page.
// 2. Each region's chapter colour is the area-weighted median a*b* of all regions, on every page, that look
//    like it: black-and-white distance (the reference palette's lightness, texture and size terms; place on
//    the page does not count across pages) below `maxDistance`, and model colours within `colourGate` (so
//    a grey shirt and a grey face of equal tone are not merged just because they look alike in grey).
//    Regions that look alike therefore get one colour, the one most of them were given.
// 3. Second pass: each page is coloured again and every region's a*b* shifted so its median is its chapter
//    colour (the model's shading inside stays), before keep-lines / compositing restore the page's lightness.
//
// The second pass finds each region again by segmenting the page and looking up the collected region with the
// same features (the generator is deterministic, so they are equal; the lookup allows a little slack).
//
// API: ChapterPalette(options:), palette.collect(generated:page:pageIndex:), palette.finish(),
//      palette.recolour(generated:page:) throws -> Image

public struct ChapterPalette: Sendable, Equatable {
    public var options: PaletteOptions
    /// Largest a*b* distance between the model's colours of two regions that may share a chapter colour.
    public var colourGate = 40.0
    /// One collected region: the page it is on, its features, and (after `finish`) its chapter colour.
    public struct Region: Sendable, Equatable {
        public var page: Int
        public var features: RegionFeatures
        public var a: Double, b: Double
    }
    public private(set) var regions: [Region] = []
    public private(set) var finished = false

    public init(options: PaletteOptions = PaletteOptions()) { self.options = options }

    /// First pass, one page: records its regions (`generated`: the model's colours, `page`: the grey it saw).
    public mutating func collect(generated: Image, page: Image, pageIndex: Int) throws {
        try checkGenerated(generated, matches: page, for: "a chapter palette")
        for (_, features) in paletteRegions(page: page, lab: generated.lab(), options: options) {
            regions.append(Region(page: pageIndex, features: features, a: features.a, b: features.b))
        }
        finished = false
    }

    /// Gives every collected region its chapter colour (call once all pages are collected).
    public mutating func finish() {
        let all = regions.map(\.features)
        for k in regions.indices {
            var samples: [(a: Double, b: Double, weight: Double)] = []
            for other in all where lookAlike(all[k], other) { samples.append((other.a, other.b, other.area)) }
            regions[k].a = weightedMedian(samples.map { ($0.a, $0.weight) })
            regions[k].b = weightedMedian(samples.map { ($0.b, $0.weight) })
        }
        finished = true
    }

    /// Second pass, one page: each region's a*b* moved so its median is its chapter colour.
    public func recolour(generated: Image, page: Image) throws -> Image {
        precondition(finished, "ChapterPalette.finish() must run between the passes")
        try checkGenerated(generated, matches: page, for: "a chapter palette")
        return recolourRegions(generated: generated, page: page, options: options) { features in
            // The same region of the first pass: the nearest features (identical unless the model's output
            // changed between the passes).
            guard let match = regions.min(by: { featureDistance($0.features, features) < featureDistance($1.features, features) }),
                  featureDistance(match.features, features) < 0.5 else { return nil }
            return (match.a, match.b)
        }
    }

    /// Black-and-white look alike (lightness, texture, size) and model colours not far apart.
    func lookAlike(_ p: RegionFeatures, _ q: RegionFeatures) -> Bool {
        let o = options
        let terms = [(p.lightness - q.lightness) / o.lightnessScale, (p.texture - q.texture) / o.textureScale,
                     Foundation.log(max(p.area, 1e-9) / max(q.area, 1e-9)) / o.sizeScale]
        return terms.reduce(0) { $0 + $1 * $1 }.squareRoot() < o.maxDistance && hypot(p.a - q.a, p.b - q.b) <= colourGate
    }

    /// Distance used to find a region again on its own page (all features, colour included).
    private func featureDistance(_ p: RegionFeatures, _ q: RegionFeatures) -> Double {
        let terms = [(p.lightness - q.lightness) / 2, (p.texture - q.texture) / 2,
                     Foundation.log(max(p.area, 1e-9) / max(q.area, 1e-9)) * 4, hypot(p.x - q.x, p.y - q.y) * 20]
        return terms.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
}

/// The value at which the cumulative weight reaches half of the total.
func weightedMedian(_ samples: [(value: Double, weight: Double)]) -> Double {
    let sorted = samples.sorted { $0.value < $1.value }
    let half = sorted.reduce(0) { $0 + $1.weight } / 2
    var sum = 0.0
    for s in sorted {
        sum += s.weight
        if sum >= half { return s.value }
    }
    return sorted.last?.value ?? 0
}
