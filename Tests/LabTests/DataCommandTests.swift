import Foundation
import XCTest

/// `optlab data` as a user runs it: exit codes and messages of the built binary.
final class DataCommandTests: XCTestCase {
    private struct Outcome {
        let status: Int32
        let output: String
        let errors: String
    }

    private func optlab(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) throws -> Outcome {
        // The build folder holding the test bundle (Linux: the folder itself; macOS: its parent) holds optlab.
        var binary = Bundle(for: Self.self).bundleURL.appendingPathComponent("optlab")
        while !FileManager.default.isExecutableFile(atPath: binary.path) && binary.pathComponents.count > 2 {
            binary = binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("optlab")
        }
        let process = Process(), output = Pipe(), errors = Pipe()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "OPTLAB_DATA" }.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
                       errors: String(decoding: err, as: UTF8.self))
    }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testInfoWithoutDataSaysWhereItLookedAndFails() throws {
        let work = try temporaryFolder().appendingPathComponent("work")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let outcome = try optlab(["data", "info"], in: work)
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.errors.contains("CIFAR-10 not found. optlab looked in:"), outcome.errors)
        XCTAssert(outcome.errors.contains("./data/cifar-10-batches-bin (\(work.path)/data/cifar-10-batches-bin): no such folder"), outcome.errors)
        XCTAssert(outcome.errors.contains("`optlab data download`"), outcome.errors)
    }

    func testInfoOnABrokenFolderNamesTheFile() throws {
        let folder = try temporaryFolder()
        try "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n".write(to: folder.appendingPathComponent("batches.meta.txt"), atomically: true, encoding: .utf8)
        try Data(count: 100).write(to: folder.appendingPathComponent("data_batch_1.bin"))
        let outcome = try optlab(["data", "info"], in: folder, environment: ["OPTLAB_DATA": folder.path])
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.errors.contains("\(folder.path)/data_batch_1.bin: is 100 bytes, expected 30,730,000"), outcome.errors)
    }

    func testInfoOnTheRealData() throws {
        let real = URL(fileURLWithPath: "../shared/data/cifar-10-batches-bin").standardizedFileURL
        guard FileManager.default.fileExists(atPath: real.path) else { throw XCTSkip("no CIFAR-10 at \(real.path)") }
        let outcome = try optlab(["data", "info", "--data", real.path], in: try temporaryFolder())
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssert(outcome.output.contains("train: 50,000 images"), outcome.output)
        XCTAssert(outcome.output.contains("test: 10,000 images in test_batch.bin"), outcome.output)
        XCTAssert(outcome.output.contains("airplane 1,000"), outcome.output)
    }

    func testDownloadOfAWrongArchiveFailsOnTheChecksum() throws {
        let folder = try temporaryFolder()
        let archive = folder.appendingPathComponent("cifar-10-binary.tar.gz")
        try Data("not the archive".utf8).write(to: archive)
        let outcome = try optlab(["data", "download", "--url", archive.absoluteString, "--to", "data"], in: folder)
        XCTAssertEqual(outcome.status, 1)
        XCTAssert(outcome.errors.contains("MD5 is"), outcome.errors)
        XCTAssert(outcome.errors.contains("expected c32a1d4ab5d03f1284b67883e8d87530"), outcome.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/cifar-10-batches-bin").path))
    }
}
