import CIFARLab
import Figures
import Foundation
import Optim
import Plot

/// Draws `optlab landscape`: the loss over the plane as filled contours (the 2-D figures' colour
/// map and log-spaced levels), each run's projected path in its optimizer's colour with its end
/// marked ●, the common start θ₀ marked ■, and the axes labelled with what they are.
public enum LandscapeFigure {
    public static func make(_ grid: LandscapeGrid, plane: LandscapePlane, paths: [LandscapePath], startLoss: Double, endLosses: [Double],
                            title: String, subtitle: String, lossLabel: String) -> Figure {
        let figure = Figure(width: 10, height: 7.4)
        let axes = figure.axes
        // Levels from the floor up to three times the start's loss: beyond it (where the plane
        // leaves the trained region) every value shares the top band, so the floor keeps its lines.
        let finite = grid.rows.flatMap { $0 }.filter(\.isFinite)
        let floor = finite.min() ?? 0
        let top = max(min(finite.max() ?? 1, 3 * startLoss), floor + 1e-6)
        let values = grid.rows.flatMap { $0 }.map { $0.isFinite ? min($0, top) : top }
        let levels = ContourLevels.logSpaced(minimum: floor, maximum: top, count: 16, decades: 2.5)
        let contours = ContourSet(ScalarGrid(xs: grid.xs, ys: grid.ys, values: values), levels: levels)
        axes.contourFilled(contours)
        axes.contourLines(contours)
        for ((path, style), endLoss) in zip(zip(paths, OptimizerStyle.styles(paths.map(\.spec))), endLosses) {
            let points = path.iterates.map(plane.project)
            let label = path.label + (path.divergedAt != nil ? " (diverged)" : "") + String(format: "  end loss %.3f", endLoss)
            axes.plot(x: points.map(\.x), y: points.map(\.y), style: LineStyle(color: style.color, width: 1.8, dash: style.dash),
                      marker: .circle, markerSize: 3, maxMarkers: 60, halo: true, label: label)
            axes.scatter([(points.last!.x, points.last!.y)], marker: path.divergedAt != nil ? .cross : .circle, size: 10,
                         color: style.color, edge: .text)
        }
        axes.scatter([(0, 0)], marker: .square, size: 9, color: .white, edge: .text)
        axes.xLabel = plane.axisLabels[0]
        axes.yLabel = plane.axisLabels[1]
        axes.xLimits = grid.xs.first!...grid.xs.last!
        axes.yLimits = grid.ys.first!...grid.ys.last!
        axes.legendPlacement = .outsideRight
        figure.title = title
        figure.subtitle = subtitle
        figure.colorBar = ColorBar(scale: .bands(levels: levels), label: lossLabel)
        return figure
    }
}
