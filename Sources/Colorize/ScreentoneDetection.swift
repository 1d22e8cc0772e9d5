import Foundation

// Screen elements: the dots of a screentone (or the white cells of a dark one), told apart from ink
// specks and lettering by the one thing a mechanical screen has and drawing does not — a lattice of
// many near-identical elements at a regular spacing (after the connected-component criteria of Ito,
// Matsui, Yamasaki & Aizawa 2015, "Separation of Manga Line Drawings and Screentones").
//
// 1. Components of the mask (8-connected for dark dots; 4-connected for white cells, so a diagonal
//    one-pixel gap in the net does not join two cells). Small ones (bbox side <= maxElement, area <=
//    maxArea) are candidates, each with its bounding-box centre.
// 2. A candidate's spacing d is its nearest candidate's distance (<= maxSpacing). It is a screen element
//    when at least minNeighbours candidates of similar area (within 3x) lie within neighbourReach x d.
//    A square lattice has 12 such neighbours inside 2.5 d (4 at d, 4 at 1.41 d, 4 at 2 d); an element on
//    a tone's edge has 5–8. Lettering has at most a few similar marks that close (a dakuten's two strokes).
// 3. Growth, three rounds: a candidate with at least 2 candidates of any size within reach, one of them
//    accepted, joins — the odd-sized and partial dots where a tone changes level or ends. Lettering next to
//    a screen can be taken this way; lettering on paper cannot.
//
// Candidates are bucketed in a grid of maxSpacing-sized cells, so the search is linear in their number.
//
// API: screenElements(of:width:height:eightConnected:options:) -> ScreenElements (member mask, spacings)

struct ScreenElements {
    /// Pixels of accepted elements.
    var member: [Bool]
    /// Nearest-neighbour spacing of every accepted element.
    var spacings: [Double]
    /// The components the test ran on (labels -1 outside the mask) and their boxes.
    var labels: [Int32]
    var boxes: [ComponentBox]
    /// Per pixel: in a candidate-sized (dot-sized) component.
    var small: [Bool]
}

/// Bounding box, area and centre of each component (labels from `connectedComponents`).
struct ComponentBox {
    var minX = Int.max, minY = Int.max, maxX = Int.min, maxY = Int.min
    var area = 0
    var width: Int { maxX - minX + 1 }
    var height: Int { maxY - minY + 1 }
    var centre: (x: Double, y: Double) { (Double(minX + maxX) / 2, Double(minY + maxY) / 2) }
}

func componentBoxes(labels: [Int32], count: Int, width w: Int) -> [ComponentBox] {
    var boxes = [ComponentBox](repeating: ComponentBox(), count: count)
    for (i, label) in labels.enumerated() where label >= 0 {
        let x = i % w, y = i / w, k = Int(label)
        boxes[k].minX = min(boxes[k].minX, x)
        boxes[k].maxX = max(boxes[k].maxX, x)
        boxes[k].minY = min(boxes[k].minY, y)
        boxes[k].maxY = max(boxes[k].maxY, y)
        boxes[k].area += 1
    }
    return boxes
}

func screenElements(of mask: [Bool], width w: Int, height h: Int, eightConnected: Bool,
                    options: ScreentoneOptions) -> ScreenElements {
    let components = connectedComponents(width: w, height: h, eightConnected: eightConnected, member: mask)
    let boxes = componentBoxes(labels: components.labels, count: components.sizes.count, width: w)
    let candidates = boxes.indices.filter { isCandidate(boxes[$0], options) }
    guard candidates.count > options.minNeighbours else {
        return ScreenElements(member: [Bool](repeating: false, count: w * h), spacings: [],
                              labels: components.labels, boxes: boxes, small: smallPixels(components.labels, boxes, options))
    }
    let centres = candidates.map { boxes[$0].centre }
    let areas = candidates.map { Double(boxes[$0].area) }

    // Grid buckets of cell side `cell`; a query of radius r looks at ceil(r / cell) cells around.
    let cell = options.maxSpacing
    let gw = Int(Double(w) / cell) + 1, gh = Int(Double(h) / cell) + 1
    var buckets = [[Int]](repeating: [], count: gw * gh)
    for (k, c) in centres.enumerated() { buckets[Int(c.y / cell) * gw + Int(c.x / cell)].append(k) }
    func forEachNear(_ k: Int, radius: Double, _ body: (Int, Double) -> Void) {
        let c = centres[k], reach = Int((radius / cell).rounded(.up))
        let gx = Int(c.x / cell), gy = Int(c.y / cell)
        for by in max(0, gy - reach) ... min(gh - 1, gy + reach) {
            for bx in max(0, gx - reach) ... min(gw - 1, gx + reach) {
                for j in buckets[by * gw + bx] where j != k {
                    let dx = centres[j].x - c.x, dy = centres[j].y - c.y
                    let d = (dx * dx + dy * dy).squareRoot()
                    if d <= radius { body(j, d) }
                }
            }
        }
    }

    var spacing = [Double](repeating: .infinity, count: centres.count)
    for k in centres.indices {
        forEachNear(k, radius: options.maxSpacing) { _, d in spacing[k] = min(spacing[k], d) }
    }
    var near = [[Int]](repeating: [], count: centres.count)
    var accepted = [Bool](repeating: false, count: centres.count)
    for k in centres.indices where spacing[k] <= options.maxSpacing {
        let a = areas[k]
        var similar = 0
        forEachNear(k, radius: options.neighbourReach * max(spacing[k], 1)) { j, _ in
            near[k].append(j)
            if areas[j] <= 3 * a && 3 * areas[j] >= a { similar += 1 }
        }
        accepted[k] = similar >= options.minNeighbours
    }
    for _ in 0 ..< 3 {
        let before = accepted
        for k in centres.indices where !before[k] && near[k].count >= 2 && near[k].contains(where: { before[$0] }) {
            accepted[k] = true
        }
    }

    var acceptedLabel = [Bool](repeating: false, count: boxes.count)
    var spacings: [Double] = []
    for (k, label) in candidates.enumerated() where accepted[k] {
        acceptedLabel[label] = true
        spacings.append(spacing[k])
    }
    let member = components.labels.map { $0 >= 0 && acceptedLabel[Int($0)] }
    return ScreenElements(member: member, spacings: spacings, labels: components.labels, boxes: boxes,
                          small: smallPixels(components.labels, boxes, options))
}

func isCandidate(_ box: ComponentBox, _ options: ScreentoneOptions) -> Bool {
    box.width <= options.maxElement && box.height <= options.maxElement && box.area <= options.maxArea
}

private func smallPixels(_ labels: [Int32], _ boxes: [ComponentBox], _ options: ScreentoneOptions) -> [Bool] {
    let small = boxes.map { isCandidate($0, options) }
    return labels.map { $0 >= 0 && small[Int($0)] }
}
