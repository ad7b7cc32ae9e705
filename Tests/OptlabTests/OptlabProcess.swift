import Data
import Foundation
import XCTest

/// What a run of the built `optlab` binary did.
struct OptlabOutcome {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `optlab` as a user would, in `folder` (where default outputs such as plots/...
/// land; by default the test's working folder), with `$OPTLAB_DATA` unset unless `environment`
/// sets it.
func runOptlab(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:]) throws -> OptlabOutcome {
    let process = Process(), output = Pipe(), errors = Pipe()
    process.executableURL = optlabBinary()
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    process.environment = ProcessInfo.processInfo.environment.filter { $0.key != "OPTLAB_DATA" }.merging(environment) { $1 }
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OptlabOutcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: err, as: UTF8.self))
}

/// The build folder holding the test bundle (Linux: the folder itself; macOS: its parent) holds optlab.
func optlabBinary() -> URL {
    var binary = Bundle(for: OptlabProbe.self).bundleURL.appendingPathComponent("optlab")
    while !FileManager.default.isExecutableFile(atPath: binary.path) && binary.pathComponents.count > 2 {
        binary = binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("optlab")
    }
    return binary
}

private final class OptlabProbe {}

/// A fresh empty folder removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder
}

/// The real CIFAR-10 folder, found as optlab finds it; its absence is a failure naming every place
/// looked, never a silent skip.
func realDataPath() throws -> String { try DataLocation.find(option: nil).folder.path }

/// Runs optlab with each case's arguments and asserts it fails with an error whose first line
/// (an option's error is followed by a usage line) names the problem.
func assertRefused(_ command: [String], _ cases: [([String], String)], file: StaticString = #filePath, line: UInt = #line) throws {
    for (arguments, message) in cases {
        let outcome = try runOptlab(command + arguments)
        XCTAssertNotEqual(outcome.status, 0, arguments.joined(separator: " "), file: file, line: line)
        let first = String(outcome.stderr.split(separator: "\n").first ?? "")
        XCTAssert(first.hasPrefix("Error: ") && first.contains(message), "\(arguments): \(outcome.stderr)", file: file, line: line)
    }
}
