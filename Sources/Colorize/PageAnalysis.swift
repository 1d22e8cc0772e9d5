import Foundation

// What kind of page this is, and where its ink and screentone are: the first stage of colorizing a page.
//
// **Page kind.** A continuous-tone grey page (a greyscale render, a grey-washed scan) has large smooth
// areas of mid grey; a printed manga page has none: every mid-grey pixel sits in screentone texture or on
// the anti-aliased edge of a line. So the test is the share of pixels that are mid grey (luma 0.15–0.85)
// *and* locally flat (5x5 range below 0.2). Measured here: 0.41–0.63 on every Pepper&Carrot page rendered
// grey and 0.20 on the Little Nemo page; at most 0.001 on the twelve Black Jack scans, and 0 on binary
// pages. Pages above `greyShare` (0.05) are `.grey`, the rest `.manga`.
//
// **Ink and screentone** (manga pages; ScreentoneDetection.swift finds the screen elements):
//
//   dark      luma < darkBelow (0.45)
//   dots      dark components that are screen elements: small (bbox <= maxElement px, area <= maxArea)
//             with >= minNeighbours similar-sized small components within neighbourReach x their
//             nearest-neighbour distance — a lattice, which lettering, specks and line ends are not
//   holes     the same test on the light side: the white cells of dark tones (coverage above 50 %, where
//             the dots merge into a black net)
//   net       dark pixels within ~0.75 period of a hole (the net around those cells), except within a
//             line's width (3.5 px) of open paper (light, > 0.75 period from dark): the outline a dark
//             tone is drawn inside stays ink
//   runs      pixels on regular dark/light alternations along two or more scan directions: line screens,
//             and dot screens again (ScreenRuns.swift)
//   clumps    compact dark components too big for a dot but too small for drawing (<= 8 x maxArea, side
//             <= 4 x maxElement, aspect <= 3) that touch the screen and nowhere border open paper: dots
//             merged where a tone changes level (an outline or lettering borders paper; a stroke is long)
//   drawing   glyph-sized components (bigger than a dot, side <= 4 x maxElement) bordering open paper:
//             lettering and small outlined shapes, never screen
//   ink       dark - (dots + net + runs + clumps - drawing): strokes, black fills, lettering (kept black)
//   tone      pixels near dots, holes and net, plus textured mid-grey (light tones whose dots never
//             reach `darkBelow` in a soft scan): for display and statistics; descreening needs only ink
//
// The screen period is the median nearest-neighbour spacing of the screen elements (`period`; nil when the
// page has none, e.g. light tones scanned soft), and sets the descreening scale (Descreen.swift).
//
// API: PageKind, classifyPage(_:greyShare:) -> (kind, smoothMidShare), ScreentoneOptions,
//      PageAnalysis (ink, tone, screenDark, period), analyzeScreentone(_ grey:options:) -> PageAnalysis
// (The distance and sliding-window helpers are in Morphology.swift.)

public enum PageKind: String, Sendable, Equatable, CaseIterable {
    /// Continuous-tone grey: colour is taken at the page's own lightness (LinePreservation.swift).
    case grey
    /// Ink, paper and screentone: descreened, then composited (MangaCompositing.swift).
    case manga
}

/// Share of mid-grey, locally flat pixels, and the page kind it implies (see the file header).
public func classifyPage(_ page: Image, greyShare: Double = 0.05) -> (kind: PageKind, smoothMidShare: Double) {
    let grey = page.luminance()
    guard grey.width > 0, grey.height > 0 else { return (.grey, 0) }
    let share = Double(smoothMidCount(grey, rows: 0 ..< grey.height)) / Double(grey.planeSize)
    return (share > greyShare ? .grey : .manga, share)
}

