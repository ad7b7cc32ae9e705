import Data
import Foundation
import NN
import XCTest
import CIFARLab
import Support

/// A training run killed (SIGKILL) 25 times, each time in a fresh folder: inside steps, during
/// evaluation and during checkpoint writes. After every kill the checkpoint on disk loads and
/// evaluates, and `--resume` from exactly what the kill left ends with the weights and optimizer
/// state of a run never interrupted, leaving nothing else in the folder.
final class CrashSafetyTests: XCTestCase {
    /// 25; `OPTLAB_TEST_KILLS` sets fewer where a run is many times slower (ThreadSanitizer).
    private static let kills = ProcessInfo.processInfo.environment["OPTLAB_TEST_KILLS"].flatMap { Int($0) } ?? 25

    /// Where a kill landed, as seen with the run stopped (SIGSTOP) just before it was killed.
    enum Moment: String, CaseIterable {
        case steps, evaluation, checkpointWrite = "checkpoint write", other
    }

    func testEveryKilledRunResumesToTheWeightsOfAnUninterruptedRun() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        // The tutorial net on 256 images, 2 epochs of 16 steps, each followed by a test-set
        // evaluation (10,000 images) and a checkpoint.
        let training = ["train", "--model", "tutorial", "--optimizer", "sgd(lr=0.01,momentum=0.9)", "--epochs", "2",
                        "--train-subset", "256", "--batch-size", "16", "--no-augment", "--threads", "1", "--data", data,
                        "--out", "run.safetensors", "--resume"]
        let straight = try runOptlab(training, in: folder)
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let expected = try tensors(SafeTensors(contentsOf: folder.appendingPathComponent("run.safetensors")))
        let test = try CIFAR10.load(.test, from: URL(fileURLWithPath: data)).prefix(250)

        var random = SeededRandom(seed: 10)  // fixed, so a failing sequence of kill moments replays
        var landed: [Moment: Int] = [:]
        var epochOne: Foundation.Data?  // the checkpoint a kill left after epoch 1: where kills in epoch 2 start
        for kill in 0..<Self.kills {
            let target = [Moment.steps, .evaluation, .checkpointWrite][kill % 3], epoch = 1 + kill / 3 % 2
            let run = folder.appendingPathComponent("kill-\(kill)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: false)
            let checkpoint = run.appendingPathComponent("run.safetensors")
            if epoch == 2, let epochOne { try epochOne.write(to: checkpoint) }
            let moment = try killRun(training, in: run, at: target, epoch: epoch, random: &random)
            landed[moment, default: 0] += 1
            let what = "kill \(kill) (\(moment.rawValue), aimed at the \(target.rawValue) of epoch \(epoch))"
            if FileManager.default.fileExists(atPath: checkpoint.path) {
                // What is on disk is a whole checkpoint: it loads and evaluates.
                let evaluated = try Evaluation.run(checkpoint: checkpoint, model: nil, test: test) { XCTFail("not needed"); return test }
                XCTAssertEqual(evaluated.report.images, 250, what)
                if epochOne == nil, try SafeTensors(contentsOf: checkpoint).metadata["epoch"] == "1" {
                    epochOne = try Foundation.Data(contentsOf: checkpoint)
                }
            }
            // Resumed from exactly what the kill left, the run ends as if never interrupted, and
            // clears what the killed writer left (temporary file, lock file).
            let resumed = try runOptlab(training, in: run)
            XCTAssertEqual(resumed.status, 0, "\(what): \(resumed.stderr)")
            XCTAssertEqual(try tensors(SafeTensors(contentsOf: checkpoint)), expected, what)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: run.path), ["run.safetensors"], what)
            try FileManager.default.removeItem(at: run)
        }
        print("\(Self.kills) kills: " + Moment.allCases.map { "\(landed[$0] ?? 0) in \($0.rawValue)" }.joined(separator: ", "))
        for moment in [Moment.steps, .evaluation, .checkpointWrite] {
            XCTAssertGreaterThanOrEqual(landed[moment] ?? 0, min(3, Self.kills / 6), "too few kills landed in \(moment.rawValue): \(landed)")
        }
    }

    /// Runs optlab in `folder` with its stderr on a terminal, so that it draws its progress bar
    /// (which tells steps, `k/256`, from the evaluation after them, `256/256` not yet erased);
    /// waits for `target` in `epoch`, then a random moment more; stops the run (SIGSTOP) to see
    /// where it is; and kills it (SIGKILL). Returns where it was.
    private func killRun(_ arguments: [String], in folder: URL, at target: Moment, epoch: Int,
                         random: inout SeededRandom) throws -> Moment {
        let terminal = try PseudoTerminal()
        let process = Process()
        process.executableURL = optlabBinary()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = terminal.secondary
        try process.run()
        terminal.closeSecondary()
        let label = "epoch \(epoch)/"
        var seenEpoch = false
        aiming: while process.isRunning {
            let bar = terminal.progress()
            seenEpoch = seenEpoch || bar?.label.hasPrefix(label) == true
            switch target {
            case .steps where bar.map { $0.label.hasPrefix(label) && $0.done < $0.total } == true:
                usleep(UInt32.random(in: 0...20_000, using: &random))
                break aiming
            case .evaluation where bar.map { $0.label.hasPrefix(label) && $0.done == $0.total } == true:
                usleep(UInt32.random(in: 0...300_000, using: &random))
                break aiming
            case .checkpointWrite where seenEpoch && (try? temporaryFiles(in: folder).isEmpty) == false:
                break aiming
            default:
                usleep(target == .checkpointWrite ? 200 : 2_000)  // a write lasts milliseconds
            }
        }
        Foundation.kill(process.processIdentifier, SIGSTOP)
        usleep(20_000)  // what it wrote before it stopped reaches the terminal
        let moment: Moment
        if try !temporaryFiles(in: folder).isEmpty {
            moment = .checkpointWrite
        } else if let bar = terminal.progress() {
            moment = bar.done < bar.total ? .steps : .evaluation
        } else {
            moment = .other  // start-up, between two epochs, or finished
        }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return moment
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
