import Foundation

// `--flat`: segment colour correction (after Hensman & Aizawa 2017). Comic colour is mostly flat fills
// between ink lines, while a generator's output is blotchy; so:
//
// 1. Ink: pixels of the original page whose luma is below `inkThreshold`. Ink specks smaller than
//    `maxSpeck` pixels (8-connected: screentone dots, noise) are not lines: they count as region pixels.
// 2. Regions: 4-connected components of the remaining pixels (4-connectivity, so a one-pixel diagonal line
//    still separates two regions).
// 3. Each region of at least `minRegion` pixels gets one colour: the per-channel median, in CIELAB, of the
//    generated colours inside it (robust to the blotches and to bleeding across lines). Smaller regions
//    and the ink keep the generated colours.
//
// Limits: dense dark screentone (dots merging into a net) forms one big ink component, so its holes are
// small regions and keep the generated colours; such areas are not flattened.
//
// API: FlatOptions, segmentRegions(page:options:) -> Segmentation, flatten(generated:page:options:) throws -> Image

public struct FlatOptions: Sendable, Equatable {
    public var inkThreshold: Float = 0.35
    public var maxSpeck: Int = 24
    public var minRegion: Int = 32

    public init(inkThreshold: Float = 0.35, maxSpeck: Int = 24, minRegion: Int = 32) {
        self.inkThreshold = inkThreshold
        self.maxSpeck = maxSpeck
        self.minRegion = minRegion
    }
}

/// Region labels per pixel (row-major): -1 ink, 0 ..< count regions.
public struct Segmentation: Sendable {
    public var labels: [Int32]
    public var count: Int
    public var sizes: [Int]
}

/// Connected components of pixels where `member` is true, by breadth-first flood fill. Returns labels
/// (-1 for non-members) and component sizes.
func connectedComponents(width: Int, height: Int, eightConnected: Bool,
                         member: [Bool]) -> (labels: [Int32], sizes: [Int]) {
    var labels = [Int32](repeating: -1, count: width * height)
    var sizes: [Int] = []
    var queue = [Int](repeating: 0, count: width * height)
    for seed in 0 ..< width * height where member[seed] && labels[seed] < 0 {
        let id = Int32(sizes.count)
        var head = 0, tail = 0
        queue[tail] = seed; tail += 1
        labels[seed] = id
        while head < tail {
            let p = queue[head]; head += 1
            let x = p % width, y = p / width
            for dy in -1 ... 1 {
                let ny = y + dy
                if ny < 0 || ny >= height { continue }
                for dx in -1 ... 1 {
                    if dx == 0 && dy == 0 { continue }
                    if !eightConnected && dx != 0 && dy != 0 { continue }
                    let nx = x + dx
                    if nx < 0 || nx >= width { continue }
                    let q = ny * width + nx
                    if member[q] && labels[q] < 0 {
                        labels[q] = id
                        queue[tail] = q; tail += 1
                    }
                }
            }
        }
        sizes.append(tail)
    }
    return (labels, sizes)
}

/// Ink and regions of a page (grey or colour), as described in the file header.
public func segmentRegions(page: Image, options: FlatOptions = FlatOptions()) -> Segmentation {
    let grey = page.luminance().pixels
    let w = page.width, h = page.height
    var ink = grey.map { $0 < options.inkThreshold }
    if options.maxSpeck > 0 {
        let specks = connectedComponents(width: w, height: h, eightConnected: true, member: ink)
        for i in 0 ..< w * h where ink[i] && specks.sizes[Int(specks.labels[i])] < options.maxSpeck {
            ink[i] = false
        }
    }
    let regions = connectedComponents(width: w, height: h, eightConnected: false, member: ink.map { !$0 })
    return Segmentation(labels: regions.labels, count: regions.sizes.count, sizes: regions.sizes)
}

/// Generated colours made flat per ink-bounded region of the original page; same size, 3 channels.
public func flatten(generated: Image, page: Image, options: FlatOptions = FlatOptions()) throws -> Image {
    try checkGenerated(generated, matches: page, for: "flat colour")
    let segmentation = segmentRegions(page: page, options: options)
    let n = page.planeSize
    let lab = generated.lab()

    // Pixels grouped by region (counting sort), then per-channel medians.
    var starts = [Int](repeating: 0, count: segmentation.count + 1)
    for r in 0 ..< segmentation.count { starts[r + 1] = starts[r] + segmentation.sizes[r] }
    var order = [Int](repeating: 0, count: starts[segmentation.count])
    var fill = starts
    for i in 0 ..< n {
        let r = Int(segmentation.labels[i])
        if r >= 0 { order[fill[r]] = i; fill[r] += 1 }
    }
    var out = generated
    var values = [Float]()
    for r in 0 ..< segmentation.count where segmentation.sizes[r] >= options.minRegion {
        let members = order[starts[r] ..< starts[r + 1]]
        var median = [Double](repeating: 0, count: 3)
        for c in 0 ..< 3 {
            values.removeAll(keepingCapacity: true)
            for i in members { values.append(lab.pixels[c * n + i]) }
            values.sort()
            let m = values.count
            median[c] = m % 2 == 1 ? Double(values[m / 2]) : (Double(values[m / 2 - 1]) + Double(values[m / 2])) / 2
        }
        let rgb = labToRGB(median[0], median[1], median[2])
        let colour = [rgb.r, rgb.g, rgb.b].map { Float(min(max($0, 0), 1)) }
        for i in members {
            out.pixels[i] = colour[0]
            out.pixels[n + i] = colour[1]
            out.pixels[2 * n + i] = colour[2]
        }
    }
    return out
}
