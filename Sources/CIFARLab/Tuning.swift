import Data
import Foundation
import Optim
import Support

/// Which part of a tuning a run belongs to.
public enum TuningPhase: String, Codable, Sendable {
    /// One learning rate of the grid, validated only: it never loads the test set.
    case trial
    /// A rerun of a chosen rate with a fresh seed, reporting validation and test accuracy.
    case final
}

/// `optlab cifar --tune`: the fair protocol of the optimizer benchmarks (DeepOBS, AlgoPerf). Every
/// optimizer gets a log-spaced learning-rate grid over the same budget; the rate with the best final
/// validation accuracy wins (a diverged trial fails: it is kept, and cannot win); each winner is
/// then rerun with fresh seeds, which report validation and test accuracy. Nothing that chooses
/// reads the test set.
public struct TuningPlan: Codable, Equatable, Sendable {
    /// One optimizer and the rates it tries.
    public struct Candidate: Codable, Equatable, Sendable {
        /// The spec as given; its label names the optimizer in every output.
        public var spec: String
        public var label: String
        /// Ascending.
        public var rates: [Double]
    }

    public var format = TuningFolder.planFormat
    /// Every run's plan but its optimizer and seed; its seed is the trials'.
    public var base: TrainingPlan
    public var candidates: [Candidate]
    /// The finals' seeds: fresh ones (base seed + 1 …), so the winner's score is not the lucky
    /// draw it was chosen for.
    public var seeds: [UInt64]

    /// `range` nil: each spec's `LearningRateFamily` range. Needs a validation split.
    public init(specs: [OptimizerSpec], range: ClosedRange<Double>?, trials: Int, seeds: Int, base: TrainingPlan) throws {
        guard base.validation != nil else { throw SettingError("validation", "is what a tuning chooses by: give it N held-out images (e.g. 5000)") }
        guard trials >= 1 else { throw SettingError("trials", "must be at least 1, got \(trials)") }
        guard seeds >= 1 else { throw SettingError("seeds", "must be at least 1, got \(seeds)") }
        if let range, !(range.lowerBound > 0 && range.upperBound.isFinite) {
            throw SettingError("lr_range", "must be two positive rates A...B with A ≤ B, got \(range)")
        }
        guard !specs.isEmpty else { throw SettingError("tune", "needs at least one optimizer spec") }
        let labels = specs.map(\.label)
        if let repeated = labels.first(where: { label in labels.filter { $0 == label }.count > 1 }) {
            throw SettingError("tune", "names \(repeated) twice: give each spec a distinct label= (e.g. adam(label=adam2))")
        }
        self.base = base
        self.seeds = (1...UInt64(seeds)).map { base.seed + $0 }
        candidates = specs.map { spec in
            Candidate(spec: spec.description, label: spec.label,
                      rates: Self.logSpaced(range ?? spec.learningRateFamily.tuningRange, count: trials))
        }
    }

    /// `count` rates from the range's ends, evenly spaced in log, to three significant digits
    /// (so specs and labels read 0.00215, not 0.0021544346900318843); one rate: the geometric middle.
    public static func logSpaced(_ range: ClosedRange<Double>, count: Int) -> [Double] {
        let (low, high) = (log(range.lowerBound), log(range.upperBound))
        return (0..<count).map { i in
            let rate = exp(count == 1 ? (low + high) / 2 : low + (high - low) * Double(i) / Double(count - 1))
            // Through its decimal text: the double nearest 0.00215, as a literal gives it.
            return Double(String(format: "%.3g", rate))!
        }
    }

    /// The candidates' specs, in order.
    public func specs() throws -> [OptimizerSpec] { try candidates.map { try OptimizerSpec.parse($0.spec) } }

    /// The runs of the grid, optimizer by optimizer and rate by rate, all with the base seed.
    public func trialGrid() throws -> JobGrid {
        JobGrid(runs: try zip(candidates, specs()).flatMap { candidate, spec in
            candidate.rates.map { rate in
                var plan = base
                plan.optimizer = spec.with(learningRate: rate).description
                return JobGrid.Run(label: candidate.label, plan: plan, phase: .trial)
            }
        })
    }

    /// The reruns of the winners (optimizers without one, every trial diverged, have none), seed
    /// by seed as a comparison orders them.
    public func finalGrid(winners: [Tuning.Winner]) throws -> JobGrid {
        JobGrid(runs: try seeds.flatMap { seed in
            try candidates.compactMap { candidate -> JobGrid.Run? in
                guard let rate = winners.first(where: { $0.label == candidate.label })?.trial?.learningRate else { return nil }
                var plan = base
                plan.optimizer = try OptimizerSpec.parse(candidate.spec).with(learningRate: rate).description
                plan.seed = seed
                return JobGrid.Run(label: candidate.label, plan: plan, phase: .final)
            }
        })
    }
}

