import Data
import Foundation
import Optim
import Plot

/// `optlab cifar --compare sgd,adam`: one training run per optimizer (and seed) from identical
/// initial weights and identical data order, so the optimizer is the only difference.
public enum Comparison {
    /// One optimizer's run with one seed.
    public struct Run: Sendable {
        public let label: String
        /// The palette key: the algorithm or preset name as typed (`adam`, `nesterov`).
        public let key: String
        public let seed: UInt64
        public var epochs: [EpochMetrics] = []
        /// Set when the loss became non-finite: the epoch and batch (1-based) where it happened.
        public var divergedAt: (epoch: Int, batch: Int, seconds: Double)?

        public var finalAccuracy: Double? { divergedAt == nil ? epochs.last?.testAccuracy : nil }
    }

    /// Trains every spec with every seed. `plan` gives the model and the rest; each run gets its
    /// spec and seed. A diverged run is recorded as such and the others go on; `report` is called
    /// after every epoch and at every divergence.
    public static func run(_ specs: [OptimizerSpec], seeds: [UInt64], plan: TrainingPlan, train: Dataset, test: Dataset,
                           report: (Run) -> Void) throws -> [Run] {
        var runs: [Run] = []
        for seed in seeds {
            for spec in specs {
                var runPlan = plan
                runPlan.optimizer = spec.description
                runPlan.seed = seed
                var run = Run(label: spec.label, key: paletteKey(spec), seed: seed)
                let trainer = try Trainer(runPlan, train: train, test: test)
                do {
                    // Ctrl-C is not watched here, so the run always finishes (or diverges).
                    _ = try trainer.run(checkpoint: nil, label: "\(spec.label) seed \(seed) epoch") { metrics in
                        run.epochs.append(metrics)
                        report(run)
                    }
                } catch TrainingError.diverged(let epoch, let batch, _) {
                    run.divergedAt = (epoch, batch, trainer.seconds)
                    report(run)
                }
                runs.append(run)
            }
        }
        return runs
    }

    static func paletteKey(_ spec: OptimizerSpec) -> String {
        let typed = String(spec.label.prefix { $0 != "(" })
        return OptimizerSpec.names.contains(typed) ? typed : spec.name
    }

