import CIFARLab
import Figures
import Foundation
import Optim
import Plot

/// Draws a tuning (`optlab cifar --tune`): (a) each optimizer's final validation accuracy against
/// learning rate, the CNN version of `lr-sweep`'s tolerance figure, (b) the tuned reruns' validation
/// accuracy against epoch and seconds, mean with a min–max band over seeds, and (c) their time to
/// the target validation accuracy. Colours and dashes from `OptimizerStyle`.
public enum TuningFigure {
    public static func make(_ results: Tuning.Results, target: Double?) throws -> Figure {
        let figure = Figure(width: 11, height: 8, rows: 2, columns: 2)
        let plan = results.plan
        figure.title = "CIFAR-10, \(plan.base.model): each optimizer at its own tuned learning rate"
        figure.subtitle = "\(plan.candidates.first?.rates.count ?? 0) rates each, \(plan.base.epochs) epochs on "
            + "\(plan.base.trainSubset.map { "\($0)" } ?? "all") training images, chosen by accuracy on \(plan.base.validation?.count ?? 0) "
            + "held-out ones; \(plan.seeds.count) fresh seed\(plan.seeds.count == 1 ? "" : "s") per winner"
        let styles = OptimizerStyle.styles(try plan.specs())
        sensitivity(figure[0, 0], results, styles: styles)
        curves(figure[0, 1], results, styles: styles, x: \.epochValue, label: "epoch", target: target)
        curves(figure[1, 0], results, styles: styles, x: \.seconds, label: "wall-clock seconds", target: target)
        timeToTarget(figure[1, 1], results, styles: styles, target: target)
        return figure
    }

    /// Chance on CIFAR-10's ten classes: where diverged trials are drawn.
    static let chance = 10.0

    /// (a): a line per optimizer through its finished trials, a cross at chance for each diverged
    /// one, a ring round the chosen rate; the figure's one legend (inside, upper left, where low
    /// rates leave chance accuracy: a legend outside would narrow every panel of the grid), with the
    /// chosen rate and the reruns' mean test accuracy.
    static func sensitivity(_ axes: Axes, _ results: Tuning.Results, styles: [OptimizerStyle]) {
        axes.title = "(a) learning-rate sensitivity (trials)"
        axes.xScale = .log
        axes.xLabel = "learning rate"
        axes.yLabel = "final validation accuracy (%)"
        axes.showsGrid = true
        axes.legendPlacement = .upperLeft
        let winners = results.winners
        var anyDiverged = false
        for (index, candidate) in results.plan.candidates.enumerated() {
            let style = styles[index]
            let trials = results.trials.filter { $0.run.label == candidate.label }.sorted { $0.learningRate < $1.learningRate }
            let finished = trials.filter { $0.score != nil }
            let chosen = winners.first { $0.label == candidate.label }?.trial
            let test = results.finalRuns.filter { $0.label == candidate.label && $0.divergedAt == nil }.compactMap(\.epochs.last?.testAccuracy)
            let legend = "\(candidate.label)  " + (chosen.map { "lr \(Ticks.compact($0.learningRate))" } ?? "every trial diverged")
                + (test.isEmpty ? "" : String(format: ", test %.1f %%", 100 * Comparison.mean(test)))
            if let chosen, let score = chosen.score {
                axes.scatter([(chosen.learningRate, 100 * score)], marker: .circle, size: 17, color: style.color.withAlpha(0), edge: style.color)
            }
            axes.plot(x: finished.map(\.learningRate), y: finished.map { 100 * $0.score! },
                      style: LineStyle(color: style.color, width: 2, dash: style.dash), marker: .circle, label: finished.isEmpty ? nil : legend)
            let diverged = trials.filter { $0.score == nil }.map { ($0.learningRate, chance) }
            if !diverged.isEmpty {
                anyDiverged = true
                axes.scatter(diverged, marker: .cross, size: 10, color: style.color, label: finished.isEmpty ? legend : nil)
            }
        }
        // Headroom above the best trial for the legend.
        let scores = results.trials.compactMap(\.score).map { 100 * $0 }
        let low = min(chance, scores.min() ?? chance) - 2, high = max(chance, scores.max() ?? chance) + 2
        axes.yLimits = low...(high + 0.6 * (high - low))
        axes.horizontalLine(y: chance, style: LineStyle(color: .text, width: 0.8, dash: [2, 3]),
                            label: anyDiverged ? "chance; × diverged, ○ chosen" : "chance; ○ chosen")
    }

