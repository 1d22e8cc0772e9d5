import Foundation
import Tensor

// Procedural manga pages with exact colour ground truth, deterministic per seed (SplitMix64).
//
// A page is white paper with a margin, cut into 2-4 rows of 1-3 panels separated by gutters. Each panel
// has a background region and 2-7 shapes painted over it (ellipses, star-shaped polygons, straight bands),
// clipped to the panel. Every region (label) gets one fill: a flat colour, a linear shade (darkening along a
// direction, like cel shading) or a radial highlight. Black ink outlines are drawn wherever two labels
// meet (panel borders included), so every colour region is closed by ink, as in inked comics; a few open
// strokes (short curves) add line work that closes nothing, like hair strands and folds.
//
// Outputs (all width x height):
//   color    3-channel ground truth (ink is exactly 0).
//   lineArt  the black-and-white manga version: `mangaStyle(color)` — solid black ink and darks, halftone
//            screentone in the mid tones, white paper (see MangaStyle.swift).
//   labels   region id per pixel, row-major; 0 is paper (margins, gutters), -1 is ink.
//
// API: synthesizePage(width:height:seed:style:) -> SynthPage

public struct SynthPage: Sendable {
    public var color: Image
    public var lineArt: Image
    public var labels: [Int32]
    public var regionCount: Int
}

/// How a region is coloured.
private struct Fill {
    enum Shade { case flat, linear(x0: Double, y0: Double, dx: Double, dy: Double, amount: Double),
                 radial(cx: Double, cy: Double, radius: Double, amount: Double) }
    var r: Double, g: Double, b: Double
    var shade: Shade

    func colour(_ x: Int, _ y: Int) -> (Double, Double, Double) {
        switch shade {
        case .flat:
            return (r, g, b)
        case .linear(let x0, let y0, let dx, let dy, let amount):
            // t in [0, 1] along the direction (dx, dy), whose length is the shading distance.
            let t = min(max(((Double(x) - x0) * dx + (Double(y) - y0) * dy) / (dx * dx + dy * dy), 0), 1)
            let k = 1 - amount * t
            return (r * k, g * k, b * k)
        case .radial(let cx, let cy, let radius, let amount):
            let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
            let t = amount * max(1 - d / radius, 0)
            return (r + (1 - r) * t, g + (1 - g) * t, b + (1 - b) * t)
        }
    }
}

/// HSV (h in [0, 1)) to RGB.
private func hsv(_ h: Double, _ s: Double, _ v: Double) -> (Double, Double, Double) {
    let i = Int(h * 6) % 6, f = h * 6 - Double(Int(h * 6))
    let p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s)
    switch i {
    case 0: return (v, t, p)
    case 1: return (q, v, p)
    case 2: return (p, v, t)
    case 3: return (p, q, v)
    case 4: return (t, p, v)
    default: return (v, p, q)
    }
}

private struct Rect { var x0: Int, y0: Int, x1: Int, y1: Int }  // half-open

/// Panels: rows of columns inside the margin, gutters between.
private func panels(width: Int, height: Int, rng: inout SplitMix64) -> [Rect] {
    let side = min(width, height)
    let margin = max(1, side * 4 / 100), gutter = max(2, side * 2 / 100)
    let rows = rng.int(in: 2 ... 4)
    var result: [Rect] = []
    // Random row heights (weights 1-2), then random column widths per row.
    let weights = (0 ..< rows).map { _ in rng.uniform(1, 2) }
    let usable = height - 2 * margin - (rows - 1) * gutter
    var y = margin
    for row in 0 ..< rows {
        let h = row == rows - 1 ? height - margin - y
            : Int(Double(usable) * weights[row] / weights.reduce(0, +))
        let columns = rng.int(in: 1 ... 3)
        let cw = (0 ..< columns).map { _ in rng.uniform(1, 2) }
        let usableW = width - 2 * margin - (columns - 1) * gutter
        var x = margin
        for column in 0 ..< columns {
            let w = column == columns - 1 ? width - margin - x : Int(Double(usableW) * cw[column] / cw.reduce(0, +))
            if w > 2 && h > 2 { result.append(Rect(x0: x, y0: y, x1: x + w, y1: y + h)) }
            x += w + gutter
        }
        y += h + gutter
    }
    return result
}

