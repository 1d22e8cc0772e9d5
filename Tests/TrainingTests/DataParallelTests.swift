import Foundation
import Tensor
import Testing
@testable import Training

/// An in-process `Collective` for tests: `size` threads, each holding one member, meeting at a barrier.
/// Sums are formed in rank order, as a fixed-order all-reduce would.
final class ThreadCollective: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    private var sums: [Double] = []
    private var contributions: [[Float]]
    private var bytes: [UInt8] = []
    private var lows: [Double] = [], highs: [Double] = []

    init(size: Int) { self.size = size; contributions = Array(repeating: [], count: size) }

    /// Waits until all members arrive; `last` runs once, by the last to arrive, before anyone leaves.
    func meet(_ last: () -> Void = {}) {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            last()
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    final class Member: Collective {
        let group: ThreadCollective
        let rank: Int
        var size: Int { group.size }
        init(_ group: ThreadCollective, rank: Int) { self.group = group; self.rank = rank }

        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
            group.condition.lock(); group.contributions[rank] = Array(buffer); group.condition.unlock()
            group.meet {
                var total = group.contributions[0]
                for r in 1..<group.size { for i in 0..<total.count { total[i] += group.contributions[r][i] } }
                group.contributions = Array(repeating: total, count: group.size)
            }
            group.condition.lock(); let total = group.contributions[rank]; group.condition.unlock()
            for i in 0..<buffer.count { buffer[i] = total[i] }
            group.meet()
        }

        func allReduceMinMax(_ values: [Double]) throws -> (min: [Double], max: [Double]) {
            group.condition.lock()
            if group.lows.isEmpty { group.lows = values; group.highs = values }
            else { group.lows = zip(group.lows, values).map(Swift.min); group.highs = zip(group.highs, values).map(Swift.max) }
            group.condition.unlock()
            group.meet()
            group.condition.lock(); let result = (group.lows, group.highs); group.condition.unlock()
            group.meet { group.lows = []; group.highs = [] }
            return result
        }

        func broadcast(_ bytes: inout [UInt8]) throws {
            if rank == 0 { group.condition.lock(); group.bytes = bytes; group.condition.unlock() }
            group.meet()
            group.condition.lock(); bytes = group.bytes; group.condition.unlock()
            group.meet()
        }

        func barrier() throws { group.meet() }
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    }
}

/// Runs `body(rank, member)` on `size` threads and waits for all; rethrows the first error.
func onThreads(_ size: Int, _ body: @escaping @Sendable (Int, any Collective) throws -> Void) throws {
    let group = ThreadCollective(size: size)
    let lock = NSLock()
    nonisolated(unsafe) var errors: [any Error] = []
    let done = DispatchGroup()
    for rank in 0..<size {
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            do { try body(rank, ThreadCollective.Member(group, rank: rank)) } catch {
                lock.lock(); errors.append(error); lock.unlock()
            }
        }
    }
    done.wait()
    if let first = errors.first { throw first }
}

/// Rows `r` of an [N, ...] tensor.
func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
    let row = t.count / t.shape[0]
    var shape = t.shape
    shape[0] = r.count
    let out = Tensor(uninitialized: shape)
    out.floats.baseAddress!.update(from: t.floats.baseAddress! + r.lowerBound * row, count: r.count * row)
    return out
}

@Test func aShardDrawsItsRowsOfTheGlobalDraw() {
    var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
    let whole = a.normal([3, 2, 5])
    let part = ForwardContext(shard: BatchShard(offset: 1, total: 3)).draw([2, 2, 5]) { b.normal($0) }
    #expect(part.scalars(as: Float.self) == rows(whole, 1..<3).scalars(as: Float.self) && a == b)
}

