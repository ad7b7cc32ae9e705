import Data
import Foundation
import NN
import XCTest
import CIFARLab
import Support

/// A training run killed (SIGKILL) at random moments: inside steps, during checkpoint writes,
/// during evaluation. Every time, the checkpoint on disk must load and evaluate; each next run
/// resumes from it, and the last one must end with the weights of a run never interrupted.
final class CrashSafetyTests: XCTestCase {
    private static let kills = 25

    func testKilledRunsResumeToTheWeightsOfAnUninterruptedRun() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        // The tutorial net on 256 images, 3 epochs: a checkpoint every 16 steps and a test-set
        // evaluation; a few seconds in all.
        let training = ["train", "--model", "tutorial", "--optimizer", "sgd(lr=0.01,momentum=0.9)", "--epochs", "3",
                        "--train-subset", "256", "--batch-size", "16", "--no-augment", "--threads", "1", "--data", data]
        let started = Date()
        let straight = try runOptlab(training + ["--out", "straight.safetensors"], in: folder)
        let duration = Date().timeIntervalSince(started)
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let expected = try SafeTensors(contentsOf: folder.appendingPathComponent("straight.safetensors"))
        let test = try CIFAR10.load(.test, from: URL(fileURLWithPath: data)).prefix(250)

        let checkpoint = folder.appendingPathComponent("run.safetensors")
        var random = SeededRandom(seed: 10)  // fixed, so a failing sequence of kill moments replays
        var killedWhileWriting = 0, finishedBeforeTheKill = 0
        for kill in 0..<Self.kills {
            let process = try startOptlab(training + ["--out", "run.safetensors", "--resume"], in: folder)
            // Half the kills come as soon as a checkpoint's temporary file appears (mid-write);
            // the others at a random moment of the run (steps, evaluation, start-up).
            if kill % 2 == 0 {
                waitForTemporaryFile(in: folder, while: process)
            } else {
                usleep(UInt32(Double.random(in: 0...duration, using: &random) * 1e6))
            }
            if process.isRunning {
                Foundation.kill(process.processIdentifier, SIGKILL)
            } else {
                finishedBeforeTheKill += 1
            }
            process.waitUntilExit()
            let leftovers = try temporaryFiles(in: folder)
            killedWhileWriting += leftovers.isEmpty ? 0 : 1
            guard FileManager.default.fileExists(atPath: checkpoint.path) else { continue }
            // What is on disk is a whole checkpoint: it loads and evaluates.
            let evaluated = try Evaluation.run(checkpoint: checkpoint, model: nil, test: test) { XCTFail("not needed"); return test }
            XCTAssertEqual(evaluated.report.images, 250, "kill \(kill)")
            if process.terminationReason == .exit {
                // A finished run: compare it, then start the chain again.
                XCTAssertEqual(try tensors(SafeTensors(contentsOf: checkpoint)), try tensors(expected), "kill \(kill)")
                try FileManager.default.removeItem(at: checkpoint)
            }
        }
        let last = try runOptlab(training + ["--out", "run.safetensors", "--resume"], in: folder)
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertEqual(try tensors(SafeTensors(contentsOf: checkpoint)), try tensors(expected))
        XCTAssertEqual(try temporaryFiles(in: folder), [], "the next run removes what killed writers left")
        print("\(Self.kills) kills: \(killedWhileWriting) while writing a checkpoint, \(finishedBeforeTheKill) after the run had finished")
        XCTAssertGreaterThan(killedWhileWriting, 0, "no kill landed during a checkpoint write")
    }

    /// A disk that fills mid-run: a 700 kB tmpfs holds the first checkpoint (about 500 kB: weights and
    /// momentum) but not the temporary copy of the second.
    func testAFullDiskStopsTheRunAndKeepsThePreviousCheckpoint() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let disk = try mountTmpfs(size: "700k", in: folder)
        let outcome = try runOptlab(["train", "--model", "tutorial", "--optimizer", "sgd(lr=0.01,momentum=0.9)", "--epochs", "3",
                                         "--train-subset", "64", "--batch-size", "16", "--no-augment", "--threads", "1",
                                         "--data", data, "--out", "disk/run.safetensors"], in: folder)
        try assertStoppedKeepingEpochOne(outcome.status, outcome.stderr, reason: "space", in: disk)
    }

    /// A folder that turns read-only mid-run (a tmpfs remounted read-only after the first
    /// checkpoint; root ignores file permissions).
    func testAFolderTurnedReadOnlyStopsTheRunAndKeepsThePreviousCheckpoint() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let disk = try mountTmpfs(size: "4m", in: folder)
        let train = try startOptlab(["train", "--model", "tutorial", "--epochs", "3", "--train-subset", "64", "--batch-size", "16",
                                     "--threads", "1", "--data", data, "--out", "disk/run.safetensors"], in: folder, errors: true)
        while train.isRunning && !FileManager.default.fileExists(atPath: disk.appendingPathComponent("run.safetensors").path) {
            usleep(1_000)
        }
        XCTAssertEqual(run("/bin/mount", ["-o", "remount,ro", disk.path]), 0)
        let errors = String(decoding: (train.standardError as! Pipe).fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        train.waitUntilExit()
        try assertStoppedKeepingEpochOne(train.terminationStatus, errors, reason: "not writable", in: disk)
    }

    /// The run failed with one line naming the checkpoint and `reason`, and left epoch 1's
    /// checkpoint whole and no temporary file in `disk`.
    private func assertStoppedKeepingEpochOne(_ status: Int32, _ errors: String, reason: String, in disk: URL,
                                              file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertNotEqual(status, 0, file: file, line: line)
        let message = errors.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(message.split(separator: "\n").count, 1, message, file: file, line: line)
        XCTAssert(message.contains(reason) && message.contains("run.safetensors"), message, file: file, line: line)
        XCTAssertEqual(try SafeTensors(contentsOf: disk.appendingPathComponent("run.safetensors")).metadata["epoch"], "1", file: file, line: line)
        XCTAssertEqual(try temporaryFiles(in: disk), [], file: file, line: line)
    }

    /// `folder`/disk with a tmpfs of `size` mounted on it until the test ends; the test is skipped
    /// where mounting is not allowed (not root).
    private func mountTmpfs(size: String, in folder: URL) throws -> URL {
        let disk = folder.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", disk.path]) == 0 else {
            throw XCTSkip("needs to mount a small tmpfs (root); this fault is not checked here")
        }
        addTeardownBlock { _ = self.run("/bin/umount", [disk.path]) }
        return disk
    }

    /// A second run given the same checkpoint fails at once, naming the path, while the first runs on.
    func testASecondRunOnTheSameCheckpointFailsAtOnce() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let training = ["train", "--model", "tutorial", "--epochs", "50", "--train-subset", "64", "--threads", "1",
                        "--data", data, "--out", "run.safetensors"]
        let first = try startOptlab(training, in: folder)
        defer { first.terminate(); first.waitUntilExit() }
        while first.isRunning && !FileManager.default.fileExists(atPath: folder.appendingPathComponent(".run.safetensors.lock").path) {
            usleep(10_000)
        }
        XCTAssert(first.isRunning)
        let second = try runOptlab(training, in: folder)
        XCTAssertNotEqual(second.status, 0)
        XCTAssert(second.stderr.contains("'run.safetensors' is in use by another optlab process (pid \(first.processIdentifier))"), second.stderr)
        XCTAssert(first.isRunning)
    }

    private func run(_ tool: String, _ arguments: [String]) -> Int32 {
        guard let process = try? Process.run(URL(fileURLWithPath: tool), arguments: arguments) else { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Every tensor of a checkpoint (weights and optimizer state), by name.
    private func tensors(_ file: SafeTensors) throws -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: try file.names.map { ($0, try file.floats($0)) })
    }

    private func temporaryFiles(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }.sorted()
    }

    /// Polls until a temporary file shows up in `folder` or the process ends.
    private func waitForTemporaryFile(in folder: URL, while process: Process) {
        while process.isRunning {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path), names.contains(where: { $0.hasSuffix(".tmp") }) {
                return
            }
            usleep(100)
        }
    }

    /// Starts optlab with its output discarded, and its errors too unless `errors` (then a Pipe).
    private func startOptlab(_ arguments: [String], in folder: URL, errors: Bool = false) throws -> Process {
        let process = Process()
        process.executableURL = optlabBinary()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors ? Pipe() : FileHandle.nullDevice
        try process.run()
        return process
    }
}
