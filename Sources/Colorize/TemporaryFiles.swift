import CImageCodecs
import Foundation

// The temporaries of atomic writes (`.NAME.tmp-PID-RANDOM` beside the target): removed when the process is
// interrupted, and those left by a process that no longer runs (killed, power cut) removed by the next batch.
//
// API:
//   temporaryName(for:) -> String                  the hidden sibling a write goes to before the rename
//   InFlightTemporaries.register(_:) -> slot, unregister(_:)   what SIGINT/SIGTERM must remove
//   InFlightTemporaries.remove(_:)                  what the signal handler does, for one slot (tests)
//   removeStaleTemporaries(in:) -> [String]         leftovers of dead processes in a folder, removed
//
// NOTE: SIGKILL and power loss cannot be caught; that is what the stale sweep is for. Hidden files are
// never picked up as pages (`collectPages` and `listImages` skip names starting with ".").

/// `.NAME.tmp-PID-RANDOM` in the folder of `path`.
func temporaryName(for path: String) -> String {
    let url = URL(fileURLWithPath: path)
    return url.deletingLastPathComponent().appendingPathComponent(
        ".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0 ... .max))").path
}

/// Temporaries being written right now by this process, kept where the C signal handler can reach them
/// (Sources/CImageCodecs/temporaries.c: a handler may only call async-signal-safe functions).
enum InFlightTemporaries {
    /// Registers `path`; returns the slot to unregister (-1 when none was free: then only swept later).
    static func register(_ path: String) -> Int32 { mc_temporary_register(path) }

    static func unregister(_ slot: Int32) { mc_temporary_unregister(slot) }

    /// Removes one registered temporary now, as the signal handler does for all of them.
    static func remove(_ slot: Int32) -> Bool { mc_temporary_remove(slot) == 0 }
}

/// Removes `.NAME.tmp-PID-RANDOM` files in `folder` whose process is gone; returns their paths.
/// Temporaries of live processes (another colorize writing into the same folder) are left alone.
@discardableResult
public func removeStaleTemporaries(in folder: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
    var removed: [String] = []
    for name in names where name.hasPrefix(".") {
        guard let marker = name.range(of: ".tmp-", options: .backwards) else { continue }
        let fields = name[marker.upperBound...].split(separator: "-")
        guard fields.count == 2, let pid = Int32(fields[0]), UInt32(fields[1]) != nil else { continue }
        let alive = pid == ProcessInfo.processInfo.processIdentifier || kill(pid, 0) == 0 || errno != ESRCH
        if alive { continue }
        let path = (folder as NSString).appendingPathComponent(name)
        if unlink(path) == 0 { removed.append(path) }
    }
    return removed
}
