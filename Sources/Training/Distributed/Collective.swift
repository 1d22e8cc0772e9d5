import Foundation
import Tensor

/// The processes that train one model together by data parallelism (each takes a share of every global
/// batch; gradients are averaged before each Adam step), or just this process. `MPICollectives` implements it
/// over MPI; `SingleProcess` is what a plain run uses, with no MPI library involved.
///
/// Every call is collective: all processes make the same calls in the same order, or they wait for ever —
/// which is why an implementation aborts the whole job on an error instead of returning from one process.
public protocol Collective: AnyObject {
    /// This process's index, 0 ..< size; rank 0 writes checkpoints, metrics and reports.
    var rank: Int { get }
    var size: Int { get }
    /// Element-wise sum over all processes, in place (one call per buffer: pack tensors first).
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Element-wise minimum and maximum over all processes (checksums, agreement checks).
    func allReduceMinMax(_ values: [Double]) throws -> (min: [Double], max: [Double])
    /// Rank 0's bytes, on every process (others' `bytes` are replaced).
    func broadcast(_ bytes: inout [UInt8]) throws
    func barrier() throws
    /// Ends every process of the job (after this one reported why); used when one process fails, so the
    /// others are not left waiting in a collective call.
    func abort(code: Int32) -> Never
}

extension Collective {
    public var isRoot: Bool { rank == 0 }
}

/// One process, no communication: the collectives are identities.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceMinMax(_ values: [Double]) throws -> (min: [Double], max: [Double]) { (values, values) }
    public func broadcast(_ bytes: inout [UInt8]) throws {}
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}

/// Which samples of a global batch this process holds: `offset ..< offset + n` of `total`, where n is the
/// local batch. Random draws that are per sample (dropout masks, instance noise, noisy labels) are made for
/// the whole global batch and sliced, so every process advances one shared random stream identically and a
/// run over N processes draws exactly what one process with the global batch would.
public struct BatchShard: Sendable, Equatable {
    public var offset: Int
    public var total: Int
    public static let whole = BatchShard(offset: 0, total: 0)
    public init(offset: Int, total: Int) { self.offset = offset; self.total = total }

    /// `shape` ([n, ...], the rows held here) with its first axis the global batch.
    public func globalShape(_ shape: [Int]) -> [Int] {
        var global = shape
        if total > 0, !global.isEmpty { global[0] = total }
        return global
    }

    /// Rows `offset ..< offset + count` of a tensor drawn for the global batch.
    public func rows(of global: Tensor, count: Int) -> Tensor {
        guard total > 0 else { return global }
        precondition(global.shape.first == total && offset + count <= total, "batch shard \(offset) + \(count) of \(global.shape)")
        var shape = global.shape
        shape[0] = count
        let row = global.count / total
        let out = Tensor(uninitialized: shape)
        out.floats.baseAddress!.update(from: global.floats.baseAddress! + offset * row, count: count * row)
        return out
    }
}

/// The random tensors the pass over the first image of a batch draws (each for the whole global batch),
/// replayed in the same order by the passes over the batch's other images: every image takes its rows of one
/// global draw, as a process holding only that image would.
public final class DrawLog {
    var tensors: [Tensor] = []
    public init() {}
}

/// One pass's position in a `DrawLog`: the first image's pass records, the others replay.
public final class DrawCursor {
    let log: DrawLog
    let recording: Bool
    private var index = 0
    public init(_ log: DrawLog, recording: Bool) { self.log = log; self.recording = recording }

    /// The global tensor of `shape`: generated and logged when recording, the logged one otherwise.
    func global(_ shape: [Int], _ generate: ([Int]) -> Tensor) -> Tensor {
        defer { index += 1 }
        if recording {
            let t = generate(shape)
            log.tensors.append(t)
            return t
        }
        precondition(index < log.tensors.count && log.tensors[index].shape == shape,
                     "a replayed pass draws \(shape) where the first image's pass drew \(index < log.tensors.count ? "\(log.tensors[index].shape)" : "nothing")")
        return log.tensors[index]
    }
}

/// A collective call failed (the message names the call and the library's reason).
public struct CollectiveError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