/// How many pixels of `rows` in a 1-channel image are mid grey and locally flat (the 5x5 window reaches 2
/// rows past `rows`: a band of a strip with 2 rows of context counts as the whole strip would).
func smoothMidCount(_ grey: Image, rows: Range<Int>) -> Int {
    let w = grey.width, h = grey.height
    precondition(grey.channels == 1 && rows.lowerBound >= 0 && rows.upperBound <= h)
    let rangeMax = slidingExtreme(grey.pixels, width: w, height: h, radius: 2, maximum: true)
    let rangeMin = slidingExtreme(grey.pixels, width: w, height: h, radius: 2, maximum: false)
    var count = 0
    grey.pixels.withUnsafeBufferPointer { p in
        for i in rows.lowerBound * w ..< rows.upperBound * w
            where p[i] > 0.15 && p[i] < 0.85 && rangeMax[i] - rangeMin[i] < 0.2 { count += 1 }
    }
    return count
}

public struct ScreentoneOptions: Sendable, Equatable {
    /// Luma below which a pixel is dark (ink or a screen dot).
    public var darkBelow: Float = 0.45
    /// Largest bounding-box side of a screen element, pixels (covers periods up to ~12 px).
    public var maxElement: Int = 14
    /// Largest area of a screen element, pixels.
    public var maxArea: Int = 120
    /// Similar-sized elements needed within reach for an element to count as screen.
    public var minNeighbours: Int = 6
    /// Reach as a multiple of the element's nearest-neighbour distance.
    public var neighbourReach: Double = 2.5
    /// Largest nearest-neighbour spacing of a screen, pixels.
    public var maxSpacing: Double = 16

    public init(darkBelow: Float = 0.45, maxElement: Int = 14, maxArea: Int = 120, minNeighbours: Int = 6,
                neighbourReach: Double = 2.5, maxSpacing: Double = 16) {
        self.darkBelow = darkBelow
        self.maxElement = maxElement
        self.maxArea = maxArea
        self.minNeighbours = minNeighbours
        self.neighbourReach = neighbourReach
        self.maxSpacing = maxSpacing
    }
}

/// Per-pixel masks of one page (row-major, width x height) and its screen period.
public struct PageAnalysis: Sendable {
    public let width: Int
    public let height: Int
    /// Ink: strokes, fills, lettering. Kept black by compositing; a barrier for descreening.
    public var ink: [Bool]
    /// Screentone (dots, holes, net and their surroundings; textured mid grey).
    public var tone: [Bool]
    /// Dark pixels that are screen dots or net (dark but not ink).
    public var screenDark: [Bool]
    /// Median spacing of the screen elements, pixels; nil when none were found.
    public var period: Double?

    public var inkShare: Double { share(ink) }
    public var toneShare: Double { share(tone) }
    private func share(_ mask: [Bool]) -> Double {
        mask.isEmpty ? 0 : Double(mask.reduce(0) { $0 + ($1 ? 1 : 0) }) / Double(mask.count)
    }
}