private func randomFill(in panel: Rect, rng: inout SplitMix64, background: Bool) -> Fill {
    let hue = rng.nextDouble()
    let saturation = background ? rng.uniform(0.03, 0.35) : rng.uniform(0.2, 0.85)
    let value = background ? rng.uniform(0.7, 1.0) : rng.uniform(0.15, 0.98)
    let (r, g, b) = hsv(hue, saturation, value)
    let pw = Double(panel.x1 - panel.x0), ph = Double(panel.y1 - panel.y0)
    let kind = rng.int(below: 3)
    let shade: Fill.Shade
    switch kind {
    case 0:
        shade = .flat
    case 1:
        let angle = rng.uniform(0, 2 * .pi), length = rng.uniform(0.3, 1.0) * max(pw, ph)
        shade = .linear(x0: Double(panel.x0) + rng.uniform(0, pw), y0: Double(panel.y0) + rng.uniform(0, ph),
                        dx: cos(angle) * length, dy: sin(angle) * length, amount: rng.uniform(0.2, 0.6))
    default:
        shade = .radial(cx: Double(panel.x0) + rng.uniform(0, pw), cy: Double(panel.y0) + rng.uniform(0, ph),
                        radius: rng.uniform(0.2, 0.7) * max(pw, ph), amount: rng.uniform(0.2, 0.7))
    }
    return Fill(r: r, g: g, b: b, shade: shade)
}

/// Paints label `id` over the shape's pixels inside `panel`.
private func paintShape(_ labels: inout [Int32], width: Int, panel: Rect, id: Int32, rng: inout SplitMix64) {
    let pw = Double(panel.x1 - panel.x0), ph = Double(panel.y1 - panel.y0)
    let cx = Double(panel.x0) + rng.uniform(0, pw), cy = Double(panel.y0) + rng.uniform(0, ph)
    let kind = rng.int(below: 3)
    var inside: (Double, Double) -> Bool
    var box = panel
    switch kind {
    case 0: // rotated ellipse
        let rx = rng.uniform(0.08, 0.45) * pw, ry = rng.uniform(0.08, 0.45) * ph, t = rng.uniform(0, .pi)
        let c = cos(t), s = sin(t)
        inside = { x, y in
            let dx = x - cx, dy = y - cy
            let u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry
            return u * u + v * v <= 1
        }
        let extent = max(rx, ry)
        box = Rect(x0: max(panel.x0, Int(cx - extent)), y0: max(panel.y0, Int(cy - extent)),
                   x1: min(panel.x1, Int(cx + extent) + 1), y1: min(panel.y1, Int(cy + extent) + 1))
    case 1: // star-shaped polygon around (cx, cy)
        let n = rng.int(in: 3 ... 8), size = rng.uniform(0.1, 0.4) * min(pw, ph)
        var px: [Double] = [], py: [Double] = []
        let start = rng.uniform(0, 2 * .pi)
        for i in 0 ..< n {
            let a = start + 2 * .pi * (Double(i) + rng.uniform(-0.3, 0.3)) / Double(n)
            let r = size * rng.uniform(0.4, 1.0)
            px.append(cx + r * cos(a))
            py.append(cy + r * sin(a))
        }
        inside = { x, y in // even-odd rule
            var isInside = false
            var j = n - 1
            for i in 0 ..< n {
                if (py[i] > y) != (py[j] > y) && x < (px[j] - px[i]) * (y - py[i]) / (py[j] - py[i]) + px[i] {
                    isInside.toggle()
                }
                j = i
            }
            return isInside
        }
        box = Rect(x0: max(panel.x0, Int(cx - size)), y0: max(panel.y0, Int(cy - size)),
                   x1: min(panel.x1, Int(cx + size) + 1), y1: min(panel.y1, Int(cy + size) + 1))
    default: // straight band across the panel
        let angle = rng.uniform(0, .pi), half = rng.uniform(0.04, 0.2) * min(pw, ph)
        let nx = cos(angle), ny = sin(angle)
        inside = { x, y in abs((x - cx) * nx + (y - cy) * ny) <= half }
    }
    guard box.x1 > box.x0, box.y1 > box.y0 else { return }
    for y in box.y0 ..< box.y1 {
        for x in box.x0 ..< box.x1 where inside(Double(x) + 0.5, Double(y) + 0.5) {
            labels[y * width + x] = id
        }
    }
}

