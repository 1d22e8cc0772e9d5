import Foundation
import Tensor

// The colorize pipeline for one page, as `mangacolor colorize` runs it, with every stage a library call:
//
//   page ──(already colour? skip)──> luma grey ──(page kind)──┬─ grey:  generator ──> [reference] ──> [chapter] ──> [flat] ──> [keep lines]
//                                                             └─ manga: ink/tone analysis ──> descreen ──>
//                                                                       generator ──> [reference] ──> [chapter] ──> [flat] ──> [composite]
//
// Grey (continuous-tone) pages keep their exact lightness (LinePreservation.swift). Manga pages (ink,
// paper, screentone; PageAnalysis.swift) are descreened first, so the generator sees continuous tone, and
// the result is composited: ink kept black, tone at its descreened lightness, paper taking the model's
// colour and lightness where the model is confident (MangaCompositing.swift). `pageKind` nil picks per page.
//
// The generator is any `(Tensor) throws -> Tensor` (an ONNX plan's run, the trainer's forward): it gets
// [1, inputChannels, H, W] grey and returns [1, 3, H, W], both in the value range `range` (the seed
// generator: [-1, 1], Tanh output). Imported models that want 3-channel grey or [0, 1] set those options.
//
// Also: `evaluate` (the quality report of `mangacolor evaluate`) and `writeSyntheticPages`
// (`mangacolor synth`).
//
// API: ColorizeOptions, ColorizeOutcome, colorizePage(_:options:generator:) throws -> ColorizeOutcome,
//      QualityReport, evaluate(generated:reference:) throws -> QualityReport,
//      evaluateColorizer(on:options:generator:) throws -> (report, output)   grey of a colour page, colorized, compared,
//      colorizePageDetailed(_:options:generator:) throws -> DetailedOutcome   the same with kind and layers,
//      modelColours(of:options:generator:) throws -> (generated, modelInput)?  up to the model (--consistent's first pass),
//      writeSyntheticPages(folder:count:width:height:seed:) throws -> [String]

public struct ColorizeOptions: Sendable, Equatable {
    public enum ValueRange: Sendable, Equatable { case minusOneToOne, zeroToOne }

    /// Luma from the page, chroma from the generator (LinePreservation.swift).
    public var keepLines = false
    /// One colour per ink-bounded region (Flat.swift).
    public var flat = false
    public var flatOptions = FlatOptions()
    public var tiling = TilingOptions()
    /// Run the generator on the page shrunk by `reducedScale.scale` and bring its colour back guided by the
    /// page (ReducedScale.swift); scale 1 runs it on the page as it is.
    public var reducedScale = ReducedScaleOptions()
    /// Return `.alreadyColor` for pages with more than `colorShare` vivid pixels (`chromaStatistics(_:).vividShare`, LinePreservation.swift).
    public var skipColorPages = true
    public var colorShare = 0.05
    /// Channels the generator expects (1, or 3 for grey repeated).
    public var inputChannels = 1
    public var range = ValueRange.minusOneToOne
    /// What the generator's 3 output channels hold (`.lab`: a chroma-first or a*b*-class model of this package).
    public var outputColour = OutputColour.rgb
    /// Force the grey or the manga path; nil decides per page (`classifyPage`).
    public var pageKind: PageKind? = nil
    public var screentone = ScreentoneOptions()
    public var composite = MangaCompositeOptions()
    /// Keep the intermediate layers (ink, tone, descreened page, raw model output) in `DetailedOutcome`.
    public var keepLayers = false
    /// Colours of reference pages of the series, given region by region (ReferencePalette.swift).
    public var palette: ReferencePalette? = nil
    /// One palette across a run's pages (ChapterPalette.swift), applied once finished.
    public var chapterPalette: ChapterPalette? = nil
    /// How `colorizePages` cuts PNG strips past the pixel budget into bands (Bands.swift).
    public var bands = BandOptions()

    public init(keepLines: Bool = false, flat: Bool = false, flatOptions: FlatOptions = FlatOptions(),
                tiling: TilingOptions = TilingOptions(), skipColorPages: Bool = true, colorShare: Double = 0.05,
                inputChannels: Int = 1, range: ValueRange = .minusOneToOne) {
        self.keepLines = keepLines
        self.flat = flat
        self.flatOptions = flatOptions
        self.tiling = tiling
        self.skipColorPages = skipColorPages
        self.colorShare = colorShare
        self.inputChannels = inputChannels
        self.range = range
    }
}

public enum ColorizeOutcome: Sendable {
    case colorized(Image)
    /// Skipped: the share of vivid pixels found.
    case alreadyColor(vividShare: Double)
}

/// The intermediate layers `keepLayers` returns, in order (a grey page has only `model`); `--layers` writes
/// each beside its page as `NAME.<layer>.png`.
public enum PageLayer {
    public static let ink = "ink", tone = "tone", descreened = "descreened", model = "model"
    public static let all = [ink, tone, descreened, model]
}

