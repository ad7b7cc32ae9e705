import Foundation
import Support

/// A bad or unreadable safetensors file; the message names the file and, where it applies, the tensor.
public struct SafeTensorsError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The safetensors format (as `safetensors.torch` writes it): an 8-byte little-endian header
/// length, a JSON header mapping each name to `dtype`, `shape` and `data_offsets` (plus an optional
/// `__metadata__` string map), then the raw little-endian tensor bytes.
public struct SafeTensors {
    public enum DType: String, Sendable {
        case f32 = "F32", f64 = "F64", i64 = "I64", i32 = "I32"
        var size: Int { self == .f32 || self == .i32 ? 4 : 8 }
    }

    public struct Entry {
        public let dtype: DType
        public let shape: [Int]
        let bytes: Data
    }

    public var metadata: [String: String] = [:]
    public private(set) var entries: [String: Entry] = [:]
    /// Where the tensors came from, for messages.
    public var source = "safetensors data"

    public init() {}

    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw SafeTensorsError("cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        try self.init(data, source: url.path)
    }

    public init(_ data: Data, source: String = "safetensors data") throws {
        self.source = source
        func fail(_ why: String) -> SafeTensorsError { SafeTensorsError("\(source): \(why)") }
        guard data.count >= 8 else { throw fail("truncated (\(data.count) bytes, no header)") }
        let headerLength = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("truncated or corrupt (header of \(headerLength) bytes, file has \(data.count))")
        }
        let dataStart = data.startIndex + 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data[(data.startIndex + 8)..<dataStart]) as? [String: Any] else {
            throw fail("corrupt header (not a JSON object)")
        }
        let payload = data[dataStart...]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw fail("__metadata__ is not a string map") }
                for (key, item) in map {
                    guard let text = item as? String else { throw fail("metadata \(key) is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shapeList = info["shape"] as? [Any], let offsetList = info["data_offsets"] as? [Any] else {
                throw fail("tensor \(name) has a malformed header entry")
            }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor \(name) has unsupported dtype \(dtypeName)") }
            let shape = shapeList.compactMap(Self.integer), offsets = offsetList.compactMap(Self.integer)
            guard shape.count == shapeList.count, shape.allSatisfy({ $0 >= 0 }),
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw fail("tensor \(name) has a malformed shape or data_offsets")
            }
            guard offsets[1] <= payload.count else {
                throw fail("tensor \(name) extends past the end of the file (truncated?)")
            }
            // Multiplied with overflow checks: a hostile shape such as [2³², 2³²] would trap.
            let needed = try shape.reduce(dtype.size) { bytes, extent in
                let (product, overflow) = bytes.multipliedReportingOverflow(by: extent)
                guard !overflow else { throw fail("tensor \(name) has an impossible shape \(shape)") }
                return product
            }
            guard offsets[1] - offsets[0] == needed else {
                throw fail("tensor \(name) has \(offsets[1] - offsets[0]) bytes but \(dtypeName) \(shape) needs \(needed)")
            }
            let start = payload.startIndex + offsets[0]
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: payload[start..<(start + needed)])
        }
    }

    private static func integer(_ any: Any) -> Int? {
        if let value = any as? Int { return value }
        return (any as? NSNumber)?.intValue
    }

    public var names: [String] { entries.keys.sorted() }

    // MARK: Writing

    public mutating func set<T: BitwiseCopyable>(_ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int], dtype: DType) {
        precondition(values.count == shape.reduce(1, *) && MemoryLayout<T>.size == dtype.size, "tensor \(name): values do not match shape \(shape)")
        entries[name] = Entry(dtype: dtype, shape: shape, bytes: Data(buffer: values))
    }

    public mutating func set(_ name: String, floats: [Float], shape: [Int]) {
        floats.withUnsafeBufferPointer { set(name, $0, shape: shape, dtype: .f32) }
    }

    public mutating func set(_ name: String, doubles: [Double], shape: [Int]) {
        doubles.withUnsafeBufferPointer { set(name, $0, shape: shape, dtype: .f64) }
    }

    public mutating func set(_ name: String, int64s: [Int64], shape: [Int]) {
        int64s.withUnsafeBufferPointer { set(name, $0, shape: shape, dtype: .i64) }
    }

    /// The complete file contents.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        let order = names
        for name in order {
            let entry = entries[name]!
            header[name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]]
            offset += entry.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the tensor data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in order { out.append(entries[name]!.bytes) }
        return out
    }

    /// Writes atomically and durably (`AtomicFile`).
    public func write(to url: URL) throws {
        try AtomicFile.write(serialized(), to: url.path)
    }

    // MARK: Reading

    /// The tensor's entry, checked for dtype and (when given) shape.
    public func entry(_ name: String, dtype: DType, shape: [Int]? = nil) throws -> Entry {
        guard let entry = entries[name] else { throw SafeTensorsError("\(source): missing tensor \(name)") }
        guard entry.dtype == dtype else {
            throw SafeTensorsError("\(source): tensor \(name) is \(entry.dtype.rawValue), expected \(dtype.rawValue)")
        }
        if let shape, shape != entry.shape {
            throw SafeTensorsError("\(source): tensor \(name) has shape \(entry.shape), expected \(shape)")
        }
        return entry
    }

    func values<T: BitwiseCopyable>(_ name: String, dtype: DType, shape: [Int]?, as: T.Type) throws -> [T] {
        let entry = try entry(name, dtype: dtype, shape: shape)
        let count = entry.bytes.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = entry.bytes.copyBytes(to: buffer)
            initialized = count
        }
    }

    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        try values(name, dtype: .f32, shape: shape, as: Float.self)
    }

    public func doubles(_ name: String, shape: [Int]? = nil) throws -> [Double] {
        try values(name, dtype: .f64, shape: shape, as: Double.self)
    }

    public func int64s(_ name: String, shape: [Int]? = nil) throws -> [Int64] {
        try values(name, dtype: .i64, shape: shape, as: Int64.self)
    }

    /// A float tensor as a `Tensor`.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        let entry = try entry(name, dtype: .f32, shape: shape)
        return Tensor(shape: entry.shape, values: try floats(name))
    }
}
