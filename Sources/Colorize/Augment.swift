import Foundation
import Tensor

// Training pairs made from colour pages the way real black-and-white pages look.
//
// For each pair: a square crop whose side is `size * s` page pixels, s drawn from `scale` (scale jitter:
// s < 1 zooms in, s > 1 zooms out), resized to `size` x `size` by bilinear interpolation, mirrored
// left-right half the time. The target is that crop in colour; the input is its grey version, either the
// plain Rec. 601 luma (`.grey`, like a greyscale scan) or the manga look (`.manga`: solid ink plus halftone
// screentone, see MangaStyle.swift) with the screen, period, angle, tone count, blur and thresholds jittered
// per pair so the generator does not learn one screen — and then descreened exactly as `colorize` descreens
// a manga page, so training and colorizing see one distribution. `.mixed(mangaShare:)` picks per pair.
// The screentone is applied after resizing, so its dots are sharp at the training resolution, as in a scan.
// A generator that runs at a reduced page scale (`pageScale` < 1, colorize's --model-scale) trains on crops
// that cover size / pageScale page pixels: made, rendered and descreened at that side as colorize does at the
// page's own resolution, then area-reduced to `size` x `size` (ReducedScale.swift) — the input it will see.
// Grey inputs get a light tone-curve jitter (a gamma drawn from `toneGamma`, the input only): scans and
// renders differ in their curves, and the target's colours stay what they are.
//
// API:
//   InputStyle, AugmentOptions, TrainingPair (input 1 channel, target 3 channels, both size x size)
//   makeTrainingPair(from:options:rng:) -> TrainingPair
//   pair.tensors() -> (input [1,1,S,S], target [1,3,S,S]) in [-1, 1];  batchTensors([TrainingPair])
// (The background loader is in PairLoader.swift.)

public enum InputStyle: Sendable, Equatable {
    case grey
    case manga
    case mixed(mangaShare: Double)
}

public struct AugmentOptions: Sendable, Equatable {
    /// Side of the square crops, in pixels.
    public var size: Int = 256
    /// Crop side as a multiple of `size`, drawn uniformly.
    public var scale: ClosedRange<Double> = 0.8 ... 1.25
    /// Mirror left-right half of the time.
    public var flip: Bool = true
    public var input: InputStyle = .mixed(mangaShare: 0.5)
    /// Gamma applied to grey inputs (v^gamma), drawn uniformly in log space; nil: none.
    public var toneGamma: ClosedRange<Double>? = 0.8 ... 1.25
    /// The page scale the generator runs at (see the file header); 1: the page's own resolution.
    public var pageScale: Double = 1

    public init(size: Int = 256, scale: ClosedRange<Double> = 0.8 ... 1.25, flip: Bool = true,
                input: InputStyle = .mixed(mangaShare: 0.5), toneGamma: ClosedRange<Double>? = 0.8 ... 1.25) {
        self.size = size
        self.scale = scale
        self.flip = flip
        self.input = input
        self.toneGamma = toneGamma
    }
}

public struct TrainingPair: Sendable {
    /// 1 channel, size x size.
    public var input: Image
    /// 3 channels, size x size.
    public var target: Image

    public init(input: Image, target: Image) {
        self.input = input
        self.target = target
    }

    /// Generator input [1, 1, S, S] and target [1, 3, S, S], values in [-1, 1].
    public func tensors() -> (input: Tensor, target: Tensor) { (input.tensor(), target.tensor()) }
}

/// Stacks pairs of equal size into [N, 1, S, S] inputs and [N, 3, S, S] targets in [-1, 1].
public func batchTensors(_ pairs: [TrainingPair]) -> (input: Tensor, target: Tensor) {
    precondition(!pairs.isEmpty)
    let s = pairs[0].input.width, h = pairs[0].input.height
    let input = Tensor(uninitialized: [pairs.count, 1, h, s], dtype: .float32)
    let target = Tensor(uninitialized: [pairs.count, 3, h, s], dtype: .float32)
    let x = input.floats, y = target.floats
    for (k, pair) in pairs.enumerated() {
        precondition(pair.input.width == s && pair.input.height == h && pair.target.channels == 3,
                     "batch pairs differ in size")
        let ni = pair.input.pixels.count, nt = pair.target.pixels.count
        for i in 0 ..< ni { x[k * ni + i] = pair.input.pixels[i] * 2 - 1 }
        for i in 0 ..< nt { y[k * nt + i] = pair.target.pixels[i] * 2 - 1 }
    }
    return (input, target)
}

/// A screentone look with per-pair jitter: the screens real pages use (periods 4–9 px, any angle in
/// 0–90°, dot and line screens, stepped and gradient tones) and, half of the time, a little scan blur.
func jitteredMangaStyle(rng: inout SplitMix64) -> MangaStyle {
    MangaStyle(inkBelow: Float(rng.uniform(0.12, 0.25)), paperAbove: Float(rng.uniform(0.8, 0.92)),
               period: rng.uniform(4, 9), angle: rng.chance(0.4) ? rng.pick([0, 45]) : rng.uniform(0, 90),
               toneSteps: rng.pick([0, 4, 6, 8]), screen: rng.chance(0.25) ? .lines : .dots,
               scanBlur: rng.chance(0.5) ? rng.uniform(0.3, 0.8) : 0)
}

/// A manga-style input as `colorize` gives it to the generator: rendered, then descreened (Descreen.swift).
public func mangaInput(_ image: Image, style: MangaStyle) -> Image {
    let rendered = mangaStyle(image, style: style)
    return descreen(rendered, analysis: analyzeScreentone(rendered)).page
}

/// One augmented pair from a colour page (a grey page is used as grey colour).
public func makeTrainingPair(from page: Image, options: AugmentOptions, rng: inout SplitMix64) -> TrainingPair {
    precondition(options.size > 0 && page.width > 0 && page.height > 0)
    let colour = page.rgb()
    precondition(options.pageScale > 0 && options.pageScale <= 1)
    let size = options.size
    // The side at page resolution the pair is made at before the reduction to `size`.
    let full = max(size, Int((Double(size) / options.pageScale).rounded()))
    let s = rng.uniform(options.scale.lowerBound, options.scale.upperBound)
    let side = max(1, min(Int((Double(full) * s).rounded()), colour.width, colour.height))
    let x = rng.int(in: 0 ... colour.width - side), y = rng.int(in: 0 ... colour.height - side)
    var target = colour.cropped(x: x, y: y, width: side, height: side).resized(width: full, height: full)
    if options.flip && rng.chance(0.5) { target = target.flippedHorizontally() }
    // Bilinear interpolation stays inside [0, 1]; no clamping needed.
    let manga: Bool
    switch options.input {
    case .grey: manga = false
    case .manga: manga = true
    case .mixed(let share): manga = rng.chance(share)
    }
    var input = manga ? mangaInput(target, style: jitteredMangaStyle(rng: &rng)) : target.luminance()
    if !manga, let range = options.toneGamma {
        let gamma = Float(Foundation.exp(rng.uniform(Foundation.log(range.lowerBound), Foundation.log(range.upperBound))))
        for i in input.pixels.indices { input.pixels[i] = Foundation.pow(input.pixels[i], gamma) }
    }
    if full != size {
        input = input.areaResized(width: size, height: size)
        target = target.areaResized(width: size, height: size)
    }
    return TrainingPair(input: input, target: target)
}
