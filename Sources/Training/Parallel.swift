import Dispatch

private struct UncheckedSendable<T>: @unchecked Sendable { let value: T }

/// Runs `body(i)` for i in 0..<n on the Dispatch pool; iterations must touch disjoint memory and must not
/// call BLAS (one level of threads). Results never depend on the thread count: callers split work into
/// fixed-size pieces.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    if n <= 1 { if n == 1 { body(0) }; return }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
    }
}
