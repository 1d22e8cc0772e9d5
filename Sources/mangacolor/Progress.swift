import Foundation

/// A one-line progress bar on stderr (redrawn with \r when stderr is a terminal; otherwise a line every
/// few seconds, so logs stay readable).
final class ProgressBar {
    let total: Int
    let label: String
    let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive = isatty(2) != 0
    /// Work already done before this process began (a resumed run): the ETA counts only what it has done.
    private var startDone = 0

    init(total: Int, label: String) {
        self.total = max(total, 1)
        self.label = label
    }

    /// Marks `done` units as finished before this process started (a resumed run), so the ETA is
    /// (time so far) / (units this process did) x (units left), not extrapolated from the whole count.
    func resumed(at done: Int) { startDone = max(0, min(done, total)) }

    /// Redraws with `done` of `total` finished and a free-form status.
    func update(_ done: Int, status: String, force: Bool = false) {
        let now = Date()
        let interval = interactive ? 0.1 : 5
        guard force || done >= total || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let fraction = min(1, Double(done) / Double(total))
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = now.timeIntervalSince(start)
        let doneHere = done - startDone
        let eta = doneHere > 0 ? elapsed / Double(doneHere) * Double(max(0, total - done)) : done >= total ? 0 : .infinity
        let line = "\(label) [\(bar)] \(done)/\(total) \(status) \(formatDuration(elapsed)) elapsed, ETA \(formatDuration(eta))"
        writeStderr(interactive ? "\r\u{1B}[K" + line : line + "\n")
    }

    func finish() { if interactive { writeStderr("\n") } }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
