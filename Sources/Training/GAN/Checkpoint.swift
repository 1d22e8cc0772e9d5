import Foundation
import Tensor

/// The checkpoint file: named tensors in a small binary format of our own, little-endian.
///
///     "MCCKPT01"                      8 bytes
///     count                           u32
///     count times:  name length u16, name (UTF-8), dtype u8 (ONNX code), rank u8, dims i64 x rank, raw data
///
/// A trainer checkpoint holds `config` (JSON bytes, uint8), `step` (int64), `rng` (uint64 x 4),
/// `G.<param or buffer>`, `D.<param or buffer>`, and the Adam state `adamG.m.<param>`, `adamG.v.<param>`, `adamG.step` (same for D).
public enum CheckpointFile {
    static let magic = Array("MCCKPT01".utf8)

    public static func encode(_ entries: [(String, Tensor)]) -> Data {
        var d = Data(magic)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        put(UInt32(entries.count))
        for (name, t) in entries {
            let bytes = Array(name.utf8)
            put(UInt16(bytes.count)); d.append(contentsOf: bytes)
            put(UInt8(t.dtype.rawValue)); put(UInt8(t.rank))
            for dim in t.shape { put(Int64(dim)) }
            d.append(Data(bytes: t.storage.pointer, count: t.byteCount))
        }
        return d
    }

    public static func decode(_ data: Data, source: String) throws -> [String: Tensor] {
        let bytes = [UInt8](data)
        var at = 0
        func bad(_ s: String) -> TrainingError { .checkpoint("\(source) is not a valid checkpoint: \(s)") }
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - at else { throw bad("truncated at byte \(at)") }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        func get<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let s = try take(MemoryLayout<T>.size)
            var v: T = 0
            for (i, b) in s.enumerated() { v |= T(b) << (8 * i) }
            return v
        }
        guard Array(try take(8)) == magic else { throw bad("wrong magic (expected MCCKPT01)") }
        let count = Int(try get(UInt32.self))
        var out: [String: Tensor] = [:]
        for _ in 0..<count {
            let nameLength = Int(try get(UInt16.self))
            let name = String(decoding: try take(nameLength), as: UTF8.self)
            let code = Int(try get(UInt8.self))
            guard let dtype = DType(rawValue: code), dtype != .string else { throw bad("tensor \"\(name)\" has unknown dtype \(code)") }
            let rank = Int(try get(UInt8.self))
            var shape: [Int] = []
            for _ in 0..<rank {
                let d = try get(Int64.self)
                guard d >= 0, d < 1 << 40 else { throw bad("tensor \"\(name)\" has dimension \(d)") }
                shape.append(Int(d))
            }
            // Checked against the bytes present before allocating: a damaged header may declare terabytes.
            guard let elements = checkedElementCount(shape),
                  !elements.multipliedReportingOverflow(by: dtype.size).overflow,
                  elements * dtype.size <= bytes.count - at else {
                throw bad("tensor \"\(name)\" declares shape \(shape) of \(dtype), more than the \(bytes.count - at) bytes left")
            }
            let t = Tensor(uninitialized: shape, dtype: dtype)
            let raw = try take(t.byteCount)
            raw.withUnsafeBytes { t.storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: t.byteCount) }
            out[name] = t
        }
        return out
    }

    /// Removes `.NAME.tmp-PID` temporaries of `url` left by a process that no longer runs (a killed `train`
    /// leaves one the size of a checkpoint, hundreds of MB). Those of live processes are left alone.
    static func removeStaleTemporaries(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink(folder.appendingPathComponent(name).path)
        }
    }

    /// Writes atomically: a temporary file beside `url`, then rename over it.
    public static func write(_ entries: [(String, Tensor)], to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try encode(entries).write(to: tmp)
            guard rename(tmp.path, url.path) == 0 else {
                throw TrainingError.checkpoint("cannot rename \(tmp.path) to \(url.path): \(String(cString: strerror(errno)))")
            }
        } catch let e as TrainingError {
            try? FileManager.default.removeItem(at: tmp); throw e
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw TrainingError.checkpoint("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    public static func read(from url: URL) throws -> [String: Tensor] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpoint("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try decode(data, source: url.path)
    }
}

