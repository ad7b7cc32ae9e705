import Data
import Foundation
import Optim
import Support

/// `optlab cifar --compare sgd,adam`: one training run per optimizer (and seed) from identical
/// initial weights and identical data order, so the optimizer is the only difference.
public enum Comparison {
    /// One optimizer's run with one seed.
    public struct Run: Sendable {
        public let spec: OptimizerSpec
        public let seed: UInt64
        public var epochs: [EpochMetrics] = []
        /// Set when the loss became non-finite: the epoch and batch (1-based) where it happened.
        public var divergedAt: (epoch: Int, batch: Int, seconds: Double)?

        public init(spec: OptimizerSpec, seed: UInt64) {
            self.spec = spec
            self.seed = seed
        }

        /// The spec's label: what the CSV, the summary and the legend call the run.
        public var label: String { spec.label }
        public var finalAccuracy: Double? { divergedAt == nil ? epochs.last?.testAccuracy : nil }

        /// The first epoch whose validation accuracy reaches `target` (AlgoPerf's time to target),
        /// with the wall-clock seconds at its end; nil if none does.
        public func reaching(_ target: Double) -> (epoch: Int, seconds: Double)? {
            epochs.first { ($0.validationAccuracy ?? -.infinity) >= target }.map { ($0.epoch, $0.seconds) }
        }
    }

    /// Time to target of one optimizer: the median over its seeds of the epoch and the seconds at
    /// which validation accuracy first reached the target, a seed that never did counting as
    /// infinitely late (so more than half the seeds must reach it); nil when the median is not reached.
    public static func timeToTarget(_ group: [Run], target: Double) -> (epoch: Double, seconds: Double)? {
        let reached = group.map { $0.reaching(target) }
        guard let epoch = median(reached.map { $0.map { Double($0.epoch) } ?? .infinity }), epoch.isFinite,
              let seconds = median(reached.map { $0?.seconds ?? .infinity }), seconds.isFinite else { return nil }
        return (epoch, seconds)
    }

    /// The middle value (the mean of the middle two for an even count); nil for none.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Where a local comparison got to.
    public enum Outcome {
        /// Every run has ended (diverged ones included), in the grid's order.
        case finished([Run])
        case interrupted(JobFolder.Interruption)
    }

    /// Runs (or resumes) a comparison's grid here, its state in `folder`: the grid's job files
    /// (naming `optlab`, `data` and `threads` as `--jobs` does), each run's checkpoint and result.
    /// Run by run as `JobFolder.runHere`: after a cancellation the same call skips the finished runs
    /// and continues the cut one from its checkpoint. A folder holding another grid is refused.
    public static func run(_ grid: JobGrid, in folder: JobFolder, optlab: String, data: String, threads: Int?,
                           train: Dataset, test: () throws -> Dataset,
                           progress: ((JobFolder.Step) -> Trainer.EpochProgress)? = nil, cancellation: Cancellation? = nil,
                           epochReport: (JobFolder.Step, EpochMetrics) -> Void = { _, _ in },
                           report: (JobFolder.Step, JobRunner.Outcome) -> Void = { _, _ in }) throws -> Outcome {
        _ = try folder.write(grid, optlab: optlab, data: data, threads: threads)
        if let stop = try folder.runHere(train: train, test: test, progress: progress, cancellation: cancellation,
                                         epochReport: epochReport, report: report) {
            return .interrupted(stop)
        }
        return .finished(try JobCollection(folder).runs)
    }

    /// The comparison's runs in order, seed by seed and every spec with each: `plan` with the
    /// spec's optimizer and the seed. One list for a local run and for its jobs (`JobGrid`).
    public static func grid(_ specs: [OptimizerSpec], seeds: [UInt64], plan: TrainingPlan) -> [(spec: OptimizerSpec, plan: TrainingPlan)] {
        seeds.flatMap { seed in
            specs.map { spec in
                var runPlan = plan
                runPlan.optimizer = spec.description
                runPlan.seed = seed
                return (spec, runPlan)
            }
        }
    }

