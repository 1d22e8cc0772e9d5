import Tensor

// `evaluate --input manga`: a colour page is rendered as a black-and-white manga page (ink + screentone,
// MangaStyle.swift) with each of several screens, the render goes through the whole colorize pipeline
// (page kind chosen as for any page, analysis, descreening, generator, compositing), and the result is
// compared with the colour page. Scores are the mean over the screens.
//
// Baselines: the binary render itself, and its descreened grey (what the generator is given) — a
// colorizer must beat both. Also reported: the mean L* of the output on solid-ink pixels (where the colour
// page is darker than the render's ink threshold), which should stay near 0.
//
// API: evaluationScreens, MangaQuality, evaluateOnManga(_:screens:options:generator:) throws -> MangaQuality

/// The screens `evaluate --input manga` renders each page with: a classic 45° dot screen, a finer rotated
/// one with scan blur, and a line screen.
public let evaluationScreens: [MangaStyle] = [
    MangaStyle(period: 5, angle: 45, toneSteps: 6),
    MangaStyle(period: 7, angle: 15, toneSteps: 0, scanBlur: 0.5),
    MangaStyle(period: 6, angle: 60, toneSteps: 4, screen: .lines),
]

public struct MangaQuality: Sendable, Equatable {
    public var model: QualityReport
    public var binary: QualityReport
    public var descreened: QualityReport
    /// Mean L* of the output on solid-ink pixels.
    public var inkLightness: Double
    /// Share of the renders that the automatic page classification took for manga.
    public var mangaShare: Double
}

/// Scores the colorize pipeline on manga renderings of one colour page (see the file header). The last
/// screen's output is returned for inspection.
public func evaluateOnManga(_ reference: Image, screens: [MangaStyle] = evaluationScreens,
                            options: ColorizeOptions = ColorizeOptions(),
                            generator: (Tensor) throws -> Tensor) throws -> (quality: MangaQuality, output: Image) {
    precondition(!screens.isEmpty)
    var options = options
    options.skipColorPages = false
    // The descreened baseline is the page the pipeline gave the generator: kept as a layer, not recomputed.
    options.keepLayers = true
    let truth = reference.rgb()
    let grey = truth.luminance()
    var reports: [QualityReport] = [], binaries: [QualityReport] = [], descreens: [QualityReport] = []
    var inkSum = 0.0, inkCount = 0, mangaCount = 0
    var last = truth
    for style in screens {
        let render = mangaStyle(truth, style: style)
        guard case .colorized(let result) = try colorizePageDetailed(render, options: options, generator: generator)
        else { throw ImageError.mismatch("the rendered page was skipped") }
        if result.kind == .manga { mangaCount += 1 }
        reports.append(try evaluate(generated: result.image, reference: truth))
        binaries.append(try evaluate(generated: render.rgb(), reference: truth))
        let flat = result.layers.first { $0.name == PageLayer.descreened }?.image
            ?? descreen(render, analysis: analyzeScreentone(render, options: options.screentone)).page
        descreens.append(try evaluate(generated: flat.rgb(), reference: truth))
        let n = truth.planeSize
        for i in 0 ..< n where grey.pixels[i] < style.inkBelow {
            let p = result.image.pixels
            inkSum += rgbToLab(Double(p[i]), Double(p[n + i]), Double(p[2 * n + i])).l
            inkCount += 1
        }
        last = result.image
    }
    let quality = MangaQuality(model: meanReport(reports), binary: meanReport(binaries), descreened: meanReport(descreens),
                               inkLightness: inkCount > 0 ? inkSum / Double(inkCount) : 0,
                               mangaShare: Double(mangaCount) / Double(screens.count))
    return (quality, last)
}

/// Field-wise mean of reports (PSNR averaged in dB; an infinite PSNR stays infinite).
public func meanReport(_ reports: [QualityReport]) -> QualityReport {
    precondition(!reports.isEmpty)
    let k = Double(reports.count)
    func mean(_ f: (QualityReport) -> Double) -> Double { reports.map(f).reduce(0, +) / k }
    return QualityReport(psnr: mean(\.psnr), ssim: mean(\.ssim), ciede2000: mean(\.ciede2000),
                         colourfulness: mean(\.colourfulness), referenceColourfulness: mean(\.referenceColourfulness))
}