/// A tuning's folder: `tuning.json` (the plan), `trials/` and, once every trial has ended,
/// `finals/`, each a `JobFolder`: so a local run and a cluster's jobs are the same files, a
/// local run resumes at the trial it was in, and `--collect` reads either.
public struct TuningFolder: Sendable {
    static let planFormat = "optlab-tuning-1"
    public let path: String

    public init(_ path: String) { self.path = URL(fileURLWithPath: path).standardizedFileURL.path }

    public var trials: JobFolder { JobFolder(path + "/trials") }
    public var finals: JobFolder { JobFolder(path + "/finals") }
    var planPath: String { path + "/tuning.json" }

    /// Whether `path` holds a tuning (rather than a comparison's grid).
    public static func holdsTuning(_ path: String) -> Bool { FileManager.default.fileExists(atPath: TuningFolder(path).planPath) }

    /// Writes the plan and the trials' jobs; a folder holding this tuning already is left as it is
    /// (its finished trials count), one holding anything else is refused.
    public func write(_ plan: TuningPlan, optlab: String, data: String, threads: Int?) throws -> JobFolder.WriteOutcome {
        if let saved = try existingPlan() {
            guard saved == plan else {
                throw TrainingError.plan("\(path) holds a different tuning (\(saved.candidates.map(\.label).joined(separator: ", ")) on \(saved.base.model)): choose another folder, or remove it")
            }
        } else {
            if let contents = try? FileManager.default.contentsOfDirectory(atPath: path), !contents.isEmpty {
                throw TrainingError.plan("\(path) is not empty and holds no optlab tuning: choose an empty or new folder")
            }
            try OutputFolder.create(path)
            try AtomicFile.write(try JobFolder.json(plan), to: planPath)
        }
        return try trials.write(try plan.trialGrid(), optlab: optlab, data: data, threads: threads)
    }

    public func existingPlan() throws -> TuningPlan? {
        guard FileManager.default.fileExists(atPath: planPath) else { return nil }
        let plan: TuningPlan = try JobFolder.read(planPath, what: "tuning")
        guard plan.format == Self.planFormat else { throw TrainingError.plan("\(planPath): not an \(Self.planFormat) file") }
        return plan
    }

    /// The finals' jobs for these winners, run as the trials were (the same executable, data and threads).
    public func writeFinals(_ plan: TuningPlan, winners: [Tuning.Winner]) throws -> JobFolder.WriteOutcome {
        let first = try JobRunner.load(trials.jobPath(1))
        guard winners.contains(where: { $0.trial != nil }) else {
            throw TrainingError.plan("every trial of every optimizer diverged: there is no rate to rerun (try a lower --lr-range)")
        }
        return try finals.write(try plan.finalGrid(winners: winners), optlab: first.optlab, data: first.data, threads: first.threads)
    }
}

public enum Tuning {
    /// A finished trial: one optimizer at one rate.
    public struct Trial: Sendable {
        public var run: Comparison.Run
        public var learningRate: Double { run.spec.learningRate }
        /// Final validation accuracy; nil when it diverged (failed).
        public var score: Double? { run.divergedAt == nil ? run.epochs.last?.validationAccuracy : nil }
    }

    /// An optimizer's chosen trial; nil when every trial failed.
    public struct Winner: Sendable {
        public var label: String
        public var trial: Trial?
    }

    /// Per optimizer (in the plan's order), the trial with the best final validation accuracy,
    /// the lower rate on a tie; diverged trials fail and never win.
    public static func winners(_ trials: [Trial], plan: TuningPlan) -> [Winner] {
        plan.candidates.map { candidate in
            let scored = trials.filter { $0.run.label == candidate.label && $0.score != nil }
                .sorted { $0.learningRate < $1.learningRate }
            return Winner(label: candidate.label, trial: scored.max { $0.score! < $1.score! || ($0.score! == $1.score! && $0.learningRate > $1.learningRate) })
        }
    }

    /// What a tuning folder holds: finished trials and finals, and the runs still missing.
    public struct Results {
        public var plan: TuningPlan
        public var trials: [Trial]
        public var missingTrials: [JobCollection.Missing]
        /// nil until every trial has ended and the finals' jobs were written.
        public var finals: JobCollection?

        public init(_ folder: TuningFolder) throws {
            guard let plan = try folder.existingPlan() else { throw TrainingError.plan("\(folder.path) holds no optlab tuning (no tuning.json)") }
            self.plan = plan
            let trials = try JobCollection(folder.trials)
            self.trials = trials.runs.map(Trial.init)
            missingTrials = trials.missing
            finals = FileManager.default.fileExists(atPath: folder.finals.gridPath) ? try JobCollection(folder.finals) : nil
        }

