import ArgumentParser
import Colorize
import Foundation
import Runtime
import Tensor
import Training

struct ColorizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "colorize",
        abstract: "Colorize black-and-white pages: files, folders (recursively) or quoted glob patterns.",
        discussion: """
        Writes PNG pages under OUT keeping folders' relative paths (a single input page may name an OUT file \
        ending in .png). Pages of any size are padded to the network's multiple, or tiled with overlap when large. \
        A PNG strip too big to decode whole (over 100 Mpx, or 65500 px tall; a webtoon up to 16384 px wide, not \
        interlaced) is read, colorized and written in bands of 4096 rows with 256 rows of context, seams blended, \
        so memory follows the band (--layers too); its page kind is decided once for the whole strip. \
        Pages already in colour are skipped unless --force. A page that cannot be read is reported and the rest go on.

        Each page is classified first (--page-kind auto): a continuous-tone grey page keeps its exact lightness \
        and takes only colour from the model; a black-and-white manga page (ink, paper, screentone) is \
        descreened, coloured, and composited: ink stays black, toned areas take colour at their printed \
        coverage, white paper takes the model's colour and lightness where the model is confident (see --paper-floor). \
        The choice is printed per page. Under mpirun -n N (a build with Open MPI) the pages are split across the \
        processes, each page written by one.
        """)

    @Argument(help: "Pages (PNG or JPEG), folders of pages, or quoted glob patterns.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output folder (or a .png file for a single page).")
    var output: String = "colorized"

    @Option(help: "Generator ONNX model (default: models/\(defaultModelName)).")
    var model: String?

    @Flag(inversion: .prefixedNo, help: "Keep the page's own ink and lightness and take only colour from the model (default on; --no-keep-lines writes the model's raw output, on the descreened page for manga).")
    var keepLines = true

    @Option(help: "Which path a page takes: auto (decide per page), grey (continuous tone: exact lightness kept) or manga (descreen screentone, keep ink black, colour paper).")
    var pageKind: PageKindChoice = .auto

    @Option(help: "Manga pages: the lowest L* white paper may take from the model (paper takes the model's colour where that colour is vivid, C* above 12-24, and stays white where the model is unsure; 100 keeps all paper white).")
    var paperFloor: Double = 60

    @Option(help: "Manga pages: how paper takes the model's paint — region (one weight per area of paper bounded by ink and tone; margins and gutters stay white) or pixel (each pixel by its own colour's vividness).")
    var paperPaint: PaperPaint = .region

    @Flag(help: "Also write each page's intermediate layers beside it: NAME.ink.png, NAME.tone.png (black = detected), NAME.descreened.png (what the model saw), NAME.model.png (its raw output).")
    var layers = false

    @Flag(help: "One clean colour per region bounded by ink lines (segment colour correction).")
    var flat = false

    @Option(help: "A coloured page of the same series (repeatable): the generator is first fine-tuned on it (--adapt-steps; cached), then each ink-bounded region takes the colour of the reference region it looks most like in black and white (lightness, texture, size, place, and the model's guess).")
    var reference: [String] = []

    @OptionGroup var adaptation: AdaptationFlags

    @Flag(help: "One palette across the run's pages: ink-bounded regions that look alike in black and white (and got similar colours) take one colour on every page, the one most of them were given. Runs the model twice per page.")
    var consistent = false

    @Flag(help: "Colorize pages that already look coloured.")
    var force = false

    @Flag(help: "Leave pages whose output already exists (resume an interrupted chapter).")
    var skipExisting = false

    @Option(help: "Largest tile side in pixels; bigger pages are tiled with overlap (memory bound).")
    var tileSize: Int = 1024

    @Option(help: "Overlap between tiles in pixels.")
    var overlap: Int = 64

    @Option(help: "Pad pages to a multiple of this (the U-Net's 2^(levels-1)).")
    var multiple: Int = 64

    @OptionGroup var generatorOptions: GeneratorOptions

    @OptionGroup var memory: MemoryOptions

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one page or folder") }
        guard (0 ... 100).contains(paperFloor) else { throw ValidationError("--paper-floor is an L* between 0 and 100") }
        guard multiple >= 1, tileSize >= multiple, overlap >= 0, overlap < tileSize / 2 else {
            throw ValidationError("need --multiple >= 1, --tile-size >= --multiple and 0 <= --overlap < tile-size/2")
        }
    }

    func run() throws {
        memory.apply()
        // Under mpirun -n N, process r colorizes pages r, r + N, ...: each page is written by exactly one process.
        let collective = try processCollective()
        try collective.failingTogether { try colorize(collective) }
    }

    private func colorize(_ collective: any Collective) throws {
        let allJobs = try collectPages(inputs)
        guard !allJobs.isEmpty else { throw CLIError("no pages to colorize in \(inputs.joined(separator: ", "))") }
        let modelPath = try adaptation.adaptedModel(try resolveModel(model), references: reference, collective: collective)
        let plan = try generatorOptions.loadGenerator(modelPath)
        guard plan.inputs.count == 1 else { throw CLIError("\(modelPath) takes \(plan.inputs.count) inputs; a generator takes one grey page") }
        var options = ColorizeOptions(keepLines: keepLines, flat: flat,
                                      tiling: TilingOptions(multiple: multiple, tileSize: tileSize, overlap: overlap),
                                      skipColorPages: !force)
        options.pageKind = pageKind.kind
        try generatorOptions.apply(to: &options, plan: plan)
        options.keepLayers = layers
        options.composite.paperFloor = paperFloor
        options.composite.paintByRegion = paperPaint == .region
        try adaptOptions(&options, to: plan)
        options.palette = try referencePalette(reference, colorShare: options.colorShare)
        let jobs = allJobs.enumerated().filter { $0.offset % collective.size == collective.rank }.map(\.element)
        if consistent {
            // The chapter palette needs every page: each process makes the same one from all of them.
            options.chapterPalette = try chapterPalette(allJobs, options: options, quiet: !collective.isRoot,
                                                        generator: { try plan.run([$0])[0] })
        }
        let bar = ProgressBar(total: jobs.count, label: collective.size > 1 ? "colorize (process \(collective.rank) of \(collective.size))" : "colorize")
        let start = Date()
        let outcome = try colorizePages(jobs, output: output, options: options, skipExisting: skipExisting,
                                        generator: { try plan.run([$0])[0] }) { event, done in
            switch event {
            case .written(let job, _, let kind):
                bar.finish()
                writeStderr("\(job.source): \(kind == .manga ? "manga page (descreened, ink kept)" : "grey page (lightness kept)")\n")
            case .kept: break
            case .skipped(let job, let share):
                bar.finish()
                writeStderr(String(format: "skipped %@: already in colour (%.0f%% vivid pixels; --force to colorize)\n", job.source, share * 100))
            case .failed(let job, let reason):
                bar.finish()
                // Errors from reading a page name it already.
                writeStderr("error: \(reason.contains(job.source) ? reason : "\(job.source): \(reason)")\n")
            }
            if collective.isRoot {
                bar.update(done, status: String(format: "%.2f pages/s", Double(done) / max(Date().timeIntervalSince(start), 1e-9)))
            }
        }
        bar.finish()
        var counts: [Float] = [outcome.written.count, outcome.kinds.filter { $0 == .manga }.count, outcome.skipped.count,
                               outcome.kept.count, outcome.failed.count].map(Float.init)
        if collective.size > 1 { try counts.withUnsafeMutableBufferPointer { try collective.allReduceSum($0) } }
        let n = counts.map { Int($0) }
        if collective.isRoot {
            let processes = collective.size > 1 ? " by \(collective.size) processes" : ""
            print("\(n[0]) colorized (\(n[1]) as manga, \(n[0] - n[1]) as grey), \(n[2]) skipped, \(n[3]) already there, \(n[4]) failed\(processes) -> \(output)")
        }
        if n[4] > 0 { throw ExitCode(1) }
    }
}

