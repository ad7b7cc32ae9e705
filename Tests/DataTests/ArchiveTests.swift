import Support
import Foundation
import XCTest
@testable import Data

/// The download's unpack-and-verify path, offline, on small archives made here by the system's tar.
final class ArchiveTests: XCTestCase {
    func testMD5MatchesRFC1321() {
        let vectors = [
            "": "d41d8cd98f00b204e9800998ecf8427e",
            "a": "0cc175b9c0f1b6a831c399e269772661",
            "abc": "900150983cd24fb0d6963f7d28e17f72",
            "message digest": "f96b697d7cb7938d525a2f31aaf161d0",
            "abcdefghijklmnopqrstuvwxyz": "c3fcd3d76192e4007dfb496cca67e13b",
            String(repeating: "1234567890", count: 8): "57edf4a22be3c955ac49da2e2107b67a",
        ]
        for (text, digest) in vectors {
            var md5 = MD5()
            md5.update(Array(text.utf8))
            XCTAssertEqual(md5.hexDigest(), digest, text)
        }
        // Fed in uneven pieces it gives the same digest.
        var pieces = MD5()
        let bytes = Array(String(repeating: "1234567890", count: 8).utf8)
        for range in [0..<1, 1..<63, 63..<64, 64..<80] { pieces.update(bytes[range]) }
        XCTAssertEqual(pieces.hexDigest(), "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// A folder tree like the real archive's, with a member name longer than tar's 100 bytes.
    private func makeArchive(format: String) throws -> (archive: URL, files: [String: Foundation.Data]) {
        let root = try temporaryFolder(self)
        let source = root.appendingPathComponent("source")
        var random = SeededRandom(seed: 5)
        let files: [String: Foundation.Data] = [
            "cifar-10-batches-bin/batches.meta.txt": Foundation.Data("airplane\nautomobile\n".utf8),
            "cifar-10-batches-bin/data_batch_1.bin": Foundation.Data((0..<70_001).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
            "cifar-10-batches-bin/" + String(repeating: "long-name-", count: 12) + ".txt": Foundation.Data("x".utf8),
            "cifar-10-batches-bin/empty.txt": Foundation.Data(),
        ]
        for (path, contents) in files {
            let url = source.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url)
        }
        let archive = root.appendingPathComponent("test-\(format).tar.gz")
        try run("/usr/bin/tar", "--format=\(format)", "-czf", archive.path, "-C", source.path, "cifar-10-batches-bin")
        return (archive, files)
    }

    private func run(_ tool: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(arguments)")
    }

    private func md5sum(_ url: URL) throws -> String {
        let process = Process(), output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/md5sum")
        process.arguments = [url.path]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ")[0].description
    }

    func testInstallUnpacksExactlyWhatWasPacked() throws {
        for format in ["gnu", "pax"] {
            let (archive, files) = try makeArchive(format: format)
            let digest = try md5sum(archive)
            XCTAssertEqual(try CIFAR10Archive.fileMD5(archive), digest)
            let destination = try temporaryFolder(self).appendingPathComponent("data")
            let installed = try CIFAR10Archive.install(archive, md5: digest, into: destination)
            XCTAssertEqual(installed.path, destination.appendingPathComponent("cifar-10-batches-bin").path)
            for (path, contents) in files {
                XCTAssertEqual(try Foundation.Data(contentsOf: destination.appendingPathComponent(path)), contents, "\(format): \(path)")
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination.path), ["cifar-10-batches-bin"],
                           "no staging folder left behind")
            // A second install neither overwrites silently nor fails half-way.
            let again = thrownDataError { try CIFAR10Archive.install(archive, md5: digest, into: destination) }
            XCTAssertEqual(again?.description, "\(installed.path) already exists; remove it first (or pass --force)")
            XCTAssertNoThrow(try CIFAR10Archive.install(archive, md5: digest, into: destination, replace: true))
        }
    }

    func testWrongChecksumIsRejectedBeforeUnpacking() throws {
        let (archive, _) = try makeArchive(format: "gnu")
        let destination = try temporaryFolder(self)
        let wrong = "c32a1d4ab5d03f1284b67883e8d87530"
        let error = thrownDataError { try CIFAR10Archive.install(archive, md5: wrong, into: destination) }
        XCTAssertEqual(error?.description, "\(archive.path): MD5 is \(try md5sum(archive)), expected \(wrong); "
            + "the download is incomplete or corrupt: delete it and download again")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination.path), [])
    }

    func testTruncatedArchiveIsRejectedAndLeavesNothing() throws {
        let (archive, _) = try makeArchive(format: "gnu")
        let bytes = try Foundation.Data(contentsOf: archive)
        for keep in [bytes.count / 2, bytes.count - 4, 5] {
            let cut = archive.deletingLastPathComponent().appendingPathComponent("cut-\(keep).tar.gz")
            try bytes.prefix(keep).write(to: cut)
            let destination = try temporaryFolder(self)
            // Even with the truncated file's own MD5, unpacking must notice.
            let error = thrownDataError { try CIFAR10Archive.install(cut, md5: try md5sum(cut), into: destination) }
            XCTAssertEqual(error?.description, "\(cut.path): truncated: the gzip stream ends early", "kept \(keep) bytes")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: destination.path), [])
        }
    }

    func testTruncatedTarInsideAValidGzipIsRejected() throws {
        let (archive, _) = try makeArchive(format: "gnu")
        let tar = try CIFAR10Archive.gunzip(try Foundation.Data(contentsOf: archive))
        let error = thrownDataError { try TarEntry.parse(tar.prefix(40_000)) }
        XCTAssertEqual(error?.description.hasPrefix("truncated: the tar member at byte"), true, error?.description ?? "")
        XCTAssertEqual(thrownDataError { try CIFAR10Archive.gunzip(Foundation.Data("not gzip at all".utf8)) }?.description,
                       "not a valid gzip file (incorrect header check)")
    }

    func testUnsafePathsAreRefused() throws {
        let root = try temporaryFolder(self)
        try Foundation.Data("x".utf8).write(to: root.appendingPathComponent("evil"))
        let tar = root.appendingPathComponent("evil.tar")
        try run("/usr/bin/tar", "-cf", tar.path, "-C", root.path, "--transform=s,^,../,", "evil")
        let error = thrownDataError { try TarEntry.parse(try Foundation.Data(contentsOf: tar)) }
        XCTAssertEqual(error?.description, "refusing the unsafe member path ../evil")
    }

    /// Found by reading the parser the fuzzer runs: a size field with a sign ("-1" in octal) or a
    /// GNU base-256 number beyond Int made a negative or overflowing member size, and the slice
    /// of the member's bytes trapped. Both are damaged headers now.
    func testOutOfRangeMemberSizesAreRefused() {
        for size in [Array("-1".utf8) + [0], [0xff] + [UInt8](repeating: 0xff, count: 11), [0x80, 0x7f] + [UInt8](repeating: 0xff, count: 10)] {
            let error = thrownDataError { try TarEntry.parse(Self.tar(sizeField: size)) }
            XCTAssertEqual(error?.description, "not a tar archive (bad header at byte 0)", "size field \(size)")
        }
    }

    /// One ustar header for a member "x" whose 12-byte size field holds `sizeField`, with a valid
    /// checksum, then the end-of-archive marker.
    private static func tar(sizeField: [UInt8]) -> Foundation.Data {
        var header = [UInt8](repeating: 0, count: 512)
        header[0] = UInt8(ascii: "x")
        header.replaceSubrange(124..<(124 + sizeField.count), with: sizeField)
        header[156] = UInt8(ascii: "0")
        header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        let checksum = header.indices.reduce(0) { $0 + ((148..<156).contains($1) ? 32 : Int(header[$1])) }
        header.replaceSubrange(148..<156, with: Array(String(format: "%06o\0 ", checksum).utf8))
        return Foundation.Data(header + [UInt8](repeating: 0, count: 1024))
    }
}