        public var winners: [Winner] { Tuning.winners(trials, plan: plan) }
        public var finalRuns: [Comparison.Run] { finals?.runs ?? [] }
        public var isComplete: Bool { missingTrials.isEmpty && finals.map { $0.missing.isEmpty } == true }
    }

    /// Where a local tuning got to.
    public enum Outcome {
        case finished(Results)
        /// Cancelled in this phase's job `index` (1-based): its checkpoint holds the position.
        case interrupted(phase: TuningPhase, index: Int, epoch: Int, batch: Int)
    }

    /// A job as the caller sees it: phase, 1-based index among that phase's jobs, their count.
    public struct Step: Sendable {
        public var phase: TuningPhase
        public var index: Int
        public var count: Int
        public var job: JobFile
    }

    /// Runs (or resumes) the tuning in `folder` here, job by job: the trials, then the winners'
    /// reruns. Finished jobs are skipped and an interrupted one resumes from its checkpoint, so
    /// calling it again after a cancellation continues at the trial it was in. `test` is asked for
    /// the test set only by the finals. `report` is told when a job has ended.
    public static func run(_ plan: TuningPlan, in folder: TuningFolder, optlab: String, data: String, threads: Int?,
                           train: Dataset, test: () throws -> Dataset,
                           progress: ((Step) -> Trainer.EpochProgress)? = nil, cancellation: Cancellation? = nil,
                           report: (Step, JobRunner.Outcome) -> Void = { _, _ in }) throws -> Outcome {
        _ = try folder.write(plan, optlab: optlab, data: data, threads: threads)
        if let stop = try runJobs(in: folder.trials, phase: .trial, train: train, test: test, progress: progress,
                                  cancellation: cancellation, report: report) { return stop }
        _ = try folder.writeFinals(plan, winners: try Results(folder).winners)
        if let stop = try runJobs(in: folder.finals, phase: .final, train: train, test: test, progress: progress,
                                  cancellation: cancellation, report: report) { return stop }
        return .finished(try Results(folder))
    }

    /// Runs every job of `jobs` here (`JobFolder.runHere`); the interruption, or nil when all have ended.
    private static func runJobs(in jobs: JobFolder, phase: TuningPhase, train: Dataset, test: () throws -> Dataset,
                                progress: ((Step) -> Trainer.EpochProgress)?, cancellation: Cancellation?,
                                report: (Step, JobRunner.Outcome) -> Void) throws -> Outcome? {
        guard try jobs.existingGrid() != nil else { return nil }
        func step(_ s: JobFolder.Step) -> Step { Step(phase: phase, index: s.index, count: s.count, job: s.job) }
        let stop = try jobs.runHere(train: train, test: test, progress: progress.map { progress in { progress(step($0)) } },
                                    cancellation: cancellation, report: { report(step($0), $1) })
        return stop.map { .interrupted(phase: phase, index: $0.index, epoch: $0.epoch, batch: $0.batch) }
    }
}

