// Regular screens found along scanlines: the detector for line screens (and a second vote for dot
// screens), which component lattices cannot see because each line of a line screen is one long component.
//
// Along a scanline a screen is an alternation of dark and light runs of steady lengths: a line screen of
// period P at angle θ gives runs summing to P / |sin(θ − scan direction)|, a dot screen gives the same on
// scanlines through its dots. Hand-drawn hatching, lettering and ink lines do not: their runs vary, and an
// ink line crossing a screen is one run longer than its neighbours.
//
// A run is *regular* when the runs of its colour either side (r ± 2) differ from it by at most max(1, 25 %),
// the runs of the other colour between them (r ± 1) agree with each other the same way — or the same holds
// on one side only (r − 2, r − 4 and r − 1, r − 3, or their mirror), so a screen's first and last lines count
// too — and a period
// (dark + light run) is within 3 ... maxPeriod pixels: five runs of steady alternation. (A kanji such as 田
// is that too — three strokes and two counters — so PageAnalysis never takes glyph-sized drawing that
// borders open paper for screen.) Scanlines run in four directions (rows, columns, both diagonals); a pixel is
// screen when its run is regular in at least two of them.
//
// API: regularScreenRuns(dark:small:width:height:maxPeriod:) -> (votes: [UInt8] per pixel, dark or light:
//      in how many directions its run is regular; periods: [Int], of regular runs along rows and columns)

import Dispatch
import Tensor

/// Votes and periods of one scan direction (written by one task only).
private final class DirectionResult: @unchecked Sendable {
    var votes: [UInt8]
    var periods: [Int] = []
    init(count: Int) { votes = [UInt8](repeating: 0, count: count) }
}

func regularScreenRuns(dark: [Bool], small: [Bool], width w: Int, height h: Int,
                       maxPeriod: Int = 18) -> (votes: [UInt8], periods: [Int]) {
    // Each direction as (start pixels, step (dx, dy)).
    let directions: [(dx: Int, dy: Int)] = [(1, 0), (0, 1), (1, 1), (1, -1)]
    // One task per direction, each with its own votes and periods, summed in a fixed order.
    let perDirection = directions.map { _ in DirectionResult(count: w * h) }
    concurrentFor(directions.count) { k in
        let d = directions[k], out = perDirection[k]
        var runStarts: [Int] = [], runLengths: [Int] = []
        var pixels: [Int] = []
        var starts: [(Int, Int)] = []
        if d.dy == 0 { starts = (0 ..< h).map { (0, $0) } }
        else if d.dx == 0 { starts = (0 ..< w).map { ($0, 0) } }
        else if d.dy == 1 { starts = (0 ..< h).map { (0, $0) } + (1 ..< max(w, 1)).map { ($0, 0) } }
        else { starts = (0 ..< h).map { (0, $0) } + (1 ..< max(w, 1)).map { ($0, h - 1) } }
        for (x0, y0) in starts {
            pixels.removeAll(keepingCapacity: true)
            var x = x0, y = y0
            while x >= 0, x < w, y >= 0, y < h {
                pixels.append(y * w + x)
                x += d.dx; y += d.dy
            }
            guard pixels.count >= 8 else { continue }
            runStarts.removeAll(keepingCapacity: true)
            runLengths.removeAll(keepingCapacity: true)
            var k = 0
            while k < pixels.count {
                let colour = dark[pixels[k]]
                var e = k + 1
                while e < pixels.count && dark[pixels[e]] == colour { e += 1 }
                runStarts.append(k)
                runLengths.append(e - k)
                k = e
            }
            let m = runLengths.count
            guard m >= 5 else { continue }
            func close(_ a: Int, _ b: Int) -> Bool { abs(a - b) <= max(1, max(a, b) / 4) }
            // Regular about r with neighbours at offsets (±2, ±1: centred), (−2, −4, −1, −3: the screen lies
            // before r) or (+2, +4, +1, +3: after r). One-sided windows let the first and last lines of a
            // screen, whose other side is paper or ink, count too.
            func regular(_ r: Int, _ same: [Int], _ other: [Int]) -> Bool {
                guard same.allSatisfy({ r + $0 >= 0 && r + $0 < m }), other.allSatisfy({ r + $0 >= 0 && r + $0 < m })
                else { return false }
                let len = runLengths[r], gap = runLengths[r + other[0]]
                guard same.allSatisfy({ close(len, runLengths[r + $0]) }),
                      other.dropFirst().allSatisfy({ close(gap, runLengths[r + $0]) }) else { return false }
                // A long component's run beside dot-sized ones is a drawn line crossing a dot screen.
                if dark[pixels[runStarts[r]]] && !small[pixels[runStarts[r]]]
                    && same.contains(where: { small[pixels[runStarts[r + $0]]] }) { return false }
                let period = len + gap
                return period >= 3 && period <= maxPeriod
            }
            for r in 0 ..< m {
                let isDark = dark[pixels[runStarts[r]]]
                let centred = regular(r, [-2, 2], [-1, 1]), before = regular(r, [-2, -4], [-1, -3])
                let after = regular(r, [2, 4], [1, 3])
                guard centred || before || after else { continue }
                let len = runLengths[r]
                let gap = runLengths[centred ? r + 1 : (before ? r - 1 : r + 1)]
                let period = len + gap
                if isDark && (d.dx == 0 || d.dy == 0) { out.periods.append(period) }
                for t in runStarts[r] ..< runStarts[r] + len { out.votes[pixels[t]] &+= 1 }
            }
        }
    }
    var votes = [UInt8](repeating: 0, count: w * h)
    var periods: [Int] = []
    for result in perDirection {
        for i in 0 ..< w * h { votes[i] &+= result.votes[i] }
        periods += result.periods
    }
    return (votes, periods)
}