    /// (b): the finals' validation accuracy, mean over seeds with a min–max band, against `x`.
    static func curves(_ axes: Axes, _ results: Tuning.Results, styles: [OptimizerStyle], x: KeyPath<EpochMetrics, Double>,
                       label: String, target: Double?) {
        axes.title = "(b) tuned reruns against \(label == "epoch" ? "epoch" : "time")"
        axes.xLabel = label
        axes.yLabel = "validation accuracy (%)"
        axes.showsGrid = true
        axes.legendPlacement = x == \EpochMetrics.epochValue ? .lowerRight : nil
        // Only the target's entry: the colours are (a)'s.
        let epochs = results.plan.base.epochs
        if x == \EpochMetrics.epochValue && epochs <= 20 { axes.xTicks = (1...epochs).map { Tick(value: Double($0), label: "\($0)") } }
        let groups = Comparison.grouped(results.finalRuns)
        for (index, candidate) in results.plan.candidates.enumerated() {
            guard let group = groups.first(where: { $0.label == candidate.label })?.runs else { continue }
            let style = styles[index]
            let finished = group.filter { $0.divergedAt == nil }
            let count = finished.map(\.epochs.count).min() ?? 0
            if count > 0 {
                let xs = (0..<count).map { e in Comparison.mean(finished.map { $0.epochs[e][keyPath: x] }) }
                let values = (0..<count).map { e in finished.map { 100 * ($0.epochs[e].validationAccuracy ?? .nan) } }
                if finished.count > 1 {
                    axes.fillBetween(x: xs, lower: values.map { $0.min()! }, upper: values.map { $0.max()! }, color: style.color.withAlpha(0.18))
                }
                axes.plot(x: xs, y: values.map(Comparison.mean), style: LineStyle(color: style.color, width: 2, dash: style.dash),
                          marker: .circle)
            }
            let crosses = group.compactMap { run in
                run.divergedAt.map { d in (x == \EpochMetrics.epochValue ? Double(d.epoch) : d.seconds, chance) }
            }
            if !crosses.isEmpty { axes.scatter(crosses, marker: .cross, size: 10, color: style.color) }
            if let target, let reached = Comparison.timeToTarget(group, target: target) {
                axes.scatter([(x == \EpochMetrics.epochValue ? reached.epoch : reached.seconds, 100 * target)],
                             marker: .square, size: 8, color: style.color)
            }
        }
        if let target {
            axes.horizontalLine(y: 100 * target, style: LineStyle(color: .text, width: 1, dash: [2, 3]),
                                label: x == \EpochMetrics.epochValue ? String(format: "■ target %.4g %%", 100 * target) : nil)
        }
    }

    /// (c): a bar per optimizer from 0 to the median seconds its reruns took to reach the target,
    /// named in the text beside it (tick labels as long as a spec would narrow every panel).
    static func timeToTarget(_ axes: Axes, _ results: Tuning.Results, styles: [OptimizerStyle], target: Double?) {
        axes.title = target.map { String(format: "(c) time to %.4g %% val. accuracy (median)", 100 * $0) }
            ?? "(c) time to target: no rerun finished"
        axes.xLabel = "wall-clock seconds"
        axes.legendPlacement = nil
        let candidates = results.plan.candidates
        let n = candidates.count
        axes.yTicks = []
        let groups = Comparison.grouped(results.finalRuns)
        let reached = candidates.map { candidate in
            target.flatMap { target in groups.first { $0.label == candidate.label }.flatMap { Comparison.timeToTarget($0.runs, target: target) } }
        }
        let longest = max(1, reached.compactMap { $0?.seconds }.max() ?? 1)
        axes.xLimits = 0...(longest * 1.15)
        axes.yLimits = -0.4...(Double(n) - 0.3)
        axes.rangeBars(candidates.indices.map { i in
            RangeRow(y: Double(n - 1 - i), ranges: reached[i].map { [0...$0.seconds] } ?? [], color: styles[i].color)
        }, thickness: 0.4)
        // Each bar's name and time above it, from the axis.
        for i in candidates.indices {
            let text = candidates[i].label + ": " + (reached[i].map { String(format: "%.0f s (epoch %g)", $0.seconds, $0.epoch) } ?? "not reached")
            axes.text(text, x: 0, y: Double(n - 1 - i) + 0.2, offset: PagePoint(2, -4), size: 8)
        }
    }
}
