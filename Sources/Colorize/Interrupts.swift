import CImageCodecs

// Ctrl-C (SIGINT) or SIGTERM during a long loop, taken at a safe point instead of wherever the signal lands:
// inside `Interrupts.deferring { ... }` the first signal is only recorded (`Interrupts.requested`), the loop
// checks it between steps and stops cleanly (a training session saves its checkpoint first); a second signal
// ends the process at once, removing in-flight temporaries (TemporaryFiles.swift). The handler is C
// (Sources/CImageCodecs/temporaries.c) because a signal handler may only call async-signal-safe functions.

public enum Interrupts {
    /// Runs `body` with the first SIGINT/SIGTERM deferred.
    public static func deferring<T>(_ body: () throws -> T) rethrows -> T {
        mc_interrupt_defer_begin()
        defer { mc_interrupt_defer_end() }
        return try body()
    }

    /// True once a deferred signal arrived.
    public static var requested: Bool { mc_interrupt_requested() != 0 }
}
