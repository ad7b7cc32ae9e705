import Data
import Foundation
import Optim
import Support
import XCTest
@testable import CIFARLab

/// `optlab cifar --tune`: rate grids, choosing by validation, failed trials, the test set kept
/// out of the trials, resuming mid-tune, and the CSV.
final class TuningTests: XCTestCase {
    private static let train: Result<Dataset, Error> = Result {
        try CIFAR10.load(.train, from: try DataLocation.find(option: nil).folder)
    }

    private func folder() -> TuningFolder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-tune-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return TuningFolder(url.path)
    }

    /// Tutorial net, 1 epoch of 320 images in 10 batches of 32, validated on 100 held-out images;
    /// sgd tries 0.01 and 0.05, adam 1e-3 and 1e6 (which diverges); one rerun seed.
    private func plan() throws -> TuningPlan {
        let base = TrainingPlan(model: "tutorial", optimizer: "sgd", epochs: 1, batchSize: 32, seed: 3, trainSubset: 320,
                                validation: try ValidationSplit(count: 100), augment: false, normalization: .tutorial)
        var plan = try TuningPlan(specs: OptimizerSpec.parseList("sgd(momentum=0.9),adam"), range: nil, trials: 2, seeds: 1, base: base)
        plan.candidates[0].rates = [0.01, 0.05]
        plan.candidates[1].rates = [1e-3, 1e6]
        return plan
    }

    private func trial(_ spec: String, label: String, accuracies: [Double], diverged: Bool = false) throws -> Tuning.Trial {
        var spec = try OptimizerSpec.parse(spec)
        spec.label = label
        var run = Comparison.Run(spec: spec, seed: 0)
        run.epochs = accuracies.enumerated().map { e, accuracy in
            EpochMetrics(epoch: e + 1, trainLoss: 1, trainAccuracy: accuracy, validationLoss: 1, validationAccuracy: accuracy,
                         testLoss: nil, testAccuracy: nil, seconds: Double(10 * (e + 1)))
        }
        if diverged { run.divergedAt = (accuracies.count + 1, 3, 25) }
        return Tuning.Trial(run: run)
    }

    func testGridsAreLogSpacedWithEachFamilysDefaultRange() throws {
        XCTAssertEqual(TuningPlan.logSpaced(1e-4...1, count: 5), [0.0001, 0.001, 0.01, 0.1, 1])
        XCTAssertEqual(TuningPlan.logSpaced(1e-4...1, count: 4), [1e-4, 0.00215, 0.0464, 1])
        XCTAssertEqual(TuningPlan.logSpaced(1e-4...1e-2, count: 1), [1e-3])
        let base = TrainingPlan(model: "tutorial", optimizer: "sgd", epochs: 1, batchSize: 32, validation: try ValidationSplit(count: 100),
                                augment: false, normalization: .tutorial)
        let specs = try OptimizerSpec.parseList("sgd(momentum=0.9,nesterov=true),adamw,lion,sam(base=sgd),adamw_schedulefree,prodigy")
        let plan = try TuningPlan(specs: specs, range: nil, trials: 3, seeds: 2, base: base)
        XCTAssertEqual(plan.candidates.map { $0.rates.first! }, [1e-4, 1e-5, 1e-6, 1e-4, 1e-5, 1e-2])
        XCTAssertEqual(plan.candidates.map { $0.rates.last! }, [1, 0.1, 0.01, 1, 0.1, 10])
        XCTAssertEqual(plan.seeds, [1, 2], "reruns take fresh seeds")
        XCTAssertEqual(try TuningPlan(specs: specs, range: 0.01...0.1, trials: 2, seeds: 1, base: base).candidates[2].rates, [0.01, 0.1])
        var unvalidated = base
        unvalidated.validation = nil
        XCTAssertThrowsError(try TuningPlan(specs: specs, range: nil, trials: 3, seeds: 1, base: unvalidated))
        XCTAssertThrowsError(try TuningPlan(specs: specs + specs.prefix(1), range: nil, trials: 3, seeds: 1, base: base))
    }

    func testTheBestFinalValidationAccuracyWinsAndDivergedTrialsFail() throws {
        let plan = try self.plan()
        let trials = [
            try trial("sgd(lr=0.01,momentum=0.9)", label: "sgd(momentum=0.9)", accuracies: [0.3, 0.4]),
            // Best before it diverged: a failed trial, kept but never chosen.
            try trial("sgd(lr=1000000,momentum=0.9)", label: "sgd(momentum=0.9)", accuracies: [0.6], diverged: true),
            // Best in an earlier epoch but not at the end: the final epoch decides.
            try trial("adam(lr=0.001)", label: "adam", accuracies: [0.7, 0.5]),
            try trial("adam(lr=0.01)", label: "adam", accuracies: [0.4, 0.55]),
        ]
        let winners = Tuning.winners(trials, plan: plan)
        XCTAssertEqual(winners.map(\.label), ["sgd(momentum=0.9)", "adam"])
        XCTAssertEqual(winners.map { $0.trial?.learningRate }, [0.01, 0.01])
        XCTAssertNil(trials[1].score)

        let failed = Tuning.winners(Array(trials[1...]), plan: plan)
        XCTAssertNil(failed[0].trial, "every trial of sgd diverged: no winner")
        XCTAssertEqual(try plan.finalGrid(winners: failed).runs.map(\.label), ["adam"], "and no rerun")
        let reruns = try plan.finalGrid(winners: winners).runs
        XCTAssertEqual(reruns.map(\.plan.optimizer), ["sgd(lr=0.01,momentum=0.9)", "adam(lr=0.01)"])
        XCTAssertEqual(reruns.map(\.plan.seed), [4, 4])
        XCTAssertEqual(reruns.map(\.phase), [.final, .final])
    }

    /// A whole tuning on a small slice, interrupted in its second trial and resumed there: the
    /// test set is asked for only once the reruns start, the diverged trial is kept as failed,
    /// and the CSV has a row for every epoch of every run.
    func testTrialsNeverReadTheTestSetAndATuningResumesAtItsTrial() throws {
        let train = try Self.train.get()
        let testSet = try CIFAR10.load(.test, from: try DataLocation.find(option: nil).folder).prefix(200)
        let plan = try self.plan()
        let tuning = folder()
        var log: [String] = []
        let test: () throws -> Dataset = {
            log.append("test set read")
            return testSet
        }
        func run(cancelAfter steps: Int? = nil) throws -> Tuning.Outcome {
            let cancellation = Cancellation()
            // One observer across jobs, so `steps` counts from the tuning's start.
            let observer: any ProgressObserver = steps.map { CancelAfter(steps: $0, cancellation) } ?? NoProgress()
            return try Tuning.run(plan, in: tuning, optlab: "/opt/optlab", data: "/data", threads: nil, train: train, test: test,
                                  progress: { _ in { _, _, _ in observer } },
                                  cancellation: cancellation) { step, _ in log.append("\(step.phase) \(step.index) ended") }
        }
        // 10 steps finish trial 1; the 14th stops trial 2 before its 5th batch.
        guard case .interrupted(.trial, 2, 1, 4) = try run(cancelAfter: 14) else { return XCTFail("expected an interruption in trial 2") }
        XCTAssertFalse(log.contains("test set read"))
        XCTAssert(FileManager.default.fileExists(atPath: JobRunner.checkpointPath(tuning.trials.jobPath(2))))
        log = []
        guard case .finished(let results) = try run() else { return XCTFail("expected the tuning to finish") }
        XCTAssertEqual(log.filter { $0.hasSuffix("ended") },
                       ["trial 1 ended", "trial 2 ended", "trial 3 ended", "trial 4 ended", "final 1 ended", "final 2 ended"],
                       "trial 1 again is skipped at once, trial 2 resumes")
        XCTAssertEqual(log.firstIndex(of: "test set read"), log.firstIndex(of: "trial 4 ended")! + 1, "read by the reruns only")

        XCTAssertEqual(results.trials.count, 4)
        XCTAssertNotNil(results.trials[3].run.divergedAt, "adam at 1e6 diverges and is kept")
        XCTAssert(results.trials.allSatisfy { $0.run.epochs.allSatisfy { $0.testAccuracy == nil && $0.validationAccuracy != nil } })
        XCTAssertEqual(results.winners.map { $0.trial?.learningRate }[1], 1e-3, "the diverged rate cannot win")
        XCTAssertEqual(results.finalRuns.map(\.seed), [4, 4])
        XCTAssert(results.finalRuns.allSatisfy { $0.epochs.last?.testAccuracy != nil })

        let rows = CSVTable.parse(Tuning.csv(results).text)
        XCTAssertEqual(rows[0], ["phase", "optimizer", "lr", "seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                 "test_acc", "seconds", "diverged"])
        let body = rows.dropFirst().filter { $0.count > 1 }
        XCTAssertEqual(body.map { $0[0] }, ["trial", "trial", "trial", "trial", "final", "final"])
        XCTAssertEqual(body[3][2], "1000000.0")
        XCTAssertEqual(body[3][11], "1", "the diverged trial, marked")
        XCTAssertEqual(body.map { $0[11] }.filter { $0 == "1" }.count, 1)
        XCTAssertEqual(body.filter { $0[0] == "trial" }.map { $0[9] }, ["", "", "", ""], "no test accuracy for trials")
        XCTAssert(body.filter { $0[0] == "final" }.allSatisfy { Double($0[9]) != nil })

        // The same command again: nothing left to run, the same results.
        log = []
        guard case .finished(let again) = try run() else { return XCTFail("expected the finished tuning") }
        XCTAssertEqual(Tuning.csv(again).text, Tuning.csv(results).text)
        XCTAssertThrowsError(try tuning.write(try self.plan().with(seeds: 2), optlab: "/opt/optlab", data: "/data", threads: nil),
                             "a different tuning in the folder is refused")
    }
}

/// Reports nothing.
struct NoProgress: ProgressObserver {
    func advance(by count: Int) {}
    func finish() {}
}

private extension TuningPlan {
    func with(seeds: Int) throws -> TuningPlan {
        var copy = self
        copy.seeds = (1...UInt64(seeds)).map { base.seed + $0 }
        return copy
    }
}