/// `--consistent`'s first pass: every page's regions and the model's colours for them, then one colour per
/// group of regions that look alike. Pages that cannot be read are left to the second pass to report; strips
/// past the pixel budget (colorized in bands) are left out of the palette, with a note.
private func chapterPalette(_ jobs: [PageJob], options: ColorizeOptions, quiet: Bool = false,
                            generator: (Tensor) throws -> Tensor) throws -> ChapterPalette {
    var palette = ChapterPalette()
    let bar = ProgressBar(total: jobs.count, label: "palette")
    let start = Date()
    for (index, job) in jobs.enumerated() {
        if (try? bandedStrip(path: job.source, options: options.bands)) != nil {
            if !quiet { writeStderr("note: \(job.source) is a strip colorized in bands; it takes no part in the chapter palette\n") }
        } else if let page = try? readImage(path: job.source),
           let (generated, modelInput) = try modelColours(of: page, options: options, generator: generator) {
            try palette.collect(generated: generated, page: modelInput, pageIndex: index)
        }
        if !quiet { bar.update(index + 1, status: String(format: "%.2f pages/s", Double(index + 1) / max(Date().timeIntervalSince(start), 1e-9))) }
    }
    bar.finish()
    palette.finish()
    let pages = Set(palette.regions.map(\.page)).count
    if !quiet { writeStderr("chapter palette: \(palette.regions.count) regions on \(pages) page(s)\n") }
    return palette
}

/// `--paper-paint`: per paper region or per pixel (MangaCompositing.swift).
enum PaperPaint: String, ExpressibleByArgument, CaseIterable {
    case region, pixel
}

/// `--page-kind`: auto, or one of the two paths forced.
enum PageKindChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, grey, manga
    var kind: PageKind? {
        switch self {
        case .auto: nil
        case .grey: .grey
        case .manga: .manga
        }
    }
}