/// One colorized page with what the pipeline decided and, with `keepLayers`, its intermediate layers.
public struct ColorizedPage: Sendable {
    public var image: Image
    public var kind: PageKind
    /// Share of flat mid-grey pixels behind the automatic choice (see `classifyPage`); nil when forced.
    public var smoothMidShare: Double?
    /// Named intermediate layers (`PageLayer`), in order; empty unless `keepLayers`.
    public var layers: [(name: String, image: Image)] = []
}

public enum DetailedOutcome: Sendable {
    case colorized(ColorizedPage)
    case alreadyColor(vividShare: Double)
}

/// Colorizes one page (grey or colour input; see the file header).
public func colorizePage(_ page: Image, options: ColorizeOptions = ColorizeOptions(),
                         generator: (Tensor) throws -> Tensor) throws -> ColorizeOutcome {
    switch try colorizePageDetailed(page, options: options, generator: generator) {
    case .colorized(let result): .colorized(result.image)
    case .alreadyColor(let share): .alreadyColor(vividShare: share)
    }
}

/// `colorizePage` reporting the page kind it chose and (with `keepLayers`) the intermediate layers.
public func colorizePageDetailed(_ page: Image, options: ColorizeOptions = ColorizeOptions(),
                                 generator: (Tensor) throws -> Tensor) throws -> DetailedOutcome {
    let stage: ModelStage
    switch try modelStage(page, options: options, generator: generator) {
    case .alreadyColor(let share): return .alreadyColor(vividShare: share)
    case .coloured(let s): stage = s
    }
    var output = stage.output
    // Flat first, then keep-lines / compositing: the page's lightness (or ink) survives exactly even where
    // flat recoloured small ink specks as part of their region.
    if options.flat { output = try flatten(generated: output, page: stage.modelInput, options: options.flatOptions) }
    if options.keepLines {
        if let descreened = stage.descreened {
            output = try composeManga(descreened: descreened, generated: output, options: options.composite)
        } else {
            output = try keepLines(original: stage.grey, generated: output)
        }
    }
    return .colorized(ColorizedPage(image: output, kind: stage.kind, smoothMidShare: stage.share, layers: stage.layers))
}

/// The model's colours for a page, as the first pass of `--consistent` collects them (ChapterPalette.swift):
/// the generator's output after any reference palette, and the grey it saw (the descreened page for manga).
/// nil for a page skipped as already in colour.
public func modelColours(of page: Image, options: ColorizeOptions,
                         generator: (Tensor) throws -> Tensor) throws -> (generated: Image, modelInput: Image)? {
    var options = options
    options.keepLayers = false
    options.chapterPalette = nil
    guard case .coloured(let stage) = try modelStage(page, options: options, generator: generator) else { return nil }
    return (stage.output, stage.modelInput)
}

/// A page up to the model's colours: kind, the grey the model saw, its output after the palettes.
private struct ModelStage {
    var kind: PageKind
    var share: Double?
    var grey: Image
    var descreened: DescreenedPage?
    var modelInput: Image
    var output: Image
    var layers: [(name: String, image: Image)]
}

private enum ModelStageOutcome {
    case coloured(ModelStage)
    case alreadyColor(Double)
}

private func modelStage(_ page: Image, options: ColorizeOptions,
                        generator: (Tensor) throws -> Tensor) throws -> ModelStageOutcome {
    if options.skipColorPages {
        let share = chromaStatistics(page).vividShare
        if share > options.colorShare { return .alreadyColor(share) }
    }
    guard options.inputChannels == 1 || options.inputChannels == 3 else {
        throw ImageError.mismatch("the generator input must have 1 or 3 channels, not \(options.inputChannels)")
    }
    let grey = page.luminance()
    var share: Double? = nil
    let kind: PageKind
    if let forced = options.pageKind { kind = forced } else {
        let classified = classifyPage(grey)
        kind = classified.kind
        share = classified.smoothMidShare
    }
    var layers: [(name: String, image: Image)] = []
    var descreened: DescreenedPage? = nil
    var modelInput = grey
    if kind == .manga {
        let analysis = analyzeScreentone(grey, options: options.screentone)
        let result = descreen(grey, analysis: analysis)
        descreened = result
        modelInput = result.page
        if options.keepLayers {
            layers.append((PageLayer.ink, Image(width: grey.width, height: grey.height, channels: 1,
                                        pixels: analysis.ink.map { $0 ? 0 : 1 })))
            layers.append((PageLayer.tone, Image(width: grey.width, height: grey.height, channels: 1,
                                         pixels: analysis.tone.map { $0 ? 0 : 1 })))
            layers.append((PageLayer.descreened, result.page))
        }
    }
    var output = try runGenerator(modelInput, options: options, generator)
    if options.keepLayers { layers.append((PageLayer.model, output)) }
    if let palette = options.palette { output = try palette.recolour(generated: output, page: modelInput) }
    if let chapter = options.chapterPalette, chapter.finished {
        output = try chapter.recolour(generated: output, page: modelInput)
    }
    return .coloured(ModelStage(kind: kind, share: share, grey: grey, descreened: descreened, modelInput: modelInput,
                                output: output, layers: layers))
}

