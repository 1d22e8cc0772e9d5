import Foundation
import Tensor

/// Tensor files: numpy `.npy` (format 1.0-3.0, little-endian, C order) and ONNX `TensorProto` `.pb`.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    case npy, pb
}

extension Tensor {
    /// Reads a `.npy` or `.pb` tensor file (told apart by content: `.npy` starts with "\u{93}NUMPY").
    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ONNXError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "permission denied or not a file" : "no such file")
        }
        if data.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
            self = try Tensor(npyBytes: data, name: path)
        } else {
            self = try Tensor(tensorProtoBytes: data, name: path)
        }
    }

    /// Writes the tensor as `.npy` or `.pb`, atomically.
    public func write(to path: String, format: TensorFileFormat, name: String = "") throws {
        let data = format == .npy ? try npyBytes() : tensorProtoBytes(name: name)
        try writeAtomically(data, to: path)
    }

    static let npyDescriptors: [(String, DType)] = [
        ("<f4", .float32), ("<f8", .float64), ("<f2", .float16), ("<i8", .int64), ("<i4", .int32),
        ("<i2", .int16), ("|i1", .int8), ("|u1", .uint8), ("<u2", .uint16), ("<u4", .uint32), ("<u8", .uint64),
        ("|b1", .bool),
    ]

    /// Decodes `.npy` bytes.
    public init(npyBytes data: Data, name: String = "array") throws {
        func fail(_ reason: String) -> ONNXError { .badTensor(name: name, reason: "not a readable .npy file: \(reason)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10 else { throw fail("too short") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw fail("too short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        } else { throw fail("unknown format version \(major)") }
        guard headerStart + headerLength <= bytes.count else { throw fail("header runs past the end") }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let q1 = descrField.firstIndex(of: "'"),
              let q2 = descrField[descrField.index(after: q1)...].firstIndex(of: "'") else { throw fail("no descr") }
        var descr = String(descrField[descrField.index(after: q1)..<q2])
        if descr.hasPrefix("=") { descr = "<" + descr.dropFirst() }
        if descr == "<b1" || descr == "|?" { descr = "|b1" }
        if descr == "<i1" { descr = "|i1" }
        if descr == "<u1" { descr = "|u1" }
        guard let dtype = Self.npyDescriptors.first(where: { $0.0 == descr })?.1 else {
            throw fail("element type '\(descr)' is not supported (big-endian or exotic)")
        }
        if let order = field("fortran_order"), order.hasPrefix("True") { throw fail("Fortran order is not supported") }
        guard let shapeField = field("shape"), let open = shapeField.firstIndex(of: "("),
              let close = shapeField.firstIndex(of: ")") else { throw fail("no shape") }
        let dims = shapeField[shapeField.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let n = Int(d), n >= 0 else { throw fail("bad dimension '\(d)'") }
            shape.append(n)
        }
        guard let count = checkedElementCount(shape) else { throw fail("shape \(shape) has more elements than 64 bits can count") }
        let start = headerStart + headerLength
        guard count >= 0, count <= (bytes.count - start) / max(dtype.size, 1) + (dtype.size == 0 ? 1 : 0),
              count * dtype.size == bytes.count - start else {
            throw fail("shape \(shape) of \(dtype) needs \(count * dtype.size) data bytes, file has \(bytes.count - start)")
        }
        let t = Tensor(uninitialized: shape, dtype: dtype)
        bytes.withUnsafeBytes { raw in
            if count > 0 { t.storage.pointer.copyMemory(from: raw.baseAddress! + start, byteCount: count * dtype.size) }
        }
        self = t
    }

    /// Encodes as `.npy` version 1.0.
    public func npyBytes() throws -> Data {
        guard let descr = Self.npyDescriptors.first(where: { $0.1 == dtype })?.0 else {
            throw ONNXError.badTensor(name: "", reason: "\(dtype) tensors cannot be written as .npy; use --format pb")
        }
        let shapeText = shape.isEmpty ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(Data(bytes: storage.pointer, count: byteCount))
        return data
    }
}
