import CZlib
import Foundation

/// Checks and unpacks `cifar-10-binary.tar.gz`: MD5 first, then gunzip (zlib) and tar (parsed here),
/// into a staging folder that is renamed into place only when everything came out whole.
public enum CIFAR10Archive {
    /// Verifies `archive` against `md5`, unpacks it and moves its `cifar-10-batches-bin` folder into
    /// `destination`. Returns the installed folder. An existing folder there is replaced only if
    /// `replace` is set; nothing is left behind on failure.
    @discardableResult
    public static func install(_ archive: URL, md5: String, into destination: URL, replace: Bool = false) throws -> URL {
        let actual = try fileMD5(archive)
        guard actual == md5.lowercased() else {
            throw DataError.archive("\(archive.path): MD5 is \(actual), expected \(md5.lowercased()); "
                + "the download is incomplete or corrupt: delete it and download again")
        }
        let compressed: Foundation.Data
        do { compressed = try Foundation.Data(contentsOf: archive) } catch {
            throw DataError.archive("\(archive.path): unreadable: \(error.localizedDescription)")
        }
        let entries: [TarEntry]
        do { entries = try TarEntry.parse(try gunzip(compressed)) } catch let DataError.archive(problem) {
            throw DataError.archive("\(archive.path): \(problem)")
        }

        let target = destination.appendingPathComponent(CIFAR10.folderName)
        if FileManager.default.fileExists(atPath: target.path) && !replace {
            throw DataError.archive("\(target.path) already exists; remove it first (or pass --force)")
        }
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let staging = destination.appendingPathComponent(".unpack-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        for entry in entries {
            let url = staging.appendingPathComponent(entry.path)
            if entry.isDirectory {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try entry.contents.write(to: url)
            }
        }
        let unpacked = staging.appendingPathComponent(CIFAR10.folderName)
        guard DataLocation.isDirectory(unpacked) else {
            throw DataError.archive("\(archive.path): has no \(CIFAR10.folderName) folder; not the CIFAR-10 binary archive")
        }
        if replace { try? FileManager.default.removeItem(at: target) }
        try FileManager.default.moveItem(at: unpacked, to: target)
        return target
    }

    /// MD5 of a file, read in 4 MB pieces.
    public static func fileMD5(_ url: URL) throws -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw DataError.archive("\(url.path): missing or unreadable")
        }
        defer { try? handle.close() }
        var md5 = MD5()
        while let piece = try handle.read(upToCount: 4 << 20), !piece.isEmpty { md5.update(piece) }
        return md5.hexDigest()
    }

    /// Decompresses a whole gzip stream; a stream that stops early is reported as truncated.
    static func gunzip(_ compressed: Foundation.Data) throws -> Foundation.Data {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer rather than raw zlib.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.archive("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Foundation.Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status = Z_OK
        try compressed.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[..<produced])
                if status == Z_DATA_ERROR || status == Z_NEED_DICT {
                    throw DataError.archive("not a valid gzip file (\(String(cString: stream.msg)))")
                }
                if status == Z_BUF_ERROR || (status == Z_OK && stream.avail_in == 0 && produced == 0) {
                    throw DataError.archive("truncated: the gzip stream ends early")
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw DataError.archive("zlib error \(status)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}

/// One member of a tar archive (POSIX ustar, with GNU long names and pax `path` records).
struct TarEntry {
    let path: String
    let isDirectory: Bool
    let contents: Foundation.Data

    static let block = 512

    static func parse(_ tar: Foundation.Data) throws -> [TarEntry] {
        let bytes = [UInt8](tar)
        var entries: [TarEntry] = []
        var offset = 0
        var longName: String?  // from a GNU 'L' or pax 'x' record, applies to the next entry
        while offset + block <= bytes.count {
            let header = bytes[offset..<(offset + block)]
            if header.allSatisfy({ $0 == 0 }) { return entries }  // end-of-archive marker
            try verifyChecksum(header, at: offset)
            let size = try number(header, 124, 12, at: offset)
            let start = offset + block
            guard size <= bytes.count - start else {
                throw DataError.archive("truncated: the tar member at byte \(offset) needs \(size) bytes, \(bytes.count - start) remain")
            }
            let body = bytes[start..<(start + size)]
            offset = start + (size + block - 1) / block * block
            let kind = header[header.startIndex + 156]
            switch kind {
            case UInt8(ascii: "L"):
                longName = text(body)
            case UInt8(ascii: "x"):
                longName = paxPath(body) ?? longName
            case UInt8(ascii: "0"), 0, UInt8(ascii: "5"):
                let prefix = text(header[(header.startIndex + 345)..<(header.startIndex + 500)])
                let name = text(header[header.startIndex..<(header.startIndex + 100)])
                let path = longName ?? (prefix.isEmpty ? name : prefix + "/" + name)
                longName = nil
                try checkSafe(path)
                entries.append(TarEntry(path: path, isDirectory: kind == UInt8(ascii: "5"), contents: Foundation.Data(body)))
            default:
                longName = nil  // links, devices, global pax headers: nothing CIFAR-10 needs
            }
        }
        throw DataError.archive("truncated: the tar archive ends without its end marker")
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Octal digits (NUL- or space-terminated), or GNU base-256 when the top bit is set.
    private static func number(_ header: ArraySlice<UInt8>, _ field: Int, _ width: Int, at offset: Int) throws -> Int {
        let bytes = header[(header.startIndex + field)..<(header.startIndex + field + width)]
        let damaged = DataError.archive("not a tar archive (bad header at byte \(offset))")
        if let first = bytes.first, first & 0x80 != 0 {
            var value = Int(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value <= Int.max >> 8 else { throw damaged }  // more than Int holds: no real archive
                value = value << 8 | Int(byte)
            }
            return value
        }
        // Octal digits only: Int(_:radix:) would also take a sign, and a negative size.
        let digits = text(bytes).trimmingCharacters(in: .whitespaces)
        guard digits.allSatisfy({ ("0"..."7").contains($0) }), let value = Int(digits.isEmpty ? "0" : digits, radix: 8) else {
            throw damaged
        }
        return value
    }

    /// The header checksum: the sum of its bytes with the checksum field counted as spaces.
    private static func verifyChecksum(_ header: ArraySlice<UInt8>, at offset: Int) throws {
        let stored = try number(header, 148, 8, at: offset)
        let field = (header.startIndex + 148)..<(header.startIndex + 156)
        let sum = header.indices.reduce(0) { $0 + (field.contains($1) ? 32 : Int(header[$1])) }
        guard sum == stored else { throw DataError.archive("not a tar archive (bad header checksum at byte \(offset))") }
    }

    /// The `path` of a pax extended header: records of the form "<length> path=<value>\n".
    private static func paxPath(_ body: ArraySlice<UInt8>) -> String? {
        for record in String(decoding: body, as: UTF8.self).split(separator: "\n") {
            if let range = record.range(of: " path=") { return String(record[range.upperBound...]) }
        }
        return nil
    }

    /// Refuses absolute paths and `..` so an archive cannot write outside its staging folder.
    private static func checkSafe(_ path: String) throws {
        if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
            throw DataError.archive("refusing the unsafe member path \(path)")
        }
    }
}
