import Dispatch
import Tensor

// One level of parallelism for the per-pixel loops of this module, on Tensor's `concurrentFor` (the
// generator's GEMMs split over the same threads; nothing here runs inside one). Work is split into contiguous chunks; results land in
// per-chunk slots combined by the caller in a fixed order, so outputs do not depend on scheduling.

/// A pointer that may cross into `concurrentPerform`; each task must touch only its own indices.
struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// Calls `body(chunk, range)` for `chunks` contiguous slices of 0 ..< count, concurrently.
func parallelChunks(count: Int, chunks requested: Int = 16, _ body: @Sendable (Int, Range<Int>) -> Void) {
    let chunks = max(1, min(requested, count))
    if chunks == 1 { body(0, 0 ..< count); return }
    concurrentFor(chunks) { chunk in
        body(chunk, chunk * count / chunks ..< (chunk + 1) * count / chunks)
    }
}