/// The generator over the page (at `options.reducedScale`), in the value range and channel count it expects;
/// 3 channels out at the page's size.
func runGenerator(_ grey: Image, options: ColorizeOptions, _ generator: (Tensor) throws -> Tensor) throws -> Image {
    let reduced = options.reducedScale
    guard reduced.scale > 0, reduced.scale <= 1 else {
        throw ImageError.mismatch("the model scale must be in (0, 1], not \(reduced.scale)")
    }
    let size = scaledSize(width: grey.width, height: grey.height, scale: reduced.scale)
    if size == (grey.width, grey.height) { return try runGeneratorAtPageScale(grey, options: options, generator) }
    let small = grey.areaResized(width: size.width, height: size.height)
    let low = try runGeneratorAtPageScale(small, options: options, generator)
    return Image(lab: try guidedUpsample(low.lab(), lowGuide: small, guide: grey,
                                         radius: reduced.radius, epsilon: reduced.epsilon))
}

/// The generator over `grey`'s tiles at its own size.
private func runGeneratorAtPageScale(_ grey: Image, options: ColorizeOptions,
                                     _ generator: (Tensor) throws -> Tensor) throws -> Image {
    let input = options.inputChannels == 3 ? grey.rgb() : grey
    var output: Image
    switch options.range {
    case .minusOneToOne:
        output = try image(fromGeneratorOutput: runTiled(input.tensor(), options: options.tiling, generator),
                           colour: options.outputColour)
    case .zeroToOne:
        let tensor = Tensor(shape: [1, input.channels, input.height, input.width], floats: input.pixels)
        let result = try runTiled(tensor, options: options.tiling, generator)
        guard result.shape.count == 4, result.shape[1] == 3 else {
            throw ImageError.badTensor(shape: result.shape, reason: "the generator must return 3 channels")
        }
        output = Image(width: input.width, height: input.height, channels: 3,
                       pixels: result.floats.map { min(max($0, 0), 1) })
    }
    guard output.channels == 3 else {
        throw ImageError.mismatch("the generator returned \(output.channels) channel(s); a colour page needs 3")
    }
    return output
}

/// The numbers `mangacolor evaluate` reports for one page (see Metrics.swift for definitions).
public struct QualityReport: Sendable, Equatable {
    public var psnr: Double
    public var ssim: Double
    public var ciede2000: Double
    public var colourfulness: Double
    public var referenceColourfulness: Double
}

/// Quality of a colorizer on one held-out colour page: its grey (luma) version is colorized with `options`
/// (colour pages are never skipped here) and the result compared with the page.
public func evaluateColorizer(on reference: Image, options: ColorizeOptions = ColorizeOptions(),
                              generator: (Tensor) throws -> Tensor) throws -> (report: QualityReport, output: Image) {
    var options = options
    options.skipColorPages = false
    guard case .colorized(let output) = try colorizePage(reference.luminance(), options: options, generator: generator)
    else { throw ImageError.mismatch("the page was skipped") }
    return (try evaluate(generated: output, reference: reference.rgb()), output)
}

public func evaluate(generated: Image, reference: Image) throws -> QualityReport {
    QualityReport(psnr: try psnr(generated, reference), ssim: try ssim(generated, reference),
                  ciede2000: try meanCIEDE2000(generated, reference),
                  colourfulness: colourfulness(generated), referenceColourfulness: colourfulness(reference))
}

/// Writes `count` synthetic pages as `synth_NNNNN_color.png` (ground truth) and `synth_NNNNN_manga.png`
/// (black-and-white input) into `folder` (created if needed); page k uses seed derive(seed, k).
/// Returns the colour page paths.
public func writeSyntheticPages(folder: String, count: Int, width: Int = 992, height: Int = 1401,
                                seed: UInt64 = 1) throws -> [String] {
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw ImageError.writeFailed(path: folder, reason: "cannot create the folder")
    }
    var written: [String] = []
    for k in 0 ..< count {
        let page = synthesizePage(width: width, height: height, seed: SplitMix64.derive(seed, UInt64(k)))
        let stem = (folder as NSString).appendingPathComponent(String(format: "synth_%05d", k))
        try writePNG(page.color, path: stem + "_color.png")
        try writePNG(page.lineArt, path: stem + "_manga.png")
        written.append(stem + "_color.png")
    }
    return written
}
