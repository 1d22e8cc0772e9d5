import CKernels
import Foundation
import Synchronization

// The package's one parallel-for: `concurrentFor` (WorkerPool.swift's spinning threads, for a non-Sendable
// body whose iterations touch disjoint memory), and on it `parallelTasks` (a task queue with per-worker
// scratch) and `parallelChunks` (element-wise ranges). Training, Colorize, sgemm and the pooling and norm
// kernels use these instead of their own.

/// Runs `body(i)` for i in 0 ..< iterations on `WorkerPool`'s threads and this one (inline for one, and
/// inside another `concurrentFor`). Iterations must write disjoint memory; results must not depend on which
/// thread runs which (callers split work in fixed pieces).
public func concurrentFor(_ iterations: Int, _ body: (Int) -> Void) {
    if iterations <= 1 { if iterations == 1 { body(0) }; return }
    WorkerPool.shared.run(iterations, body)
}

/// The number of threads kernels split their work over: `MANGACOLOR_THREADS` if set, else the CPUs this
/// process may run on (its affinity: `taskset -c 0` gives 1), at most `OPENBLAS_NUM_THREADS` if that is set
/// (the one thread count tools and users already give). OpenBLAS itself always runs single-threaded:
/// `sgemm` splits big products over these threads (Gemm.swift).
public let kernelThreadCount: Int = {
    let environment = ProcessInfo.processInfo.environment
    if let text = environment["MANGACOLOR_THREADS"], let n = Int(text), n >= 1 { return min(n, 256) }
    let cpus = Int(mc_available_cpus())
    if let text = environment["OPENBLAS_NUM_THREADS"], let n = Int(text), n >= 1 { return max(1, min(n, cpus)) }
    return max(1, cpus)
}()

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
/// the next unclaimed task (`sgemm` inside runs single-threaded).
/// `worker` is in `0..<workers`, for per-worker scratch memory. One worker runs inline.
public func parallelTasks(count: Int, workers: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
    let workers = max(1, min(workers, count))
    if workers == 1 {
        for t in 0..<count { body(t, 0) }
        return
    }
    // An atomic counter, not a lock: tasks can be a microsecond long (a 7x7 depthwise plane), and two
    // workers taking turns at a lock spent more time in futex waits than in the tasks.
    let next = Atomic<Int>(0)
    concurrentFor(workers) { worker in
        while true {
            let t = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if t >= count { return }
            body(t, worker)
        }
    }
}
