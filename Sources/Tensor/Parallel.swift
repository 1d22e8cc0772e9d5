import Foundation

// The package's one parallel-for: `concurrentFor` (Dispatch's concurrentPerform for a non-Sendable body whose
// iterations touch disjoint memory), and on it `parallelTasks` (a task queue with per-worker scratch, BLAS held
// to one thread) and `parallelChunks` (element-wise ranges). Training, Colorize and the pooling and norm
// kernels use these instead of their own.

/// Runs `body(i)` for i in 0 ..< iterations on Dispatch's pool (inline for one). Iterations must write
/// disjoint memory; results must not depend on which thread runs which (callers split work in fixed pieces).
public func concurrentFor(_ iterations: Int, _ body: (Int) -> Void) {
    if iterations <= 1 { if iterations == 1 { body(0) }; return }
    nonisolated(unsafe) let body = body
    DispatchQueue.concurrentPerform(iterations: iterations) { body($0) }
}

/// The number of cores kernels split their own loops over.
public let kernelThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body(range)` over `0..<count` cut into ranges of at least `minimumChunk` (64 Ki) indices, on up to
/// `kernelThreadCount` threads; one range (a small count) runs inline. For element-wise kernels: write the
/// loop over `range` inside `body`, so its arithmetic is inlined and vectorised there.
public func parallelChunks(_ count: Int, minimumChunk: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    let chunk = max(1, minimumChunk), chunks = (count + chunk - 1) / chunk
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    parallelTasks(count: chunks, workers: min(chunks, kernelThreadCount)) { c, _ in
        body(c * chunk..<min(count, (c + 1) * chunk))
    }
}

/// Runs `body(task, worker)` for every task in `0..<count` on up to `workers` threads, each worker taking
/// the next unclaimed task; OpenBLAS is single-threaded meanwhile (see `withSingleThreadedBLAS`).
/// `worker` is in `0..<workers`, for per-worker scratch memory. One worker runs inline, BLAS threads intact.
public func parallelTasks(count: Int, workers: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
    let workers = max(1, min(workers, count))
    if workers == 1 {
        for t in 0..<count { body(t, 0) }
        return
    }
    let lock = NSLock()
    nonisolated(unsafe) var next = 0
    withSingleThreadedBLAS {
        concurrentFor(workers) { worker in
            while true {
                lock.lock()
                let t = next
                next += 1
                lock.unlock()
                if t >= count { return }
                body(t, worker)
            }
        }
    }
}