/// Marks ink along a random quadratic Bézier curve inside `panel`, `radius` pixels either side.
private func drawStroke(_ ink: inout [UInt8], width: Int, panel: Rect, radius: Int, rng: inout SplitMix64) {
    let pw = Double(panel.x1 - panel.x0), ph = Double(panel.y1 - panel.y0)
    func point() -> (Double, Double) { (Double(panel.x0) + rng.uniform(0, pw), Double(panel.y0) + rng.uniform(0, ph)) }
    let p0 = point()
    // The end point stays near the start: strokes are short marks, not panel-long cuts.
    let reach = 0.3 * min(pw, ph)
    let p2 = (min(max(p0.0 + rng.uniform(-reach, reach), Double(panel.x0)), Double(panel.x1 - 1)),
              min(max(p0.1 + rng.uniform(-reach, reach), Double(panel.y0)), Double(panel.y1 - 1)))
    // Control point off the chord's midpoint, sideways: a gentle bend.
    let bend = rng.uniform(-0.5, 0.5)
    let control = ((p0.0 + p2.0) / 2 - (p2.1 - p0.1) * bend, (p0.1 + p2.1) / 2 + (p2.0 - p0.0) * bend)
    func distance(_ a: (Double, Double), _ b: (Double, Double)) -> Double {
        ((a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1)).squareRoot()
    }
    let steps = Int(2 * (distance(p0, control) + distance(control, p2))) + 2
    // Thinner than outlines: radius - 1 (at least a 1-pixel line).
    let r = max(radius - 1, 0)
    for k in 0 ... steps {
        let t = Double(k) / Double(steps), u = 1 - t
        let x = min(max(Int(u * u * p0.0 + 2 * u * t * control.0 + t * t * p2.0), panel.x0), panel.x1 - 1)
        let y = min(max(Int(u * u * p0.1 + 2 * u * t * control.1 + t * t * p2.1), panel.y0), panel.y1 - 1)
        for yy in max(panel.y0, y - r) ... min(panel.y1 - 1, y + r) {
            for xx in max(panel.x0, x - r) ... min(panel.x1 - 1, x + r) { ink[yy * width + xx] = 1 }
        }
    }
}

/// A synthetic page: see the file header. Same seed and size, same page.
public func synthesizePage(width: Int, height: Int, seed: UInt64, style: MangaStyle = MangaStyle()) -> SynthPage {
    precondition(width >= 16 && height >= 16, "synthetic pages need at least 16x16 pixels")
    var rng = SplitMix64(seed: seed)
    var labels = [Int32](repeating: 0, count: width * height)
    var fills = [Fill(r: 1, g: 1, b: 1, shade: .flat)]  // label 0: paper
    let strokePanels = panels(width: width, height: height, rng: &rng)
    for panel in strokePanels {
        let background = Int32(fills.count)
        fills.append(randomFill(in: panel, rng: &rng, background: true))
        for y in panel.y0 ..< panel.y1 {
            for x in panel.x0 ..< panel.x1 { labels[y * width + x] = background }
        }
        for _ in 0 ..< rng.int(in: 2 ... 7) {
            let id = Int32(fills.count)
            fills.append(randomFill(in: panel, rng: &rng, background: false))
            paintShape(&labels, width: width, panel: panel, id: id, rng: &rng)
        }
    }

    // Ink: every pixel within `radius` (Chebyshev) of a label change. Boundary pixels first, then a
    // separable max-dilation.
    let radius = max(1, min(width, height) / 450)
    var ink = [UInt8](repeating: 0, count: width * height)
    for y in 0 ..< height {
        for x in 0 ..< width {
            let l = labels[y * width + x]
            if (x + 1 < width && labels[y * width + x + 1] != l) || (y + 1 < height && labels[(y + 1) * width + x] != l) {
                ink[y * width + x] = 1
            }
        }
    }
    var horizontal = [UInt8](repeating: 0, count: width * height)
    for y in 0 ..< height {
        for x in 0 ..< width where ink[y * width + x] != 0 {
            for d in max(0, x - radius) ... min(width - 1, x + radius) { horizontal[y * width + d] = 1 }
        }
    }
    ink = [UInt8](repeating: 0, count: width * height)
    for y in 0 ..< height {
        for x in 0 ..< width where horizontal[y * width + x] != 0 {
            for d in max(0, y - radius) ... min(height - 1, y + radius) { ink[d * width + x] = 1 }
        }
    }

    // Open strokes (hair strands, folds, motion lines): curves of ink inside panels that close nothing.
    for panel in strokePanels {
        for _ in 0 ..< rng.int(in: 0 ... 4) {
            drawStroke(&ink, width: width, panel: panel, radius: radius, rng: &rng)
        }
    }

    var color = Image(width: width, height: height, channels: 3)
    let plane = width * height
    color.pixels.withUnsafeMutableBufferPointer { px in
        for y in 0 ..< height {
            for x in 0 ..< width {
                let i = y * width + x
                if ink[i] != 0 {
                    labels[i] = -1
                    continue // ink stays exactly 0
                }
                let (r, g, b) = fills[Int(labels[i])].colour(x, y)
                px[i] = Float(r)
                px[plane + i] = Float(g)
                px[2 * plane + i] = Float(b)
            }
        }
    }
    return SynthPage(color: color, lineArt: mangaStyle(color, style: style), labels: labels,
                     regionCount: fills.count)
}
