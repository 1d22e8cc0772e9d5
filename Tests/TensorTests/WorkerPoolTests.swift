import Foundation
import Synchronization
import Testing
@testable import Tensor

// WorkerPool (concurrentFor's threads): every iteration exactly once, nested calls inline, calls from
// several threads at once, many short jobs in a row (the workers' spin and sleep).

@Test func concurrentForRunsEveryIterationOnce() {
    for iterations in [0, 1, 2, 3, 17, 1000] {
        let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(iterations, 1))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: max(iterations, 1))
        nonisolated(unsafe) let h = hits
        concurrentFor(iterations) { i in h[i] += 1 }
        #expect((0..<iterations).allSatisfy { hits[$0] == 1 }, "\(iterations) iterations")
    }
}

@Test func nestedConcurrentForRunsInline() {
    let total = Atomic<Int>(0)
    concurrentFor(4) { _ in
        concurrentFor(8) { j in total.wrappingAdd(j, ordering: .relaxed) }
    }
    #expect(total.load(ordering: .relaxed) == 4 * 28)
}

@Test func concurrentForFromSeveralThreadsAtOnce() {
    let total = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 4) { _ in
        for _ in 0..<50 {
            concurrentFor(16) { i in total.wrappingAdd(i, ordering: .relaxed) }
        }
    }
    #expect(total.load(ordering: .relaxed) == 4 * 50 * 120)
}

@Test func manyShortJobsAndAPauseLongerThanTheSpin() {
    var sum = 0
    for round in 0..<3 {
        for _ in 0..<2000 {
            let part = Atomic<Int>(0)
            concurrentFor(2) { i in part.wrappingAdd(i + 1, ordering: .relaxed) }
            sum += part.load(ordering: .relaxed)
        }
        // Past the workers' spin: they sleep, and the next job must wake them (or run without them).
        if round < 2 { Thread.sleep(forTimeInterval: 0.002) }
    }
    #expect(sum == 3 * 2000 * 3)
}
