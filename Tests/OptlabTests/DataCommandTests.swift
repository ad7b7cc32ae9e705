import Foundation
import XCTest

/// `optlab data` as a user runs it: exit codes and messages of the built binary.
final class DataCommandTests: XCTestCase {
    func testInfoWithoutDataSaysWhereItLookedAndFails() throws {
        let work = try temporaryFolder(self).appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let outcome = try runOptlab(["data", "info"], in: work)
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.stderr.contains("CIFAR-10 not found. optlab looked in:"), outcome.stderr)
        XCTAssert(outcome.stderr.contains("./data/cifar-10-batches-bin (\(work.path)/data/cifar-10-batches-bin): no such folder"), outcome.stderr)
        XCTAssert(outcome.stderr.contains("`optlab data download`"), outcome.stderr)
    }

    func testInfoOnABrokenFolderNamesTheFile() throws {
        let folder = try temporaryFolder(self)
        try "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n".write(to: folder.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
        try Data(count: 100).write(to: folder.appendingPathComponent("data_batch_1.bin"))
        let outcome = try runOptlab(["data", "info"], in: folder, environment: ["OPTLAB_DATA": folder.path])
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.stderr.contains("\(folder.path)/data_batch_1.bin: is 100 bytes, expected 30,730,000"), outcome.stderr)
    }

    func testInfoOnTheRealData() throws {
        let outcome = try runOptlab(["data", "info", "--data", try realDataPath()], in: try temporaryFolder(self))
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssert(outcome.stdout.contains("train: 50,000 images"), outcome.stdout)
        XCTAssert(outcome.stdout.contains("test: 10,000 images in test_batch.bin"), outcome.stdout)
        XCTAssert(outcome.stdout.contains("airplane 1,000"), outcome.stdout)
    }

    func testDownloadOfAWrongArchiveFailsOnTheChecksum() throws {
        let folder = try temporaryFolder(self)
        let archive = folder.appendingPathComponent("cifar-10-binary.tar.gz")
        try Data("not the archive".utf8).write(to: archive)
        let outcome = try runOptlab(["data", "download", "--url", archive.absoluteString, "--to", "data"], in: folder)
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.stderr.contains("MD5 is"), outcome.stderr)
        XCTAssert(outcome.stderr.contains("expected c32a1d4ab5d03f1284b67883e8d87530"), outcome.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/cifar-10-batches-bin").path))
    }
}
