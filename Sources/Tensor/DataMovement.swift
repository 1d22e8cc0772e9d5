import Foundation

// Data movement: kernels that copy elements without looking at their values (transpose, slice, expand,
// tile, concat, gather). They work for every dtype by moving fixed-width words of `dtype.size` bytes;
// string tensors move their Swift strings instead.

/// Calls `body` with an unsigned integer type as wide as one element of `dtype` (1, 2, 4 or 8 bytes).
@inline(__always)
func withElementWord<R>(_ dtype: DType, _ body: (any FixedWidthInteger.Type) -> R) -> R {
    switch dtype.size {
    case 1: body(UInt8.self)
    case 2: body(UInt16.self)
    case 4: body(UInt32.self)
    default: body(UInt64.self)
    }
}

/// Drops size-1 dimensions and merges neighbours that are contiguous in the source, so the copy loop
/// runs over as few, as long rows as possible.
func simplifiedView(shape: [Int], strides: [Int]) -> (shape: [Int], strides: [Int]) {
    var dims: [Int] = []
    var steps: [Int] = []
    for (n, s) in zip(shape, strides) where n != 1 {
        if let lastN = dims.last, let lastS = steps.last, lastS == s * n {
            dims[dims.count - 1] = lastN * n
            steps[steps.count - 1] = s
        } else {
            dims.append(n)
            steps.append(s)
        }
    }
    if dims.isEmpty { return ([1], [1]) }
    return (dims, steps)
}

/// Materialises a strided view of `source` as a new contiguous tensor.
///
/// Element `[i0, i1, ...]` of the result is `source.flat[offset + i0 * strides[0] + i1 * strides[1] + ...]`.
/// Strides may be negative (reversed slices) or zero (broadcast). This one loop implements Transpose,
/// Slice, Expand, Tile, DepthToSpace and SpaceToDepth.
public func stridedCopy(_ source: Tensor, shape: [Int], strides: [Int], offset: Int = 0) -> Tensor {
    precondition(shape.count == strides.count)
    let out = Tensor(uninitialized: shape, dtype: source.dtype)
    let total = out.count
    if total == 0 { return out }
    let (dims, steps) = simplifiedView(shape: shape, strides: strides)
    if source.dtype == .string {
        let src = source.strings
        var dst = [String]()
        dst.reserveCapacity(total)
        forEachRow(dims: dims, steps: steps, offset: offset) { start, n, step in
            for i in 0..<n { dst.append(src[start + i * step]) }
        }
        out.storage.strings = dst
        return out
    }
    withElementWord(source.dtype) { word in
        func run<W: FixedWidthInteger>(_: W.Type) {
            let src = source.storage.pointer.assumingMemoryBound(to: W.self)
            var dst = out.storage.pointer.assumingMemoryBound(to: W.self)
            let r = dims.count
            if r >= 2 && steps[r - 2] == 1 && abs(steps[r - 1]) > 1 && dims[r - 2] >= 8 && dims[r - 1] >= 8 {
                // A transpose of the last two axes (NCHW <-> NHWC and the like): copy in 32 x 32 tiles so
                // the strided reads of one tile share cache lines.
                let rows = dims[r - 2], columns = dims[r - 1], step = steps[r - 1], tile = 32
                forEachRow(dims: Array(dims[0..<(r - 2)]) + [1], steps: Array(steps[0..<(r - 2)]) + [0],
                           offset: offset) { base, _, _ in
                    for i0 in stride(from: 0, to: rows, by: tile) {
                        for j0 in stride(from: 0, to: columns, by: tile) {
                            for i in i0..<min(i0 + tile, rows) {
                                let d = dst + i * columns, s = src + base + i
                                for j in j0..<min(j0 + tile, columns) { d[j] = s[j * step] }
                            }
                        }
                    }
                    dst += rows * columns
                }
                return
            }
            forEachRow(dims: dims, steps: steps, offset: offset) { start, n, step in
                if step == 1 {
                    dst.update(from: src + start, count: n)
                } else if step == 0 {
                    dst.update(repeating: src[start], count: n)
                } else {
                    var s = start
                    for i in 0..<n { dst[i] = src[s]; s += step }
                }
                dst += n
            }
        }
        run(word)
    }
    return out
}