    /// `optimizer,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,val_images`
    /// (`val_*` empty and `val_images` 0 without a validation split); a diverged run ends with a row
    /// for the epoch it diverged in, its metrics `nan`.
    public static func csv(_ runs: [Run], validation: ValidationSplit? = nil) -> CSVTable {
        var table = CSVTable(header: ["optimizer", "seed", "epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                      "test_loss", "test_acc", "seconds", "val_images"])
        let held = validation?.count ?? 0
        for run in runs {
            for m in run.epochs {
                table.append([run.label, run.seed, m.epoch, m.trainLoss, m.trainAccuracy, m.validationLoss.map { "\($0)" } ?? "",
                              m.validationAccuracy.map { "\($0)" } ?? "", m.testLoss.map { "\($0)" } ?? "", m.testAccuracy.map { "\($0)" } ?? "", m.seconds, held])
            }
            if let d = run.divergedAt {
                let missing = held > 0 ? "nan" : ""
                table.append([run.label, run.seed, d.epoch, "nan", "nan", missing, missing, "nan", "nan", d.seconds, held])
            }
        }
        return table
    }

    /// The runs of each optimizer, in the order the specs were given.
    public static func grouped(_ runs: [Run]) -> [(label: String, runs: [Run])] {
        var order: [String] = []
        var groups: [String: [Run]] = [:]
        for run in runs {
            if groups[run.label] == nil { order.append(run.label) }
            groups[run.label, default: []].append(run)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// One row per optimizer, as the summary prints it: `optimizer,runs,diverged,val_acc,test_acc,
    /// train_loss,minutes,target,epochs_to_target,seconds_to_target` (means over the finished runs;
    /// time to target as `timeToTarget`, empty when not reached or no target was set).
    public static func summaryCSV(_ runs: [Run], target: Double? = nil) -> CSVTable {
        var table = CSVTable(header: ["optimizer", "runs", "diverged", "val_acc", "test_acc", "train_loss", "minutes",
                                      "target", "epochs_to_target", "seconds_to_target"])
        for (label, group) in grouped(runs) {
            let finished = group.filter { $0.divergedAt == nil }.compactMap(\.epochs.last)
            let validation = finished.compactMap(\.validationAccuracy)
            func average(_ values: [Double]) -> String { values.isEmpty ? "" : "\(mean(values))" }
            let reached = target.flatMap { timeToTarget(group, target: $0) }
            table.append([label, group.count, group.count - finished.count, average(validation), average(finished.compactMap(\.testAccuracy)),
                          average(finished.map(\.trainLoss)), minutes(group),
                          target.map { "\($0)" } ?? "", reached.map { "\($0.epoch)" } ?? "", reached.map { "\($0.seconds)" } ?? ""])
        }
        return table
    }

    /// One line per optimizer: final test accuracy (mean, and min–max over seeds), best epoch's
    /// accuracy, final training loss and time; with a target, the median epoch and seconds at
    /// which validation accuracy reached it.
    public static func summary(_ runs: [Run], target: Double? = nil) -> String {
        let groups = grouped(runs)
        let width = max(9, groups.map(\.label.count).max() ?? 0)
        func pad(_ text: String, _ n: Int) -> String { text.padding(toLength: max(n, text.count), withPad: " ", startingAt: 0) }
        let targetHeader = target.map { String(format: "  to %.4g %% val acc", 100 * $0) } ?? ""
        var lines = [pad("optimizer", width) + "  final test acc          best test acc  final train loss  minutes" + targetHeader]
        for (label, group) in groups {
            let finished = group.compactMap(\.finalAccuracy)
            let diverged = group.filter { $0.divergedAt != nil }.count
            var accuracy = finished.isEmpty ? "diverged" : String(format: "%.2f %%", 100 * mean(finished))
            if finished.count > 1 { accuracy += String(format: " (%.1f–%.1f)", 100 * finished.min()!, 100 * finished.max()!) }
            if diverged > 0 && !finished.isEmpty { accuracy += ", \(diverged) diverged" }
            let best = group.flatMap(\.epochs).compactMap(\.testAccuracy).max().map { String(format: "%.2f %%", 100 * $0) } ?? "—"
            let losses = group.filter { $0.divergedAt == nil }.compactMap(\.epochs.last?.trainLoss)
            let loss = losses.isEmpty ? "—" : String(format: "%.4f", mean(losses))
            let minutes = String(format: "%.1f", Self.minutes(group))
            var line = pad(label, width) + "  " + pad(accuracy, 22) + "  " + pad(best, 13) + "  " + pad(loss, 16) + "  " + pad(minutes, 7)
            if let target {
                line += "  " + (timeToTarget(group, target: target).map { String(format: "epoch %g, %.0f s", $0.epoch, $0.seconds) } ?? "not reached")
            }
            lines.append(line.trimmingCharacters(in: .whitespaces))
        }
        return lines.joined(separator: "\n")
    }

    /// Mean wall-clock minutes of the runs, up to where each finished or diverged.
    static func minutes(_ group: [Run]) -> Double {
        mean(group.map { $0.divergedAt?.seconds ?? $0.epochs.last?.seconds ?? 0 }) / 60
    }

    /// The mean of the values (0 for none).
    public static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }
}
