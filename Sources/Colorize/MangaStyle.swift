import Foundation

// The black-and-white look of printed manga, made from a colour (or grey) page, so the generator trains
// on inputs like the pages users bring:
//
//   luma <  inkBelow    solid black (ink, black fills)
//   luma >  paperAbove  white paper
//   otherwise           screentone: a halftone screen at `angle` with `period` pixels per cell whose
//                       coverage follows the darkness (1 - luma), optionally quantised to `toneSteps`
//                       distinct tones as with sheets of commercial screentone (0: a gradient tone)
//
// Screens: `.dots`, the "Euclidean" spot function f(u, v) = (cos 2πu + cos 2πv) / 2 on rotated cell
// coordinates — a pixel is black where f > t, so dots grow from the cell centres, touch at 50 % and invert
// beyond, with t chosen so the dots cover exactly `darkness` of the cell, as a "30 %" tone sheet does
// (t = 1 − 2·darkness would print a 25 % tone at 16 %); `.lines`, parallel lines along the screen angle, black where frac(u) < darkness
// (coverage = darkness exactly). Output values are exactly 0 or 1, unless `scanBlur` > 0: a Gaussian of
// that σ in pixels, as a scanner's optics soften print.
//
// API: MangaStyle (options), Screen, mangaStyle(_ image: Image, style:) -> 1-channel Image,
//      gaussianBlurred(_ image:sigma:) -> Image

public enum Screen: String, Sendable, Equatable, CaseIterable {
    case dots, lines
}

public struct MangaStyle: Sendable, Equatable {
    /// Luma below which a pixel prints solid black.
    public var inkBelow: Float = 0.2
    /// Luma above which a pixel is left as paper.
    public var paperAbove: Float = 0.85
    /// Screen period in pixels (cell size). Real tones at 60 lines per inch scanned at 300-400 dpi: 5-7 px.
    public var period: Double = 6
    /// Screen angle in degrees (45 is the classic).
    public var angle: Double = 45
    /// Distinct screentone levels in the mid tones; 0 keeps the darkness continuous.
    public var toneSteps: Int = 6
    public var screen: Screen = .dots
    /// Gaussian σ (pixels) of scan blur applied after rendering; 0 keeps the page binary.
    public var scanBlur: Double = 0

    public init(inkBelow: Float = 0.2, paperAbove: Float = 0.85, period: Double = 6, angle: Double = 45,
                toneSteps: Int = 6, screen: Screen = .dots, scanBlur: Double = 0) {
        self.inkBelow = inkBelow
        self.paperAbove = paperAbove
        self.period = period
        self.angle = angle
        self.toneSteps = toneSteps
        self.screen = screen
        self.scanBlur = scanBlur
    }
}

/// The manga (ink + screentone) version of an image, 1 channel, values 0 or 1 (soft with `scanBlur`).
public func mangaStyle(_ image: Image, style: MangaStyle = MangaStyle()) -> Image {
    let grey = image.luminance()
    var out = Image(width: image.width, height: image.height, channels: 1)
    let w = image.width
    let radians = style.angle * .pi / 180
    let c = Float(cos(radians) / style.period), s = Float(sin(radians) / style.period)
    let twoPi = Float.pi * 2
    let low = style.inkBelow, high = style.paperAbove, steps = style.toneSteps, lines = style.screen == .lines
    let thresholds = euclideanDotThresholds
    grey.pixels.withUnsafeBufferPointer { src in
        out.pixels.withUnsafeMutableBufferPointer { dst in
            for y in 0 ..< image.height {
                for x in 0 ..< w {
                    let v = src[y * w + x]
                    if v < low { dst[y * w + x] = 0; continue }
                    if v > high { dst[y * w + x] = 1; continue }
                    var darkness = 1 - v
                    if steps > 0 {
                        // Quantise the mid-tone range into `steps` tones, each at its level's centre.
                        let t = (v - low) / (high - low)
                        let k = min(Float(Int(t * Float(steps))), Float(steps - 1))
                        darkness = 1 - (low + (k + 0.5) / Float(steps) * (high - low))
                    }
                    let fx = Float(x) + 0.5, fy = Float(y) + 0.5
                    let u = fx * c + fy * s, q = -fx * s + fy * c
                    if lines {
                        dst[y * w + x] = u - u.rounded(.down) < darkness ? 0 : 1
                    } else {
                        let spot = (cos(twoPi * u) + cos(twoPi * q)) * 0.5
                        let k = Int((darkness * Float(thresholds.count - 1)).rounded())
                        dst[y * w + x] = spot > thresholds[min(max(k, 0), thresholds.count - 1)] ? 0 : 1
                    }
                }
            }
        }
    }
    return style.scanBlur > 0 ? gaussianBlurred(out, sigma: style.scanBlur) : out
}

/// Threshold t of the Euclidean spot function at which dots cover a share c of the cell, for c = k / 1024:
/// the (1 − c) quantile of f over a 256 x 256 sampling of one cell.
let euclideanDotThresholds: [Float] = {
    let m = 256
    var values = [Float]()
    values.reserveCapacity(m * m)
    for j in 0 ..< m {
        for i in 0 ..< m {
            let u = (Double(i) + 0.5) / Double(m), v = (Double(j) + 0.5) / Double(m)
            values.append(Float((cos(2 * .pi * u) + cos(2 * .pi * v)) / 2))
        }
    }
    values.sort()
    return (0 ... 1024).map { k in
        if k == 0 { return 2 }          // nothing is above 2: no dots
        if k == 1024 { return -2 }      // everything is above -2: solid
        let index = Int((1 - Double(k) / 1024) * Double(values.count))
        return values[min(max(index, 0), values.count - 1)]
    }
}()

/// Separable Gaussian blur of every channel (taps to 3σ, borders clamped).
public func gaussianBlurred(_ image: Image, sigma: Double) -> Image {
    guard sigma > 0 else { return image }
    let r = max(1, Int((3 * sigma).rounded(.up)))
    let taps = gaussianKernel(size: 2 * r + 1, sigma: sigma).map { Float($0) }
    let w = image.width, h = image.height
    var out = image
    var row = [Float](repeating: 0, count: w * h)
    for c in 0 ..< image.channels {
        let base = c * w * h
        image.pixels.withUnsafeBufferPointer { src in
            row.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< h {
                    for x in 0 ..< w {
                        var s: Float = 0
                        for t in -r ... r { s += taps[t + r] * src[base + y * w + min(max(x + t, 0), w - 1)] }
                        dst[y * w + x] = s
                    }
                }
            }
        }
        row.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< h {
                    for x in 0 ..< w {
                        var s: Float = 0
                        for t in -r ... r { s += taps[t + r] * src[min(max(y + t, 0), h - 1) * w + x] }
                        dst[base + y * w + x] = min(max(s, 0), 1)
                    }
                }
            }
        }
    }
    return out
}