extension GANTrainer {
    /// Weights, buffers, Adam state, step, random-generator state and configuration.
    func checkpointEntries() -> [(String, Tensor)] {
        var e: [(String, Tensor)] = []
        let json = (try? JSONEncoder().encode(configuration)) ?? Data()
        e.append(("config", Tensor(shape: [json.count], scalars: [UInt8](json))))
        e.append(("step", Tensor(shape: [1], scalars: [Int64(completedSteps)])))
        e.append(("rng", Tensor(shape: [4], scalars: rng.state)))
        for p in generator.parameters + generator.buffers { e.append(("G.\(p.name)", p.value)) }
        for p in discriminator.parameters + discriminator.buffers { e.append(("D.\(p.name)", p.value)) }
        if let averagedGenerator {
            for p in averagedGenerator.parameters + averagedGenerator.buffers { e.append(("EMA.\(p.name)", p.value)) }
        }
        e += generatorOptimizer.stateTensors(prefix: "adamG")
        e += discriminatorOptimizer.stateTensors(prefix: "adamD")
        return e
    }

    /// Saves the whole training state to `url` atomically (temporary file, then rename).
    public func saveCheckpoint(to url: URL) throws {
        try CheckpointFile.write(checkpointEntries(), to: url)
    }

    /// The configuration stored in a checkpoint.
    public static func configuration(inCheckpoint url: URL) throws -> TrainingConfiguration {
        try configuration(from: CheckpointFile.read(from: url))
    }

    static func configuration(from t: [String: Tensor]) throws -> TrainingConfiguration {
        guard let c = t["config"], c.dtype == .uint8 else { throw TrainingError.checkpoint("no configuration in the checkpoint") }
        do { return try JSONDecoder().decode(TrainingConfiguration.self, from: Data(c.scalars(as: UInt8.self))) } catch {
            throw TrainingError.checkpoint("unreadable configuration: \(error)")
        }
    }

    /// A trainer restored from a checkpoint: same configuration, weights, optimiser state, step and generator.
    public convenience init(resumingFrom url: URL) throws {
        try self.init(checkpointEntries: CheckpointFile.read(from: url))
    }

    /// A trainer restored from decoded checkpoint entries (`CheckpointFile.decode`).
    public convenience init(checkpointEntries t: [String: Tensor]) throws {
        try self.init(configuration: try Self.configuration(from: t))
        try restore(t)
    }

    /// Restores this trainer's state from a checkpoint written with the same configuration.
    public func resume(from url: URL) throws {
        let t = try CheckpointFile.read(from: url)
        let stored = try Self.configuration(from: t)
        guard stored == configuration else {
            throw TrainingError.checkpoint("\(url.path) was written with a different configuration; resume with the stored one (GANTrainer(resumingFrom:))")
        }
        try restore(t)
    }

    private func restore(_ t: [String: Tensor]) throws {
        guard let s = t["step"], s.dtype == .int64, let r = t["rng"], r.dtype == .uint64, r.count == 4 else {
            throw TrainingError.checkpoint("missing step or rng entries")
        }
        var values: [(Variable, Tensor)] = []
        for p in generator.parameters + generator.buffers { values.append((p, try TrainingError.take(t, "G.\(p.name)", shape: p.shape))) }
        for p in discriminator.parameters + discriminator.buffers { values.append((p, try TrainingError.take(t, "D.\(p.name)", shape: p.shape))) }
        if let averagedGenerator {
            for p in averagedGenerator.parameters + averagedGenerator.buffers {
                values.append((p, try TrainingError.take(t, "EMA.\(p.name)", shape: p.shape)))
            }
        }
        try generatorOptimizer.loadState(prefix: "adamG", from: t)
        try discriminatorOptimizer.loadState(prefix: "adamD", from: t)
        for (p, v) in values { p.value = v; p.grad = nil }
        completedSteps = s.ints()[0]
        rng = RandomGenerator(state: r.scalars(as: UInt64.self))
    }
}
