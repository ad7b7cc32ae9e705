import Foundation
import Support
import XCTest

final class AtomicFileTests: XCTestCase {
    func testAtomicWriteReplacesWholeFilesAndLeavesNoTemporary() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-atomic-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a.csv").path
        try AtomicFile.write("one\n", to: file)
        try AtomicFile.write("two\n", to: file)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "two\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["a.csv"])

        XCTAssertThrowsError(try AtomicFile.write("x", to: folder.appendingPathComponent("missing/b.csv").path)) {
            XCTAssertTrue("\($0)".hasPrefix("cannot write '"), "\($0)")
            XCTAssertTrue("\($0)".contains("does not exist"), "\($0)")
        }
        let target = folder.appendingPathComponent("dir").path
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: target + "/x", withIntermediateDirectories: false)
        XCTAssertThrowsError(try AtomicFile.write("x", to: target))  // a non-empty folder cannot be replaced
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)), ["a.csv", "dir"])
    }

    /// A writer that fails part-way leaves the old file as it was and no temporary file.
    func testFailedWriterLeavesTheOldFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-atomic-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a.svg").path
        try AtomicFile.write("old\n", to: file)
        struct Broken: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: file) { temporary in
            try "half".write(toFile: temporary, atomically: false, encoding: .utf8)
            throw Broken()
        })
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "old\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["a.svg"])
    }
}
