import CIFARLab
import Figures
import Foundation
import Plot

/// Draws an optimizer comparison on CIFAR-10 (`Comparison.run`).
public enum ComparisonFigure {
    /// Test accuracy and training loss against epoch (top) and wall-clock seconds (bottom), one
    /// colour per algorithm as in the 2-D figures (`OptimizerStyle`: a second spec of the same algorithm is dashed),
    /// the mean over seeds with a min–max band, and a cross where a run diverged. With a `target`
    /// validation accuracy, the accuracy panels show it as a dotted line with a diamond where each
    /// optimizer's median run reached it (`Comparison.timeToTarget`).
    /// `title` replaces the default, which names the model and the optimizers' common start.
    public static func make(_ runs: [Comparison.Run], model: String, target: Double? = nil, title: String? = nil) -> Figure {
        let figure = Figure(width: 11, height: 7.5, rows: 2, columns: 2)
        figure.title = title ?? "CIFAR-10, \(model): optimizers from identical weights and data order"
        let panels: [(Axes, x: KeyPath<EpochMetrics, Double>, y: KeyPath<EpochMetrics, Double>, scale: Double)] = [
            (figure[0, 0], \.epochValue, \.reportedTestAccuracy, 100), (figure[0, 1], \.epochValue, \.trainLoss, 1),
            (figure[1, 0], \.seconds, \.reportedTestAccuracy, 100), (figure[1, 1], \.seconds, \.trainLoss, 1),
        ]
        let groups = Comparison.grouped(runs)
        let styles = OptimizerStyle.styles(groups.map(\.runs[0].spec))
        let lastEpoch = runs.map { max($0.epochs.count, $0.divergedAt?.epoch ?? 0) }.max() ?? 1
        for (index, panel) in panels.enumerated() {
            let axes = panel.0
            if index < 2 && lastEpoch <= 20 { axes.xTicks = (1...lastEpoch).map { Tick(value: Double($0), label: "\($0)") } }
            axes.showsGrid = true
            axes.xLabel = index < 2 ? "epoch" : "wall-clock seconds"
            axes.yLabel = panel.y == \EpochMetrics.reportedTestAccuracy ? "test accuracy (%)" : "training loss"
            if index != 0 { axes.legendPlacement = nil }
            for (g, (label, group)) in groups.enumerated() {
                let color = styles[g].color
                let epochs = group.map(\.epochs.count).min() ?? 0
                let finished = group.compactMap(\.finalAccuracy)
                let legend = finished.isEmpty ? "\(label)  diverged"
                    : "\(label)  \(String(format: "%.1f %%", 100 * Comparison.mean(finished)))" + (finished.count < group.count ? ", some diverged" : "")
                if epochs > 0 {
                    let xs = (0..<epochs).map { e in Comparison.mean(group.map { $0.epochs[e][keyPath: panel.x] }) }
                    let values = (0..<epochs).map { e in group.map { $0.epochs[e][keyPath: panel.y] * panel.scale } }
                    if group.count > 1 {
                        axes.fillBetween(x: xs, lower: values.map { $0.min()! }, upper: values.map { $0.max()! }, color: color.withAlpha(0.18))
                    }
                    axes.plot(x: xs, y: values.map(Comparison.mean), style: LineStyle(color: color, width: 2, dash: styles[g].dash), marker: .circle, label: legend)
                }
                // Diverged runs end in a cross at the epoch (or second) they diverged, at their last value.
                let crosses = group.compactMap { run -> (Double, Double)? in
                    guard let d = run.divergedAt else { return nil }
                    let x = index < 2 ? Double(d.epoch) : d.seconds
                    let y = run.epochs.last.map { $0[keyPath: panel.y] * panel.scale }
                        ?? (panel.y == \EpochMetrics.reportedTestAccuracy ? 10 : log(10))
                    return (x, y)
                }
                if !crosses.isEmpty { axes.scatter(crosses, marker: .cross, size: 11, color: color, label: epochs == 0 ? legend : nil) }
                if let target, panel.y == \EpochMetrics.reportedTestAccuracy, let reached = Comparison.timeToTarget(group, target: target) {
                    axes.scatter([(index < 2 ? reached.epoch : reached.seconds, 100 * target)], marker: .square, size: 9, color: color)
                }
            }
            if let target, panel.y == \EpochMetrics.reportedTestAccuracy {
                axes.horizontalLine(y: 100 * target, style: LineStyle(color: .text, width: 1, dash: [2, 3]),
                                    label: index == 0 ? String(format: "■ %.4g %% val acc", 100 * target) : nil)
            }
        }
        return figure
    }
}

extension EpochMetrics {
    var epochValue: Double { Double(epoch) }
    /// A comparison's runs always read the test set.
    var reportedTestAccuracy: Double { testAccuracy ?? .nan }
}
