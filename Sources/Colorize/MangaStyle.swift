import Foundation

// The black-and-white look of printed manga, made from a colour (or grey) page, so the generator trains
// on inputs like the pages users bring:
//
//   luma <  inkBelow    solid black (ink, black fills)
//   luma >  paperAbove  white paper
//   otherwise           screentone: a halftone dot screen at `angle` with `period` pixels per cell whose dot
//                       coverage follows the darkness (1 - luma), optionally quantised to `toneSteps`
//                       distinct tones as with sheets of commercial screentone.
//
// The dot screen is the "Euclidean" spot function f(u, v) = (cos 2πu + cos 2πv) / 2 on rotated cell
// coordinates: a pixel is black where f > 1 - 2·darkness, so dots grow from the cell centres, touch at
// 50 % and invert beyond. Output values are exactly 0 or 1.
//
// API: MangaStyle (options), mangaStyle(_ image: Image, style:) -> 1-channel Image

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

    public init(inkBelow: Float = 0.2, paperAbove: Float = 0.85, period: Double = 6, angle: Double = 45,
                toneSteps: Int = 6) {
        self.inkBelow = inkBelow
        self.paperAbove = paperAbove
        self.period = period
        self.angle = angle
        self.toneSteps = toneSteps
    }
}

/// The manga (ink + screentone) version of an image, 1 channel, values 0 or 1.
public func mangaStyle(_ image: Image, style: MangaStyle = MangaStyle()) -> Image {
    let grey = image.luminance()
    var out = Image(width: image.width, height: image.height, channels: 1)
    let w = image.width
    let radians = style.angle * .pi / 180
    let c = Float(cos(radians) / style.period), s = Float(sin(radians) / style.period)
    let twoPi = Float.pi * 2
    let low = style.inkBelow, high = style.paperAbove, steps = style.toneSteps
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
                    let spot = (cos(twoPi * u) + cos(twoPi * q)) * 0.5
                    dst[y * w + x] = spot > 1 - 2 * darkness ? 0 : 1
                }
            }
        }
    }
    return out
}