extension Tuning {
    /// `phase,optimizer,lr,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_acc,seconds,diverged`: a row per
    /// epoch of every trial and final (`test_acc` empty for trials, which never read it); a diverged
    /// run ends with a row for the epoch it diverged in, its metrics `nan` and `diverged` 1.
    public static func csv(_ results: Results) -> CSVTable {
        var table = CSVTable(header: ["phase", "optimizer", "lr", "seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                      "test_acc", "seconds", "diverged"])
        func optional(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        for (phase, runs) in [(TuningPhase.trial, results.trials.map(\.run)), (.final, results.finalRuns)] {
            for run in runs {
                for m in run.epochs {
                    table.append([phase.rawValue, run.label, run.spec.learningRate, run.seed, m.epoch, m.trainLoss, m.trainAccuracy,
                                  optional(m.validationLoss), optional(m.validationAccuracy), optional(m.testAccuracy), m.seconds, 0])
                }
                if let d = run.divergedAt {
                    table.append([phase.rawValue, run.label, run.spec.learningRate, run.seed, d.epoch, "nan", "nan", "nan", "nan",
                                  phase == .final ? "nan" : "", d.seconds, 1])
                }
            }
        }
        return table
    }

    /// The target of the time-to-target measure when none is given: the lowest final validation
    /// accuracy of the reruns that finished, floored to a whole percent, so every tuned optimizer
    /// has a time (a diverged rerun has none).
    public static func defaultTarget(_ results: Results) -> Double? {
        results.finalRuns.filter { $0.divergedAt == nil }.compactMap(\.epochs.last?.validationAccuracy).min().map { floor(100 * $0) / 100 }
    }

    /// Mean, sample standard deviation, min and max; nil for no values.
    static func spread(_ values: [Double]) -> (mean: Double, sd: Double, min: Double, max: Double)? {
        guard let low = values.min(), let high = values.max() else { return nil }
        let mean = Comparison.mean(values)
        let sd = values.count > 1 ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
        return (mean, sd, low, high)
    }

    /// One row per optimizer: `optimizer,lr,trials,diverged_trials,best_trial_val_acc,seeds,diverged_finals,val_acc,val_acc_sd,
    /// test_acc,test_acc_sd,test_acc_min,test_acc_max,minutes,target,epochs_to_target,seconds_to_target` (`lr` empty when
    /// every trial diverged; accuracies over the finals that finished; time to target as `Comparison.timeToTarget`).
    public static func summaryCSV(_ results: Results, target: Double?) -> CSVTable {
        var table = CSVTable(header: ["optimizer", "lr", "trials", "diverged_trials", "best_trial_val_acc", "seeds", "diverged_finals",
                                      "val_acc", "val_acc_sd", "test_acc", "test_acc_sd", "test_acc_min", "test_acc_max", "minutes",
                                      "target", "epochs_to_target", "seconds_to_target"])
        for row in rows(results, target: target) {
            func optional(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
            table.append([row.label, optional(row.winner?.learningRate), row.trials.count, row.trials.filter { $0.score == nil }.count,
                          optional(row.winner?.score), row.finals.count, row.finals.filter { $0.divergedAt != nil }.count,
                          optional(row.validation?.mean), optional(row.validation?.sd), optional(row.test?.mean), optional(row.test?.sd),
                          optional(row.test?.min), optional(row.test?.max), row.minutes,
                          optional(target), optional(row.reached?.epoch), optional(row.reached?.seconds)])
        }
        return table
    }

    /// The summary table: per optimizer the chosen rate, its trials (diverged ones counted as
    /// failed), the finals' validation and test accuracy (mean ± sample s.d. over seeds), the time
    /// to target and the minutes its trials and finals took in all.
    public static func summary(_ results: Results, target: Double?) -> String {
        let rows = rows(results, target: target)
        let width = max(9, rows.map(\.label.count).max() ?? 0)
        func pad(_ text: String, _ n: Int) -> String { text.padding(toLength: max(n, text.count), withPad: " ", startingAt: 0) }
        func accuracy(_ s: (mean: Double, sd: Double, min: Double, max: Double)?) -> String {
            s.map { String(format: "%.2f ± %.2f %%", 100 * $0.mean, 100 * $0.sd) } ?? "—"
        }
        let targetHeader = target.map { String(format: "  to %.4g %% val acc", 100 * $0) } ?? ""
        var lines = [pad("optimizer", width) + "  chosen lr  trials (failed)  val acc           test acc          minutes" + targetHeader]
        for row in rows {
            let rate = row.winner.map { String(format: "%g", $0.learningRate) } ?? "none"
            let failed = row.trials.filter { $0.score == nil }.count
            let finalsFailed = row.finals.filter { $0.divergedAt != nil }.count
            var line = pad(row.label, width) + "  " + pad(rate, 9) + "  " + pad("\(row.trials.count) (\(failed))", 14) + "  "
                + pad(accuracy(row.validation), 16) + "  " + pad(accuracy(row.test) + (finalsFailed > 0 ? ", \(finalsFailed) diverged" : ""), 16)
                + "  " + pad(String(format: "%.1f", row.minutes), 7)
            if target != nil {
                line += "  " + (row.reached.map { String(format: "epoch %g, %.0f s", $0.epoch, $0.seconds) } ?? "not reached")
            }
            lines.append(line.trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: "\n")
    }

    /// An optimizer's line of the summary.
    struct Row {
        var label: String
        var trials: [Trial]
        var winner: Trial?
        var finals: [Comparison.Run]
        var validation, test: (mean: Double, sd: Double, min: Double, max: Double)?
        var reached: (epoch: Double, seconds: Double)?

        /// Wall-clock minutes of all its trials and reruns, up to where each ended.
        var minutes: Double {
            let runs = trials.map(\.run) + finals
            return Comparison.minutes(runs) * Double(runs.count)
        }
    }

    static func rows(_ results: Results, target: Double?) -> [Row] {
        results.winners.map { winner in
            let finals = results.finalRuns.filter { $0.label == winner.label }
            let finished = finals.filter { $0.divergedAt == nil }.compactMap(\.epochs.last)
            return Row(label: winner.label, trials: results.trials.filter { $0.run.label == winner.label }, winner: winner.trial,
                       finals: finals, validation: spread(finished.compactMap(\.validationAccuracy)),
                       test: spread(finished.compactMap(\.testAccuracy)),
                       reached: target.flatMap { finals.isEmpty ? nil : Comparison.timeToTarget(finals, target: $0) })
        }
    }
}
