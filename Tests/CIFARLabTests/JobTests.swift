import Data
import Foundation
import Optim
import Support
import XCTest
@testable import CIFARLab

/// Grids as job folders: the files, idempotent and resumable jobs, and collecting them.
final class JobTests: XCTestCase {
    private static let splits: Result<(train: Dataset, test: Dataset), Error> = Result {
        let folder = try DataLocation.find(option: nil).folder
        return (try CIFAR10.load(.train, from: folder), try CIFAR10.load(.test, from: folder).prefix(300))
    }

    private func folder() throws -> JobFolder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-jobs-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return JobFolder(url.path)
    }

    /// Tutorial net, 320 images in 10 batches of 32, validation on 100 held-out images.
    private func grid(_ specs: String, seeds: [UInt64] = [0], epochs: Int = 1) throws -> JobGrid {
        let plan = TrainingPlan(model: "tutorial", optimizer: "sgd", epochs: epochs, batchSize: 32, trainSubset: 320,
                                validation: try ValidationSplit(count: 100), augment: false, normalization: .tutorial)
        return JobGrid.comparison(try OptimizerSpec.parseList(specs), seeds: seeds, plan: plan)
    }

    /// Runs the job; `epochs` gets the epochs this session trained.
    private func run(_ path: String, cancellation: Cancellation? = nil, after steps: Int = 0,
                     epochs: (Int) -> Void = { _ in }) throws -> JobRunner.Outcome {
        let (train, test) = try Self.splits.get()
        // One observer across epochs, so `steps` counts from the run's start.
        let observer = cancellation.map { CancelAfter(steps: steps, $0) }
        let progress: Trainer.EpochProgress? = observer.map { observer in { _, _, _ in observer } }
        return try JobRunner.run(path, train: train, test: { test }, progress: progress, cancellation: cancellation,
                                 interruption: { "SIGTERM" }) { epochs($0.epoch) }
    }

    private func withoutSeconds(_ epochs: [EpochMetrics]) -> [EpochMetrics] {
        epochs.map { var m = $0; m.seconds = 0; return m }
    }

    func testJobFilesRoundTripAndAFolderHoldsOneGrid() throws {
        let jobs = try folder()
        let grid = try grid("sgd(lr=0.05),adam", seeds: [4, 5])
        XCTAssertEqual(try jobs.write(grid, optlab: "/opt/optlab", data: "/data/cifar", threads: 2), .written(runs: 4))
        let third = try JobRunner.load(jobs.jobPath(3))
        XCTAssertEqual(third, JobFile(index: 3, label: "sgd(lr=0.05)", plan: grid.runs[2].plan, optlab: "/opt/optlab",
                                      data: "/data/cifar", threads: 2))
        XCTAssertEqual(third.plan.seed, 5)
        XCTAssertEqual(third.plan.optimizer, "sgd(lr=0.05)")
        let commands = try String(contentsOfFile: jobs.commandsPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(commands.count, 4)
        XCTAssertEqual(commands[3], "'/opt/optlab' job '\(jobs.jobPath(4))'")
        let sbatch = try String(contentsOfFile: jobs.sbatchPath, encoding: .utf8)
        XCTAssert(sbatch.contains("#SBATCH --array=1-4\n"), sbatch)
        XCTAssert(sbatch.contains("#SBATCH --cpus-per-task=2\n"), sbatch)

        XCTAssertEqual(try jobs.write(grid, optlab: "/elsewhere/optlab", data: "/data/cifar"), .unchanged(done: 0, runs: 4))
        XCTAssertEqual(try JobRunner.load(jobs.jobPath(1)).optlab, "/opt/optlab", "the same grid again writes nothing")
        XCTAssertThrowsError(try jobs.write(try self.grid("sgd(lr=0.05)"), optlab: "/opt/optlab", data: "/data/cifar")) {
            XCTAssert("\($0)".contains("holds a different grid (4 runs: tutorial, sgd(lr=0.05), adam)"), "\($0)")
        }
    }

    /// Stopped mid-epoch (as SIGTERM at a time limit does), a job resumes from its checkpoint to the
    /// metrics of an uninterrupted run; once finished, running it again does nothing.
    func testAnInterruptedJobResumesAndAFinishedOneIsSkipped() throws {
        let jobs = try folder()
        let grid = try grid("adam", epochs: 2)
        _ = try jobs.write(grid, optlab: "/opt/optlab", data: "/data/cifar")
        let path = jobs.jobPath(1)

        XCTAssertEqual(try run(path, cancellation: Cancellation(), after: 13), .interrupted(epoch: 2, batch: 3))
        let stopped = try JobCollection(jobs).missing
        XCTAssertEqual(stopped.map(\.index), [1])
        XCTAssert(stopped[0].reason.hasPrefix("stopped by SIGTERM in epoch 2 before batch 4"), stopped[0].reason)

        try withExtendedLifetime(PathLock(path)) {  // as a first submission of the task, still running, holds it
            XCTAssertThrowsError(try run(path), "a job runs in one process at a time") {
                XCTAssert("\($0)".contains("'\(path)' is in use by another optlab process (pid \(getpid()))"), "\($0)")
            }
        }

        var trained: [Int] = []
        guard case .finished(let resumed) = try run(path, epochs: { trained.append($0) }) else { return XCTFail("expected the run to finish") }
        XCTAssertEqual(trained, [2], "resumed in epoch 2, not started again")
        let (train, test) = try Self.splits.get()
        let straight = try Trainer(grid.runs[0].plan, train: train, test: test)
        XCTAssertEqual(try straight.run(checkpoint: nil) { _ in }, .finished)
        XCTAssertEqual(withoutSeconds(resumed.epochs), withoutSeconds(straight.history))

        let result = JobRunner.resultPath(path)
        let written = try FileManager.default.attributesOfItem(atPath: result)[.modificationDate] as? Date
        XCTAssertEqual(try run(path), .alreadyDone)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: result)[.modificationDate] as? Date, written)
    }

    /// A partly finished grid lists what is missing; finished, it is the local comparison, diverged
    /// run included, but for the seconds.
    func testCollectListsMissingRunsThenEqualsALocalComparison() throws {
        let jobs = try folder()
        let specs = try OptimizerSpec.parseList("sgd(lr=0.05),sgd(lr=1e30)")
        let grid = try grid("sgd(lr=0.05),sgd(lr=1e30)")
        _ = try jobs.write(grid, optlab: "/opt/optlab", data: "/data/cifar")

        guard case .finished(let diverged) = try run(jobs.jobPath(2)) else { return XCTFail("expected a result") }
        XCTAssertEqual(diverged.diverged?.epoch, 1)
        let partial = try JobCollection(jobs)
        XCTAssertEqual(partial.runs.map(\.label), ["sgd(lr=1e30)"])
        XCTAssertEqual(partial.missing, [JobCollection.Missing(index: 1, label: "sgd(lr=0.05)", seed: 0, reason: "not started")])

        _ = try run(jobs.jobPath(1))
        let collected = try JobCollection(jobs)
        XCTAssert(collected.missing.isEmpty)
        let (train, test) = try Self.splits.get()
        let local = try Comparison.run(specs, seeds: [0], plan: grid.runs[0].plan, train: train, test: test) { _ in }
        func rows(_ runs: [Comparison.Run]) -> [String] {
            Comparison.csv(runs, validation: grid.runs[0].plan.validation).rows.map { row in
                row.enumerated().filter { $0.offset != 9 }.map(\.element).joined(separator: ",")  // column 9: seconds
            }
        }
        XCTAssertEqual(rows(collected.runs), rows(local))
        XCTAssertEqual(rows(collected.runs).count, 2)
    }
}