/// Two processes with one pair each train the same model as one process with both pairs: the same random
/// stream (dropout, instance noise, noisy and flipped labels all drawn for the global batch), gradients
/// averaged before each Adam step — the same bits.
@Test func twoShardsTrainAsOneBatchOfTwo() throws {
    var c = tinyConfiguration(seed: 8, kind: .patch)
    c.generator.dropout = 0.2
    c.labelFlipProbability = 0.3
    c.featureMatchingWeight = 1
    c.generatorAverageDecay = 0.9
    let steps = 6
    let single = try GANTrainer(configuration: c)
    var singleMetrics: [StepMetrics] = []
    for i in 0..<steps { singleMetrics.append(try single.step(batch: syntheticBatch(index: i, size: 16, batch: 2))) }

    let config = c
    nonisolated(unsafe) var trained: [GANTrainer?] = [nil, nil]
    nonisolated(unsafe) var lastMetrics: [StepMetrics?] = [nil, nil]
    try onThreads(2) { rank, member in
        let trainer = try GANTrainer(configuration: config)
        trainer.collective = member
        for i in 0..<steps {
            let batch = syntheticBatch(index: i, size: 16, batch: 2)
            lastMetrics[rank] = try trainer.step(batch: TrainingBatch(input: rows(batch.input, rank..<rank + 1),
                                                                       target: rows(batch.target, rank..<rank + 1)))
        }
        try trainer.checkProcessesAgree()
        trained[rank] = trainer
    }
    let (a, b) = (try #require(trained[0]), try #require(trained[1]))
    #expect(a.rng == single.rng && b.rng == single.rng)
    #expect(a.weightsChecksum() == b.weightsChecksum())
    // Bit for bit: the batch of two is computed image by image and its gradients summed as the all-reduce does.
    for (p, q) in zip(single.generator.parameters + single.discriminator.parameters + single.averagedGenerator!.parameters,
                      a.generator.parameters + a.discriminator.parameters + a.averagedGenerator!.parameters) {
        #expect(p.value.scalars(as: Float.self) == q.value.scalars(as: Float.self), "\(p.name) differs after \(steps) steps")
    }
    for (p, q) in zip(single.generatorOptimizer.m + single.discriminatorOptimizer.v, a.generatorOptimizer.m + a.discriminatorOptimizer.v) {
        #expect(p.scalars(as: Float.self) == q.scalars(as: Float.self))
    }
    let m = try #require(lastMetrics[0]), s = singleMetrics[steps - 1]
    let l1Gap = abs(m.l1 - s.l1), dGap = abs(m.discriminatorLoss - s.discriminatorLoss)
    #expect(l1Gap < 1e-4 && dGap < 1e-4, "L1 \(m.l1) vs \(s.l1), D loss \(m.discriminatorLoss) vs \(s.discriminatorLoss)")
}

@Test func processesThatDriftApartAreCaught() throws {
    let c = tinyConfiguration(seed: 2)
    try onThreads(2) { rank, member in
        let trainer = try GANTrainer(configuration: c)
        trainer.collective = member
        try trainer.checkProcessesAgree()
        if rank == 1 { trainer.generator.parameters[0].value.floats[0] += 1e-6 }
        #expect(throws: TrainingError.self) { try trainer.checkProcessesAgree() }
    }
}

/// Data-parallel training compares one process's batch with N processes' shares of it: a network's output
/// for one image must not depend on the batch it is in. (Weight gradients still sum the images inside the
/// kernel, so they agree only to rounding; see twoShardsTrainAsOneBatchOfTwo.)
@Test func anImagesOutputDoesNotDependOnItsBatch() throws {
    let t = try GANTrainer(configuration: tinyConfiguration(seed: 6, kind: .patch))
    let batch = syntheticBatch(index: 0, size: 32, batch: 2)
    let both = t.generator.infer(batch.input), alone = t.generator.infer(rows(batch.input, 1..<2))
    let second = rows(both, 1..<2)
    #expect(second.scalars(as: Float.self) == alone.scalars(as: Float.self))
    let pair = Tape(recording: false).concatChannels([Variable(batch.input), Variable(both)]).value
    let judged = rows(t.discriminator.infer(pair), 1..<2), judgedAlone = t.discriminator.infer(rows(pair, 1..<2))
    #expect(judged.scalars(as: Float.self) == judgedAlone.scalars(as: Float.self))
    for (cin, cout, side) in [(4, 8, 16), (16, 4, 32)] {
        let x = randomTensor([2, cin, side, side], seed: 3), w = randomTensor([cout, cin, 3, 3], seed: 4)
        let g = ConvGeometry(stride: 1, padding: 1).shared(weightShape: w.shape)
        let dy = randomTensor([2, cout, side, side], seed: 7)
        let dx = rows(conv2dBackwardData(dY: dy, weight: w, geometry: g, inputShape: x.shape), 1..<2)
        let dxAlone = conv2dBackwardData(dY: rows(dy, 1..<2), weight: w, geometry: g, inputShape: [1, cin, side, side])
        #expect(dx.scalars(as: Float.self) == dxAlone.scalars(as: Float.self), "backward data \(cin)->\(cout) @\(side)")
        let wt = randomTensor([cin, cout, 3, 3], seed: 6)
        let tg = ConvTransposeGeometry(stride: 2, padding: 1, outputPadding: 1).shared(weightShape: wt.shape)
        let up = rows(convTranspose2dForward(x: x, weight: wt, bias: nil, geometry: tg, outputPadding: [1, 1]), 1..<2)
        let upAlone = convTranspose2dForward(x: rows(x, 1..<2), weight: wt, bias: nil, geometry: tg, outputPadding: [1, 1])
        #expect(up.scalars(as: Float.self) == upAlone.scalars(as: Float.self), "transposed \(cin)->\(cout) @\(side)")
    }
}
