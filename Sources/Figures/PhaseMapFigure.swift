import Foundation
import Plot
import SurfaceLab

/// Draws a PhaseMap: each cell's final loss in log colour (diverged cells grey), the tolerance
/// boundary outlined in black, and for heavy-ball SGD on a quadratic the theory's stability
/// limit lr = 2(1 + β)/λmax as a dashed red line.
public enum PhaseMapFigure {
    static let divergedColor = Color(hex: 0xBDBDBD), toleranceColor = Color.black, theoryColor = Color(hex: 0xE41A1C)

    /// The figure's size, known before the map is run (the pixel budget is checked first).
    public static let inches = (width: 8.0, height: 5.6)

    public static func make(_ map: PhaseMap) -> Figure {
        let figure = Figure(width: inches.width, height: inches.height)
        let axes = figure.axes
        // Cell (i, j) is centred on x = i, y = j; row 0 (the smallest y value) at the bottom.
        let logLoss = map.finalLoss.map { row in row.map { loss -> Double in loss.map { log10(max($0, 1e-300)) } ?? .nan } }
        let finite = logLoss.flatMap { $0 }.filter(\.isFinite)
        let range = (finite.min() ?? 0)...max((finite.max() ?? 1), (finite.min() ?? 0) + 1e-9)
        axes.heatmap(logLoss, range: range, invalidColor: divergedColor)
        axes.yInverted = false
        axes.xTicks = ticks(map.x)
        axes.yTicks = ticks(map.y)
        axes.xLabel = map.x.key + (map.x.logarithmic ? " (log scale)" : "")
        axes.yLabel = map.y.key + (map.y.logarithmic ? " (log scale)" : "")

        // Tolerated cells (final loss below tol) outlined; diverged cells count as not tolerated.
        let level = log10(map.tolerance)
        let grid = ScalarGrid(xs: (0..<map.x.count).map(Double.init), ys: (0..<map.y.count).map(Double.init),
                              values: logLoss.flatMap { $0 }.map { $0.isFinite ? $0 : .infinity })
        if finite.contains(where: { $0 < level }) && logLoss.flatMap({ $0 }).contains(where: { !($0 < level) }) {
            axes.contourLines(ContourSet(grid, levels: [min(range.lowerBound, level) - 1, level]),
                              style: LineStyle(color: toleranceColor, width: 1.4))
        }
        axes.plot(x: [], y: [], style: LineStyle(color: toleranceColor, width: 1.4), label: "final loss < \(Ticks.compact(map.tolerance)) (tol)")
        axes.fillBetween(x: [], lower: [], upper: [], color: divergedColor, label: "diverged")
        if let limit = map.momentumStabilityLimit {
            // Along the momentum axis, the lr at which the theory says runs stop converging.
            let momentumAxis = map.x.key == "momentum" ? map.x : map.y, lrAxis = map.x.key == "lr" ? map.x : map.y
            let betas = (0...400).map { momentumAxis.range.lowerBound + (momentumAxis.range.upperBound - momentumAxis.range.lowerBound) * Double($0) / 400 }
            let momentumPositions = betas.map { position($0, on: momentumAxis) }, lrPositions = betas.map { position(limit($0), on: lrAxis) }
            let style = LineStyle(color: theoryColor, width: 1.8, dash: LineStyle.dashed)
            axes.plot(x: map.x.key == "lr" ? lrPositions : momentumPositions, y: map.x.key == "lr" ? momentumPositions : lrPositions,
                      style: style, label: "theory: lr = 2(1 + β)/λmax")
        }
        axes.xLimits = -0.5...(Double(map.x.count) - 0.5)
        axes.yLimits = -0.5...(Double(map.y.count) - 0.5)
        axes.legendPlacement = .outsideRight
        figure.title = "\(map.spec.label) on \(TrajectoryFigure.title(map.surface)): final loss after \(map.steps) steps"
        figure.subtitle = "\(map.x.count)×\(map.y.count) runs from (\(Ticks.compact(map.start.x)), \(Ticks.compact(map.start.y))), "
            + "start loss \(Ticks.compact(map.startLoss)); diverged: loss above 10⁶ × start or not finite"
        figure.colorBar = ColorBar(scale: .continuous(range), label: "log₁₀ final loss")
        return figure
    }

    /// Where a keyword's value sits on the cell-index axis (fractional between cells).
    static func position(_ value: Double, on axis: PhaseMap.Axis) -> Double {
        let lo = axis.range.lowerBound, hi = axis.range.upperBound
        let t = axis.logarithmic ? log(value / lo) / log(hi / lo) : (value - lo) / (hi - lo)
        return t * Double(axis.count - 1)
    }

    /// Nice ticks in the keyword's values, placed at their cell-index positions.
    static func ticks(_ axis: PhaseMap.Axis) -> [Tick] {
        let values = axis.logarithmic ? Ticks.log(axis.range, maxLabels: 6) : Ticks.linear(axis.range, target: 6)
        return values.filter { axis.range.contains($0.value) }.map { Tick(value: position($0.value, on: axis), label: $0.label) }
    }
}
