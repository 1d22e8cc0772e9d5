import CKernels
import Foundation
import Synchronization

// The threads `concurrentFor` runs on: `kernelThreadCount - 1` threads started once, which spin for a short
// while after each job before they sleep, and the calling thread as the last worker. Dispatch's
// concurrentPerform wakes pool threads through the kernel on every call; on this project's 2-core machine two
// iterations of 16 µs each took 50 µs on average that way (one alone: 16 µs), so the small operators of
// mobile networks ran no faster on two cores than on one. onnxruntime's pool spins the same way.
//
// Jobs never nest and never overlap: a call made while a job runs (a kernel inside a parallel loop, or a
// second thread) runs its iterations inline. Iterations are claimed from an atomic counter, so which thread
// runs which iteration varies; callers already split work in fixed pieces (`concurrentFor`'s contract).

final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(threads: kernelThreadCount - 1)

    /// One `run`: its body, its iteration counter and how many iterations are done. Workers that wake late
    /// hold a finished job and claim nothing from it.
    private final class Job: @unchecked Sendable {
        nonisolated(unsafe) var body: ((Int) -> Void)?
        let iterations: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        init(body: @escaping (Int) -> Void, iterations: Int) { self.body = body; self.iterations = iterations }

        /// Claims and runs iterations until none are left.
        func drain() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < iterations else { return }
                body!(i)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    private final class Worker: @unchecked Sendable {
        let sleeping = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
    }

    /// How long a worker spins after its last job before it sleeps.
    private static let spinNanoseconds: UInt64 = 500_000

    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let lock = NSLock()
    private nonisolated(unsafe) var current: Job?
    private let workers: [Worker]

    init(threads: Int) {
        _ = blasIsSingleThreaded   // OpenBLAS's own threads would spin against these
        workers = (0..<max(0, threads)).map { _ in Worker() }
        for worker in workers {
            let thread = Thread { [unowned self] in self.loop(worker) }
            thread.name = "mangacolor-worker"
            thread.start()
        }
    }

    /// Runs body(0 ..< iterations) on the pool and the calling thread; returns when all are done.
    func run(_ iterations: Int, _ body: (Int) -> Void) {
        guard !workers.isEmpty, iterations > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<iterations { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let job = Job(body: body, iterations: iterations)
            lock.lock()
            current = job
            lock.unlock()
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            for worker in workers where worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) {
                worker.wake.signal()
            }
            job.drain()
            while job.done.load(ordering: .acquiring) < iterations { mc_cpu_relax() }
            // Every iteration has returned, so no worker touches the body again: drop it before the
            // non-escaping closure goes out of scope.
            job.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    private func loop(_ worker: Worker) {
        var seen = 0
        while true {
            var idleSince = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                mc_cpu_relax()
                spins += 1
                guard spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - idleSince > Self.spinNanoseconds else {
                    continue
                }
                // Sleep. A caller that posts a job after `sleeping` is set signals; one that posted before is
                // seen by the second look at the generation.
                worker.sleeping.store(true, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) != seen {
                    // Whoever clears `sleeping` owes the semaphore: if the caller did, take its signal.
                    if !worker.sleeping.exchange(false, ordering: .sequentiallyConsistent) { worker.wake.wait() }
                } else {
                    worker.wake.wait()
                }
                idleSince = DispatchTime.now().uptimeNanoseconds
            }
            seen = generation.load(ordering: .acquiring)
            lock.lock()
            let job = current
            lock.unlock()
            job?.drain()
        }
    }
}
