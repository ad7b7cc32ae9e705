import CIFARLab
import Figures
import Foundation
import Optim
import Plot

/// Draws a learning-rate range test (`LRFinder`): the raw mini-batch loss (thin, grey) and the
/// smoothed loss (the optimizer's colour) against the rate on a log axis, and fastai's four
/// suggestions marked on the smoothed curve.
public enum LRFindFigure {
    public static func make(_ finder: LRFinder, model: String, spec: OptimizerSpec, batchSize: Int) -> Figure {
        let figure = Figure(width: 9, height: 5.4)
        let settings = finder.settings
        figure.title = "Learning-rate range test on \(model)"
        let ending = finder.diverged ? "stopped at \(Ticks.compact(settings.divergence)) × the minimum" : "all steps"
        figure.subtitle = "\(LRFinder.label(spec)) · \(finder.points.count) steps × \(batchSize) images · lr \(Ticks.compact(settings.start))"
            + " → \(Ticks.compact(settings.end)), \(ending) · smoothing \(Ticks.compact(settings.smoothing))"
        let axes = figure.axes
        axes.xScale = .log
        axes.showsGrid = true
        axes.xLabel = "learning rate"
        axes.yLabel = "training loss"
        let points = finder.points
        guard let first = points.first else { return figure }
        axes.xLimits = first.lr...max(points.last!.lr, first.lr * 10)
        // The runaway tail would flatten the interesting part: the view stops a little above the start.
        let finite = points.flatMap { [$0.loss, $0.smoothedLoss] }.filter(\.isFinite)
        let top = min(finite.max()!, 1.3 * max(first.smoothedLoss, first.loss))
        let bottom = finite.min()!
        let margin = max(top - bottom, 1e-3) * 0.06
        axes.yLimits = bottom - margin...top + margin
        let lrs = points.map(\.lr)
        axes.plot(x: lrs, y: points.map(\.loss), style: LineStyle(color: Color(hex: 0xAAAAAA), width: 0.9), label: "mini-batch loss")
        let lineColor = OptimizerStyle.color(spec)
        axes.plot(x: lrs, y: points.map(\.smoothedLoss), style: LineStyle(color: lineColor, width: 2.2), label: "smoothed loss")
        let markers: [Marker] = [.circle, .square, .triangle, .star]
        let colors = Palette.colors.filter { $0 != lineColor }
        for (index, suggestion) in finder.suggestions.named.enumerated() {
            guard let lr = suggestion.lr else { continue }
            let y = interpolated(lrs, points.map(\.smoothedLoss), at: lr)
            axes.scatter([(lr, y)], marker: markers[index], size: 10, color: colors[index],
                         label: "\(suggestion.name) \(String(format: "%.2g", lr))")
        }
        return figure
    }

    /// The smoothed loss at `lr`, linear in log(lr) between the recorded rates (as fastai marks slide).
    static func interpolated(_ lrs: [Double], _ losses: [Double], at lr: Double) -> Double {
        guard let upper = lrs.firstIndex(where: { $0 >= lr }) else { return losses.last! }
        guard upper > 0 else { return losses[0] }
        let t = log(lr / lrs[upper - 1]) / log(lrs[upper] / lrs[upper - 1])
        return losses[upper - 1] + t * (losses[upper] - losses[upper - 1])
    }
}