    /// `optimizer,seed,epoch,train_loss,train_acc,test_loss,test_acc,seconds`; a diverged run ends
    /// with a row for the epoch it diverged in, its metrics `nan`.
    public static func csv(_ runs: [Run]) -> CSVTable {
        var table = CSVTable(header: ["optimizer", "seed", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"])
        for run in runs {
            for m in run.epochs {
                table.append([run.label, run.seed, m.epoch, m.trainLoss, m.trainAccuracy, m.testLoss, m.testAccuracy, m.seconds])
            }
            if let d = run.divergedAt {
                table.append([run.label, run.seed, d.epoch, "nan", "nan", "nan", "nan", d.seconds])
            }
        }
        return table
    }

    /// The runs of each optimizer, in the order the specs were given.
    static func grouped(_ runs: [Run]) -> [(label: String, runs: [Run])] {
        var order: [String] = []
        var groups: [String: [Run]] = [:]
        for run in runs {
            if groups[run.label] == nil { order.append(run.label) }
            groups[run.label, default: []].append(run)
        }
        return order.map { ($0, groups[$0]!) }
    }

    /// One line per optimizer: final test accuracy (mean, and min–max over seeds), best epoch's
    /// accuracy, final training loss and time.
    public static func summary(_ runs: [Run]) -> String {
        let groups = grouped(runs)
        let width = max(9, groups.map(\.label.count).max() ?? 0)
        func pad(_ text: String, _ n: Int) -> String { text.padding(toLength: max(n, text.count), withPad: " ", startingAt: 0) }
        var lines = [pad("optimizer", width) + "  final test acc          best test acc  final train loss  minutes"]
        for (label, group) in groups {
            let finished = group.compactMap(\.finalAccuracy)
            let diverged = group.filter { $0.divergedAt != nil }.count
            var accuracy = finished.isEmpty ? "diverged" : String(format: "%.2f %%", 100 * mean(finished))
            if finished.count > 1 { accuracy += String(format: " (%.1f–%.1f)", 100 * finished.min()!, 100 * finished.max()!) }
            if diverged > 0 && !finished.isEmpty { accuracy += ", \(diverged) diverged" }
            let best = group.flatMap(\.epochs).map(\.testAccuracy).max().map { String(format: "%.2f %%", 100 * $0) } ?? "—"
            let losses = group.filter { $0.divergedAt == nil }.compactMap(\.epochs.last?.trainLoss)
            let loss = losses.isEmpty ? "—" : String(format: "%.4f", mean(losses))
            let minutes = String(format: "%.1f", mean(group.map { $0.divergedAt?.seconds ?? $0.epochs.last?.seconds ?? 0 }) / 60)
            lines.append(pad(label, width) + "  " + pad(accuracy, 22) + "  " + pad(best, 13) + "  " + pad(loss, 16) + "  " + minutes)
        }
        return lines.joined(separator: "\n")
    }

    /// Test accuracy and training loss against epoch (top) and wall-clock seconds (bottom), one
    /// colour per algorithm as in the 2-D figures (a second spec of the same algorithm is dashed),
    /// the mean over seeds with a min–max band, and a cross where a run diverged.
    public static func figure(_ runs: [Run], model: String) -> Figure {
        let figure = Figure(width: 11, height: 7.5, rows: 2, columns: 2)
        figure.title = "CIFAR-10, \(model): optimizers from identical weights and data order"
        let panels: [(Axes, x: KeyPath<EpochMetrics, Double>, y: KeyPath<EpochMetrics, Double>, scale: Double)] = [
            (figure[0, 0], \.epochValue, \.testAccuracy, 100), (figure[0, 1], \.epochValue, \.trainLoss, 1),
            (figure[1, 0], \.seconds, \.testAccuracy, 100), (figure[1, 1], \.seconds, \.trainLoss, 1),
        ]
        let groups = grouped(runs)
        let dashes = groups.indices.map { g in [[], LineStyle.dashed, LineStyle.dotted][min(2, groups[..<g].filter { $0.runs[0].key == groups[g].runs[0].key }.count)] }
        let lastEpoch = runs.map { max($0.epochs.count, $0.divergedAt?.epoch ?? 0) }.max() ?? 1
        for (index, panel) in panels.enumerated() {
            let axes = panel.0
            if index < 2 && lastEpoch <= 20 { axes.xTicks = (1...lastEpoch).map { Tick(value: Double($0), label: "\($0)") } }
            axes.showsGrid = true
            axes.xLabel = index < 2 ? "epoch" : "wall-clock seconds"
            axes.yLabel = panel.y == \EpochMetrics.testAccuracy ? "test accuracy (%)" : "training loss"
            if index != 0 { axes.legendPlacement = nil }
            for (g, (label, group)) in groups.enumerated() {
                let color = Palette.color(forKey: group[0].key)
                let epochs = group.map(\.epochs.count).min() ?? 0
                let finished = group.compactMap(\.finalAccuracy)
                let legend = finished.isEmpty ? "\(label)  diverged"
                    : "\(label)  \(String(format: "%.1f %%", 100 * mean(finished)))" + (finished.count < group.count ? ", some diverged" : "")
                if epochs > 0 {
                    let xs = (0..<epochs).map { e in mean(group.map { $0.epochs[e][keyPath: panel.x] }) }
                    let values = (0..<epochs).map { e in group.map { $0.epochs[e][keyPath: panel.y] * panel.scale } }
                    if group.count > 1 {
                        axes.fillBetween(x: xs, lower: values.map { $0.min()! }, upper: values.map { $0.max()! }, color: color.withAlpha(0.18))
                    }
                    axes.plot(x: xs, y: values.map(mean), style: LineStyle(color: color, width: 2, dash: dashes[g]), marker: .circle, label: legend)
                }
                // Diverged runs end in a cross at the epoch (or second) they diverged, at their last value.
                let crosses = group.compactMap { run -> (Double, Double)? in
                    guard let d = run.divergedAt else { return nil }
                    let x = index < 2 ? Double(d.epoch) : d.seconds
                    let y = run.epochs.last.map { $0[keyPath: panel.y] * panel.scale }
                        ?? (panel.y == \EpochMetrics.testAccuracy ? 10 : log(10))
                    return (x, y)
                }
                if !crosses.isEmpty { axes.scatter(crosses, marker: .cross, size: 11, color: color, label: epochs == 0 ? legend : nil) }
            }
        }
        return figure
    }

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }
}

extension EpochMetrics {
    var epochValue: Double { Double(epoch) }
}
