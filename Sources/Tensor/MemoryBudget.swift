import Foundation

// Element counts and byte sizes of shapes that come from files (ONNX dims, shape tensors, attributes),
// checked for overflow and against a memory budget *before* anything is allocated.
//
// Public API:
//   checkedElementCount(_:)                       -> Int?   product of dims; nil on overflow or a negative dim
//   checkedSum(_:) / checkedProduct(_:)           -> Int?   overflow-checked arithmetic for shape formulas
//   MemoryBudget.current                                   the budget in force (task-local, default from RAM)
//   MemoryBudget.current.check(shape:dtype:what:) throws  a TensorSizeError naming `what`, shape and sizes
//
// NOTE: `Tensor.count` multiplies without checks; that is safe only because every tensor that exists passed
// through one of these checks or was computed from tensors that did. Shapes read from a file never reach
// `Tensor(zeros:)` unchecked.

/// A shape whose element count overflows, or whose bytes exceed the memory budget.
public struct TensorSizeError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The product of `shape`'s dimensions, or nil when a dimension is negative or the product of the non-zero
/// dimensions overflows. NOTE: [2^62, 4, 0] is refused although it holds no element: `shape.reduce(1, *)`,
/// which `Tensor.count` computes left to right, would trap on it.
public func checkedElementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape where d != 0 {
        guard d > 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return shape.contains(0) ? 0 : n
}

/// `a + b + ...`, or nil on overflow.
public func checkedSum(_ terms: Int...) -> Int? {
    var total = 0
    for t in terms {
        let (s, overflow) = total.addingReportingOverflow(t)
        if overflow { return nil }
        total = s
    }
    return total
}

/// `a * b * ...`, or nil on overflow.
public func checkedProduct(_ factors: Int...) -> Int? {
    var total = 1
    for f in factors {
        let (p, overflow) = total.multipliedReportingOverflow(by: f)
        if overflow { return nil }
        total = p
    }
    return total
}

/// How many bytes one tensor, and all the tensors of one plan together, may take.
///
/// The default is a quarter of physical memory for one tensor and half for a plan, or the environment
/// variable `MANGACOLOR_MEMORY_LIMIT` (bytes, or with a K/M/G/T suffix) for both; a program may replace it
/// once at start (`setProcessBudget`, the CLI's `--memory-limit`). Tests and callers that want another
/// budget for one piece of work use `MemoryBudget.$override.withValue(...)` (task-local: no shared state).
public struct MemoryBudget: Sendable, Equatable, CustomStringConvertible {
    public var tensorBytes: Int
    public var planBytes: Int

    public init(tensorBytes: Int, planBytes: Int) {
        self.tensorBytes = tensorBytes
        self.planBytes = planBytes
    }

    public static let standard: MemoryBudget = {
        if let text = ProcessInfo.processInfo.environment["MANGACOLOR_MEMORY_LIMIT"], let bytes = parseBytes(text) {
            return MemoryBudget(tensorBytes: bytes, planBytes: bytes)
        }
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        return MemoryBudget(tensorBytes: max(physical / 4, 1 << 28), planBytes: max(physical / 2, 1 << 29))
    }()

    /// A budget for the current task and what it calls, over the process's.
    @TaskLocal public static var override: MemoryBudget?

    private static let lock = NSLock()
    nonisolated(unsafe) private static var processBudget = MemoryBudget.standard

    /// The budget in force: the task's override, else the process's.
    public static var current: MemoryBudget { override ?? lock.withLock { processBudget } }

    /// Replaces the process's budget (a command-line flag, read once at start).
    public static func setProcessBudget(_ budget: MemoryBudget) { lock.withLock { processBudget = budget } }

    /// Throws unless a tensor of `shape` and `dtype` fits the budget; returns its element count.
    /// `what` names the tensor for the message ("ConstantOfShape output", "initializer \"w\"").
    @discardableResult
    public func check(shape: [Int], dtype: DType, what: String) throws(TensorSizeError) -> Int {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw TensorSizeError("\(what) would have shape \(shapeText(shape)), with a negative dimension \(bad)")
        }
        guard let count = checkedElementCount(shape) else {
            throw TensorSizeError("\(what) would have shape \(shapeText(shape)), whose element count overflows 64 bits")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: max(dtype.size, 1))
        if overflow || bytes > tensorBytes {
            throw TensorSizeError("\(what) would have shape \(shapeText(shape)) of \(dtype): "
                + "\(overflow ? "more than 2^63 bytes" : Self.format(bytes)), over the memory budget of "
                + "\(Self.format(tensorBytes)) for one tensor (--memory-limit or MANGACOLOR_MEMORY_LIMIT changes it)")
        }
        return count
    }

    /// Throws unless `bytes` held together by one plan fit its budget.
    public func checkPlan(bytes: Int, what: String) throws(TensorSizeError) {
        if bytes > planBytes {
            throw TensorSizeError("\(what) need \(Self.format(bytes)) together, over the memory budget of "
                + "\(Self.format(planBytes)) for one model (--memory-limit or MANGACOLOR_MEMORY_LIMIT changes it)")
        }
    }

    public var description: String { "\(Self.format(tensorBytes)) per tensor, \(Self.format(planBytes)) per model" }

    /// "1.5 GB", "12 MB", "512 B" (decimal units).
    public static func format(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (scale, unit) in units where Double(bytes) >= scale {
            return String(format: "%.1f %@", Double(bytes) / scale, unit)
        }
        return "\(bytes) B"
    }

    /// "8G", "512M", "1000000" -> bytes (binary units for the suffixes).
    public static func parseBytes(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces).uppercased()
        let shifts: [Character: Int] = ["K": 10, "M": 20, "G": 30, "T": 40]
        if let last = t.last, let shift = shifts[last], let n = Int(t.dropLast()), n > 0 {
            return n > Int.max >> shift ? nil : n << shift
        }
        return Int(t).flatMap { $0 > 0 ? $0 : nil }
    }

    private func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }
}
