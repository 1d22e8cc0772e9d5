import Foundation
import Tensor

// A background loader: worker tasks on a DispatchQueue decode pages and make augmented training pairs
// ahead of the trainer, into a bounded buffer, so a training step never waits on PNG decoding.
//
// Deterministic: pair i is made from its own random stream, SplitMix64(derive(seed, i)), and pairs are
// delivered in index order whatever the number of workers, so a run is reproducible. Pages are visited in
// epochs: each epoch is a seeded shuffle of all sources, so every page is used once per epoch.
// At most `capacity` pairs are made ahead of the consumer. A page that fails to load makes `next()`
// throw that error (it names the file); the loader goes on with the following pairs.
//
// API:
//   PageSource: .file(path), .image(Image), .synthetic(width:height:)  (a fresh synthetic page per pair)
//   PairLoader(pages:options:seed:capacity:workers:), loader.next() throws -> TrainingPair,
//   loader.next(batch:) throws -> [TrainingPair], loader.stop()   (also on deinit)

public enum PageSource: Sendable {
    case file(String)
    case image(Image)
    case synthetic(width: Int, height: Int)
}

/// Which pairs of each global batch a process takes in data-parallel training: of the `batch * ranks` pairs of
/// a step, `rank`'s `batch` (local pair k is global pair (k / batch) * batch * ranks + rank * batch + k % batch).
public struct LoaderShare: Sendable {
    public var batch: Int, rank: Int, ranks: Int
    public init(batch: Int, rank: Int, ranks: Int) { self.batch = max(1, batch); self.rank = rank; self.ranks = max(1, ranks) }
    public static let all = LoaderShare(batch: 1, rank: 0, ranks: 1)
    func globalIndex(_ local: Int) -> Int { (local / batch) * batch * ranks + rank * batch + local % batch }
}

public final class PairLoader: Sendable {
    private let state: LoaderState

    /// Starts `workers` background workers at once. `startIndex` skips the first pairs (a resumed run
    /// continues the same stream of pairs it would have seen without the interruption); with a `share`, it
    /// counts this process's pairs.
    public init(pages: [PageSource], options: AugmentOptions, seed: UInt64, capacity: Int = 8, workers: Int = 2,
                startIndex: Int = 0, share: LoaderShare = .all) {
        precondition(!pages.isEmpty, "the loader needs at least one page")
        state = LoaderState(pages: pages, options: options, seed: seed, capacity: max(1, capacity), share: share)
        state.nextToClaim = startIndex
        state.nextToDeliver = startIndex
        let queue = DispatchQueue(label: "mangacolor.pair-loader", qos: .userInitiated, attributes: .concurrent)
        for _ in 0 ..< max(1, workers) {
            let state = self.state
            queue.async { state.work() }
        }
    }

    deinit { state.stop() }

    /// The next pair in order; blocks until it is ready.
    public func next() throws -> TrainingPair { try state.take() }

    /// The next `batch` pairs.
    public func next(batch: Int) throws -> [TrainingPair] { try (0 ..< batch).map { _ in try next() } }

    /// Stops the workers (pairs already being made are finished and dropped).
    public func stop() { state.stop() }
}

/// Shared between the loader and its workers; every field is guarded by `condition`.
private final class LoaderState: @unchecked Sendable {
    let pages: [PageSource]
    let options: AugmentOptions
    let seed: UInt64
    let capacity: Int
    let share: LoaderShare
    let condition = NSCondition()
    var nextToClaim = 0
    var nextToDeliver = 0
    var ready: [Int: Result<TrainingPair, any Error>] = [:]
    var stopped = false

    init(pages: [PageSource], options: AugmentOptions, seed: UInt64, capacity: Int, share: LoaderShare) {
        self.share = share
        self.pages = pages
        self.options = options
        self.seed = seed
        self.capacity = capacity
    }

    func work() {
        while true {
            condition.lock()
            while !stopped && nextToClaim - nextToDeliver >= capacity { condition.wait() }
            if stopped { condition.unlock(); return }
            let index = nextToClaim
            nextToClaim += 1
            condition.unlock()

            let result = Result { try make(share.globalIndex(index)) }

            condition.lock()
            if !stopped { ready[index] = result }
            condition.broadcast()
            condition.unlock()
        }
    }

    func take() throws -> TrainingPair {
        condition.lock()
        defer { condition.unlock() }
        while ready[nextToDeliver] == nil {
            if stopped { throw ImageError.mismatch("the pair loader was stopped") }
            condition.wait()
        }
        let result = ready.removeValue(forKey: nextToDeliver)!
        nextToDeliver += 1
        condition.broadcast()
        return try result.get()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Which source pair `index` uses: position index % count of the shuffle of epoch index / count.
    func source(for index: Int) -> PageSource {
        let count = pages.count
        var order = Array(0 ..< count)
        var rng = SplitMix64(seed: SplitMix64.derive(seed ^ 0x5EED_E90C, UInt64(index / count)))
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
        return pages[order[index % count]]
    }

    func make(_ index: Int) throws -> TrainingPair {
        var rng = SplitMix64(seed: SplitMix64.derive(seed, UInt64(index)))
        let page: Image
        switch source(for: index) {
        case .file(let path): page = try readImage(path: path)
        case .image(let image): page = image
        case .synthetic(let width, let height): page = synthesizePage(width: width, height: height, seed: rng.next()).color
        }
        return makeTrainingPair(from: page, options: options, rng: &rng)
    }
}