/// Ink, screentone and period of a page (see the file header). `page` may be grey or colour (its luma is used).
public func analyzeScreentone(_ page: Image, options: ScreentoneOptions = ScreentoneOptions()) -> PageAnalysis {
    let grey = page.luminance()
    let w = grey.width, h = grey.height, n = w * h
    let dark = grey.pixels.map { $0 < options.darkBelow }
    let dots = screenElements(of: dark, width: w, height: h, eightConnected: true, options: options)
    let holes = screenElements(of: dark.map { !$0 }, width: w, height: h, eightConnected: false, options: options)
    let runs = regularScreenRuns(dark: dark, small: dots.small, width: w, height: h)
    let spacings = dots.spacings + holes.spacings
    var period = spacings.isEmpty ? nil : median(spacings)
    if period == nil, runs.periods.count >= 50 {
        // Line screens only: the shortest quarter of the row/column periods is near the true period.
        period = Double(runs.periods.sorted()[runs.periods.count / 4])
    }

    // Open paper: light pixels farther than 0.75 period from anything dark. Whatever dark lies within a
    // line's width (3.5 px) of it borders paper — an outline, lettering — and is never taken for a net or
    // a clump.
    let openReach = Float(max(2, 0.75 * (period ?? 4)))
    let toDark = chamferDistance(to: dark, width: w, height: h)
    let toOpenPaper = chamferDistance(to: toDark.map { $0 > openReach }, width: w, height: h)
    let bordersPaper = toOpenPaper.map { $0 <= openReach + 3.5 }

    // The net of a dark tone: dark pixels close to its white cells.
    var net = [Bool](repeating: false, count: n)
    if let holePeriod = holes.spacings.isEmpty ? nil : median(holes.spacings) {
        let reach = Float(max(2, 0.75 * holePeriod))
        let distance = chamferDistance(to: holes.member, width: w, height: h)
        for i in 0 ..< n where dark[i] && !dots.member[i] && distance[i] <= reach && !bordersPaper[i] { net[i] = true }
    }
    // Drawing: glyph-sized dark components (bigger than a dot, side <= 4 x maxElement) that border open
    // paper — lettering, small outlined shapes. Never screen, however regular their strokes.
    var drawing = [Bool](repeating: false, count: dots.boxes.count)
    for i in 0 ..< n where dark[i] && bordersPaper[i] {
        let k = Int(dots.labels[i]), box = dots.boxes[k]
        if !isCandidate(box, options) && max(box.width, box.height) <= 4 * options.maxElement { drawing[k] = true }
    }
    var screenDark = [Bool](repeating: false, count: n)
    var elements = [Bool](repeating: false, count: n)
    for i in 0 ..< n {
        let regular = runs.votes[i] >= 2
        if dark[i] && !drawing[Int(dots.labels[i])] && (dots.member[i] || net[i] || regular) { screenDark[i] = true }
        elements[i] = screenDark[i] || holes.member[i] || (!dark[i] && regular)
    }
    // Clumps of merged dots where a tone changes level: dark components too big for a dot, too small for
    // drawing, that touch the screen and nowhere border open paper, are screen too.
    let toElement = chamferDistance(to: elements, width: w, height: h)
    let clumpReach = Float(max(1.5, period ?? 4))
    var clump = [Bool](repeating: false, count: dots.boxes.count)
    for (k, box) in dots.boxes.enumerated()
    where box.area <= 8 * options.maxArea && max(box.width, box.height) <= 4 * options.maxElement
        && max(box.width, box.height) <= 3 * min(box.width, box.height) {
        clump[k] = true
    }
    var touches = [Bool](repeating: false, count: dots.boxes.count)
    for i in 0 ..< n where dark[i] && !screenDark[i] {
        let k = Int(dots.labels[i])
        if bordersPaper[i] { clump[k] = false }
        if toElement[i] <= clumpReach { touches[k] = true }
    }
    var ink = [Bool](repeating: false, count: n)
    for i in 0 ..< n where dark[i] && !screenDark[i] {
        let k = Int(dots.labels[i])
        if clump[k] && touches[k] { screenDark[i] = true } else { ink[i] = true }
    }

    // Tone: within half a period of any screen element, or textured mid grey away from ink.
    let near = Float(max(2, (period ?? 4) * 0.6))
    let maxNear = slidingExtreme(grey.pixels, width: w, height: h, radius: 2, maximum: true)
    let minNear = slidingExtreme(grey.pixels, width: w, height: h, radius: 2, maximum: false)
    let toInk = chamferDistance(to: ink, width: w, height: h)
    var tone = [Bool](repeating: false, count: n)
    for i in 0 ..< n where !ink[i] {
        let textured = grey.pixels[i] < 0.9 && maxNear[i] - minNear[i] > 0.15 && toInk[i] > 2.5
        tone[i] = toElement[i] <= near || textured
    }
    return PageAnalysis(width: w, height: h, ink: ink, tone: tone, screenDark: screenDark, period: period)
}