/// Walks the rows (last dimension) of a strided view in row-major order: `body(start, length, step)`.
@inline(__always)
func forEachRow(dims: [Int], steps: [Int], offset: Int, _ body: (Int, Int, Int) -> Void) {
    let rank = dims.count
    let n = dims[rank - 1], step = steps[rank - 1]
    if rank == 1 { body(offset, n, step); return }
    var index = Array(repeating: 0, count: rank - 1)
    var start = offset
    let rows = dims[0..<(rank - 1)].reduce(1, *)
    for _ in 0..<rows {
        body(start, n, step)
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            start += steps[d]
            if index[d] < dims[d] { break }
            start -= steps[d] * dims[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// Permutes the axes of `x`: output axis i is input axis `perm[i]`. Shapes: x [d0, ..., dn-1] ->
/// [d_perm[0], ..., d_perm[n-1]].
public func transposed(_ x: Tensor, perm: [Int]) -> Tensor {
    let strides = x.strides
    return stridedCopy(x, shape: perm.map { x.shape[$0] }, strides: perm.map { strides[$0] })
}

/// Broadcasts `x` to `shape` (numpy rules: x's dims align to the right; each is 1 or equal).
/// The caller checks compatibility.
public func broadcasted(_ x: Tensor, to shape: [Int]) -> Tensor {
    let lead = shape.count - x.rank
    let xs = x.strides
    var strides = Array(repeating: 0, count: shape.count)
    for i in 0..<x.rank where x.shape[i] != 1 { strides[lead + i] = xs[i] }
    return stridedCopy(x, shape: shape, strides: strides)
}

/// Repeats `x` `repeats[i]` times along each axis i. Shapes: [d0, ...] -> [d0 * r0, ...].
/// Done as one strided copy of the view [r0, d0, r1, d1, ...] with zero strides on the repeat axes.
public func tiled(_ x: Tensor, repeats: [Int]) -> Tensor {
    precondition(repeats.count == x.rank)
    let xs = x.strides
    var viewShape: [Int] = [], viewStrides: [Int] = []
    for i in 0..<x.rank {
        viewShape += [repeats[i], x.shape[i]]
        viewStrides += [0, xs[i]]
    }
    let out = stridedCopy(x, shape: viewShape, strides: viewStrides)
    return out.reshaped(zip(x.shape, repeats).map { $0 * $1 })
}

/// Joins `parts` along `axis`; all other dimensions must match (the caller checks).
public func concatenated(_ parts: [Tensor], axis: Int) -> Tensor {
    let first = parts[0]
    var shape = first.shape
    shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
    let out = Tensor(uninitialized: shape, dtype: first.dtype)
    let outer = shape[0..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let rowOut = shape[axis] * inner
    if first.dtype == .string {
        var dst = Array(repeating: "", count: out.count)
        var column = 0
        for p in parts {
            let row = p.shape[axis] * inner, src = p.strings
            for o in 0..<outer {
                for i in 0..<row { dst[o * rowOut + column + i] = src[o * row + i] }
            }
            column += row
        }
        out.storage.strings = dst
        return out
    }
    let size = first.dtype.size
    var column = 0
    for p in parts {
        let rowBytes = p.shape[axis] * inner * size
        if rowBytes > 0 {
            for o in 0..<outer {
                (out.storage.pointer + (o * rowOut * size + column))
                    .copyMemory(from: p.storage.pointer + o * rowBytes, byteCount: rowBytes)
            }
        }
        column += rowBytes
    }
    return out
}

/// Gathers slices of `x` along `axis` at `indices` (already normalised to [0, shape[axis])).
/// Shapes: x [pre..., n, post...], indices [k...] -> [pre..., k..., post...].
public func gathered(_ x: Tensor, axis: Int, indices: [Int], indicesShape: [Int]) -> Tensor {
    let outer = x.shape[0..<axis].reduce(1, *)
    let inner = x.shape[(axis + 1)...].reduce(1, *)
    let n = x.shape[axis]
    let shape = Array(x.shape[0..<axis]) + indicesShape + Array(x.shape[(axis + 1)...])
    let out = Tensor(uninitialized: shape, dtype: x.dtype)
    if out.count == 0 { return out }
    if x.dtype == .string {
        let src = x.strings
        var dst = [String]()
        dst.reserveCapacity(out.count)
        for o in 0..<outer {
            for k in indices { dst += src[((o * n + k) * inner)..<((o * n + k + 1) * inner)] }
        }
        out.storage.strings = dst
        return out
    }
    let blockBytes = inner * x.dtype.size
    var dst = out.storage.pointer
    for o in 0..<outer {
        for k in indices {
            dst.copyMemory(from: x.storage.pointer + (o * n + k) * blockBytes, byteCount: blockBytes)
            dst += blockBytes
        }
    }
    return out
}

/// Copies element `sourceIndex[i]` of `x` (flat, row-major) to element i of a new tensor of `shape`.
public func gatheredElements(_ x: Tensor, shape: [Int], sourceIndex: [Int]) -> Tensor {
    let out = Tensor(uninitialized: shape, dtype: x.dtype)
    precondition(out.count == sourceIndex.count)
    if x.dtype == .string {
        let src = x.strings
        out.storage.strings = sourceIndex.map { src[$0] }
        return out
    }
    withElementWord(x.dtype) { word in
        func run<W: FixedWidthInteger>(_: W.Type) {
            let src = x.storage.pointer.assumingMemoryBound(to: W.self)
            let dst = out.storage.pointer.assumingMemoryBound(to: W.self)
            for (i, s) in sourceIndex.enumerated() { dst[i] = src[s] }
        }
        run(word)
    }
    return out
}

/// Reference for `stridedCopy`: one index computation per element, no row merging. Float32 only.
public func stridedCopyNaive(_ source: Tensor, shape: [Int], strides: [Int], offset: Int = 0) -> Tensor {
    let out = Tensor(uninitialized: shape, dtype: .float32)
    let src = source.floats, dst = out.floats
    let outStrides = Tensor.strides(of: shape)
    for i in 0..<out.count {
        var s = offset
        for d in 0..<shape.count { s += (i / outStrides[d]) % shape[d] * strides[d] }
        dst[i] = src[s]
    }
    return out
}

/// Copies runs of `length` consecutive elements: run i goes from element `sourceOffsets[i]` of `source`
/// to element `destinationOffsets[i]` of `destination` (same dtype). Writes into `destination`, which
/// the caller has just made (GatherND, ScatterND and ScatterElements build on it).
public func copyElementRuns(from source: Tensor, _ sourceOffsets: [Int], to destination: Tensor,
                            _ destinationOffsets: [Int], length: Int) {
    precondition(source.dtype == destination.dtype && sourceOffsets.count == destinationOffsets.count)
    if length == 0 { return }
    if source.dtype == .string {
        let src = source.strings
        var dst = destination.storage.strings
        for (s, d) in zip(sourceOffsets, destinationOffsets) {
            for i in 0..<length { dst[d + i] = src[s + i] }
        }
        destination.storage.strings = dst
        return
    }
    let size = source.dtype.size
    for (s, d) in zip(sourceOffsets, destinationOffsets) {
        (destination.storage.pointer + d * size).copyMemory(from: source.storage.pointer + s * size, byteCount: length * size)
    }
}

/// out[i0, i1, ...] = x[maps[0][i0], maps[1][i1], ...], or `fill` where any map entry is -1.
/// Any dtype. Used by nearest resize and by Pad.
public func remapped(_ x: Tensor, maps: [[Int]], fill: Tensor?) -> Tensor {
    let r = x.rank
    let shape = maps.map(\.count)
    let out = Tensor(uninitialized: shape, dtype: x.dtype)
    let total = out.count
    if total == 0 { return out }
    if r == 0 { return x.copy() }
    let strides = x.strides
    let last = maps[r - 1]
    let n = last.count
    if x.dtype == .string {
        let src = x.strings
        let value = fill?.strings.first ?? ""
        var dst = [String]()
        dst.reserveCapacity(total)
        forEachMappedRow(maps: maps, strides: strides) { base in
            guard let base else { dst += Array(repeating: value, count: n); return }
            for m in last { dst.append(m < 0 ? value : src[base + m]) }
        }
        out.storage.strings = dst
        return out
    }
    // When the last map is [-1..., a, a+1, ..., b, -1...] a row is one contiguous copy between fills.
    let lo = last.firstIndex { $0 >= 0 }
    let hi = last.lastIndex { $0 >= 0 }
    var contiguous = false
    if let lo, let hi {
        contiguous = (lo...hi).allSatisfy { last[$0] == last[lo] + ($0 - lo) }
    }
    withElementWord(x.dtype) { word in
        func run<W: FixedWidthInteger>(_: W.Type) {
            let src = x.storage.pointer.assumingMemoryBound(to: W.self)
            var dst = out.storage.pointer.assumingMemoryBound(to: W.self)
            let value: W = fill.map { $0.storage.pointer.assumingMemoryBound(to: W.self).pointee } ?? 0
            last.withUnsafeBufferPointer { lastMap in
                var previous: Int?? = .none  // the source row of the previous output row (nil: the fill)
                forEachMappedRow(maps: maps, strides: strides) { base in
                    if let previousBase = previous, previousBase == base {
                        // Upsampling repeats source rows: copy the row just written.
                        dst.update(from: dst - n, count: n)
                    } else if let base {
                        if contiguous, let lo, let hi {
                            if lo > 0 { dst.update(repeating: value, count: lo) }
                            (dst + lo).update(from: src + base + lastMap[lo], count: hi - lo + 1)
                            if hi + 1 < n { (dst + hi + 1).update(repeating: value, count: n - hi - 1) }
                        } else {
                            let s = src + base
                            for o in 0..<n {
                                let m = lastMap[o]
                                dst[o] = m < 0 ? value : s[m]
                            }
                        }
                    } else {
                        dst.update(repeating: value, count: n)
                    }
                    previous = .some(base)
                    dst += n
                }
            }
        }
        run(word)
    }
    return out
}

/// Steps a row-major multi-index to the next position within `extents` over the axes `axes` (all by default;
/// the last axis fastest): the odometer every strided walk turns. Wraps round to zeros after the last position.
@inline(__always)
public func advance(_ index: inout [Int], within extents: [Int], axes: Range<Int>? = nil) {
    let axes = axes ?? 0..<extents.count
    var d = axes.upperBound - 1
    while d >= axes.lowerBound {
        index[d] += 1
        if index[d] < extents[d] { return }
        index[d] = 0
        d -= 1
    }
}

/// Walks the output rows of a remap: `body(base)` with the source offset of the row's outer
/// coordinates, or nil when one of them maps to -1 (the fill).
@inline(__always)
func forEachMappedRow(maps: [[Int]], strides: [Int], _ body: (Int?) -> Void) {
    let r = maps.count
    if r == 1 { body(0); return }
    var index = Array(repeating: 0, count: r - 1)
    let extents = maps[0..<(r - 1)].map(\.count)
    let rows = extents.reduce(1, *)
    for _ in 0..<rows {
        var base = 0
        var inBorder = false
        for d in 0..<(r - 1) {
            let m = maps[d][index[d]]
            if m < 0 { inBorder = true; break }
            base += m * strides[d]
        }
        body(inBorder ? nil : base)
        advance(&index, within: extents)
    }
}

/// Runs `body(row)` for every row in `0..<rows`, on all cores when there are several rows and the
/// whole job (`rows * work` element operations) is large enough to pay for the threads. Each row must
/// write only its own part of the output.
func parallelRows(_ rows: Int, work: Int, _ body: (Int) -> Void) {
    if rows > 1 && rows * work >= 1 << 18 {
        concurrentFor(rows, body)
    } else {
        for r in 0..<rows { body(r) }
    }
}

