import CIFARFigures
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
        guard case .finished(let local) = try Comparison.run(grid, in: try folder(), optlab: "/opt/optlab", data: "/data/cifar", threads: nil,
                                                             train: train, test: { test }) else { return XCTFail("expected a local run") }
        func rows(_ runs: [Comparison.Run]) -> [String] {
            Comparison.csv(runs, validation: grid.runs[0].plan.validation).rows.map { row in
                row.enumerated().filter { $0.offset != 9 }.map(\.element).joined(separator: ",")  // column 9: seconds
            }
        }
        XCTAssertEqual(rows(collected.runs), rows(local))
        XCTAssertEqual(rows(collected.runs).count, 2)
    }

    /// A local comparison cut mid-way through its second run: the same call skips the first,
    /// continues the second from its checkpoint, and its outputs equal an uninterrupted run's
    /// (the figure drawn with the seconds, which differ, set alike); another grid is refused.
    func testAnInterruptedLocalComparisonResumesToTheUninterruptedOutputs() throws {
        let (train, test) = try Self.splits.get()
        let grid = try grid("sgd(lr=0.05,momentum=0.9),adam", epochs: 2)
        var trained: [Int] = []  // the runs that ended in a call
        func compare(in jobs: JobFolder, cancelAfter steps: Int? = nil) throws -> Comparison.Outcome {
            let cancellation = Cancellation()
            // One observer across runs, so `steps` counts from the comparison's start.
            let observer: any ProgressObserver = steps.map { CancelAfter(steps: $0, cancellation) } ?? NoProgress()
            return try Comparison.run(grid, in: jobs, optlab: "/opt/optlab", data: "/data/cifar", threads: nil, train: train, test: { test },
                                      progress: { _ in { _, _, _ in observer } }, cancellation: cancellation, report: { step, outcome in
                if case .finished = outcome { trained.append(step.index) }
            })
        }
        guard case .finished(let straight) = try compare(in: try folder()) else { return XCTFail("expected the comparison to finish") }
        let cut = try folder()
        // 20 steps are run 1's two epochs; the 34th stops run 2 in its second epoch, before batch 4.
        guard case .interrupted(let stop) = try compare(in: cut, cancelAfter: 33) else { return XCTFail("expected an interruption") }
        XCTAssertEqual(stop, JobFolder.Interruption(index: 2, epoch: 2, batch: 3))
        XCTAssertFalse(JobRunner.isDone(cut.jobPath(2)))
        trained = []
        guard case .finished(let resumed) = try compare(in: cut) else { return XCTFail("expected the resumed comparison to finish") }
        XCTAssertEqual(trained, [2], "run 1 is not trained again, run 2 ends")

        func withoutSeconds(_ table: CSVTable, _ columns: [String]) -> [[String]] {
            let dropped = Set(columns.compactMap { table.header.firstIndex(of: $0) })
            return ([table.header] + table.rows).map { $0.enumerated().filter { !dropped.contains($0.offset) }.map(\.element) }
        }
        let validation = grid.runs[0].plan.validation
        XCTAssertEqual(withoutSeconds(Comparison.csv(resumed, validation: validation), ["seconds"]),
                       withoutSeconds(Comparison.csv(straight, validation: validation), ["seconds"]), "bit-exact metrics")
        XCTAssertEqual(withoutSeconds(Comparison.summaryCSV(resumed, target: 0.1), ["minutes", "seconds_to_target"]),
                       withoutSeconds(Comparison.summaryCSV(straight, target: 0.1), ["minutes", "seconds_to_target"]))
        XCTAssert(resumed[1].epochs[1].seconds > resumed[1].epochs[0].seconds, "the cut run's seconds continue from its checkpoint")
        func figure(_ runs: [Comparison.Run]) throws -> Data {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).png").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let timed = runs.map { run in
                var run = run
                run.epochs = run.epochs.map { var m = $0; m.seconds = Double(m.epoch); return m }
                return run
            }
            try ComparisonFigure.make(timed, model: "tutorial", target: 0.1).save(to: path)
            return try Data(contentsOf: URL(fileURLWithPath: path))
        }
        XCTAssertEqual(try figure(resumed), try figure(straight), "the figure byte for byte, but for the seconds")

        XCTAssertThrowsError(try Comparison.run(try self.grid("sgd"), in: cut, optlab: "/opt/optlab", data: "/data/cifar", threads: nil,
                                                train: train, test: { test })) {
            XCTAssert("\($0)".contains("holds a different grid (2 runs: tutorial, sgd(lr=0.05,momentum=0.9), adam)"), "\($0)")
        }
    }
}
