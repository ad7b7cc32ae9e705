import Data
import Foundation
import Support
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
    // Both pipes are read at once: read one after the other, a child that fills the other's
    // buffer (64 kB: a long error report, such as a sanitizer's) would wait for us forever.
    let err = Future { errors.fileHandleForReading.readDataToEndOfFile() }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return OptlabOutcome(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                         stderr: String(decoding: err.value, as: UTF8.self))
}

/// A value computed on a thread of its own; `value` waits for it.
private final class Future<Value>: @unchecked Sendable {  // `result` is written before `done` signals, read after
    private var result: Value?
    private let done = DispatchSemaphore(value: 0)

    init(_ compute: @escaping @Sendable () -> Value) {
        Thread.detachNewThread { [self] in
            result = compute()
            done.signal()
        }
    }

    var value: Value {
        done.wait()
        return result!
    }
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

/// A pseudo-terminal to give a child as its stderr, so that it behaves as in a terminal: optlab
/// draws its progress bar there (`\r ESC[K` and the bar's text, redrawn; erased when the work is done).
final class PseudoTerminal {
    /// The terminal's end for the child.
    let secondary: FileHandle
    private let primary: Int32
    private var text = ""

    init() throws {
        // glibc's pseudo-terminal calls, which Swift's Glibc module leaves out (they need _XOPEN_SOURCE).
        func libc<Function>(_ name: String, _ type: Function.Type) -> Function {
            unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)!, to: type)
        }
        typealias OnDescriptor = @convention(c) (Int32) -> Int32
        let ptsname = libc("ptsname", (@convention(c) (Int32) -> UnsafeMutablePointer<CChar>?).self)
        primary = libc("posix_openpt", OnDescriptor.self)(O_RDWR | O_NOCTTY | O_NONBLOCK)
        guard primary >= 0, libc("grantpt", OnDescriptor.self)(primary) == 0, libc("unlockpt", OnDescriptor.self)(primary) == 0,
              let name = ptsname(primary) else {
            throw FileError("no pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let descriptor = open(name, O_RDWR | O_NOCTTY)
        guard descriptor >= 0 else { throw FileError("cannot open \(String(cString: name)): \(String(cString: strerror(errno)))") }
        secondary = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    deinit { close(primary) }

    /// Closes this process's copy of the child's end, once the child has it.
    func closeSecondary() { try? secondary.close() }

    /// The progress bar the child shows now: its label and counts; nil before the first one and
    /// once it is erased.
    func progress() -> (label: String, done: Int, total: Int)? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = read(primary, &buffer, buffer.count), count > 0 {
            text += String(decoding: buffer[..<count], as: UTF8.self)
        }
        let erase = "\u{1B}[K"
        if let last = text.range(of: erase, options: .backwards) { text = String(text[last.upperBound...]) }
        let bar = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // "epoch 1/2  [#####...............]  64/256  1,234 img/s  ETA 0:01"
        guard let open = bar.range(of: "  ["), let close = bar.range(of: "]  ", range: open.upperBound..<bar.endIndex),
              let counts = bar[close.upperBound...].split(separator: " ").first?.replacingOccurrences(of: ",", with: "").split(separator: "/"),
              counts.count == 2, let done = Int(counts[0]), let total = Int(counts[1]) else { return nil }
        return (String(bar[..<open.lowerBound]), done, total)
    }
}

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
