import Foundation

/// An aligned, owned block of memory: the backing store of one or more `Tensor`s.
///
/// Kernels borrow the pointer once per call; nothing reaches elements through Swift arrays on hot paths
/// (element access to an array held in a class property measured ~25x slower here).
public final class TensorStorage: @unchecked Sendable {
    public static let alignment = 64
    public let byteCount: Int
    public let pointer: UnsafeMutableRawPointer
    /// String tensors keep their elements here (ONNX `string` type); `pointer` is then empty.
    public var strings: [String]

    /// Allocates `byteCount` zeroed bytes (at least one, so the pointer is always valid).
    public init(byteCount: Int) {
        self.byteCount = byteCount
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        self.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        self.strings = []
    }

    /// Allocates without zeroing: for outputs every element of which a kernel writes.
    public init(uninitializedByteCount byteCount: Int) {
        self.byteCount = byteCount
        self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        self.strings = []
    }

    deinit { pointer.deallocate() }
}
