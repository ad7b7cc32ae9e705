import Foundation
import Optim
import Plot
import Support
import SurfaceLab
import Surfaces

/// How `optlab trajectories` arranges the paths.
public enum TrajectoryLayout: String, CaseIterable, Sendable {
    /// One panel per optimizer (small multiples sharing one colour scale).
    case grid
    /// Every path on one contour plot, with a legend.
    case overlay
}

/// Draws a TrajectoryComparison: the surface as filled contours with contour lines, each path as
/// a line with a marker per step, start and end marked, the known minima starred, and diverged
/// paths cut at the window's edge with a "diverged" mark there.
public enum TrajectoryFigure {
    /// Samples per side of the contour grid: fine enough that marching-squares lines look smooth.
    static let resolution = 241

    /// The number of contour levels must be in 3...100.
    public static func checkLevels(_ levels: Int) throws {
        guard (3...100).contains(levels) else { throw SettingError("levels", "must be in 3...100, got \(levels)") }
    }

    /// The figure's size for `optimizers` paths (or fans): a grid grows with its panels.
    public static func inches(optimizers: Int, layout: TrajectoryLayout) -> (width: Double, height: Double) {
        switch layout {
        case .grid:
            let (columns, rows) = gridShape(optimizers)
            return (3.4 * Double(columns) + 1.2, 3.2 * Double(rows) + 0.9)
        case .overlay: return (9.5, 6.6)
        }
    }

    /// Panels a row (at most three; two for four) and rows of a grid.
    private static func gridShape(_ panels: Int) -> (columns: Int, rows: Int) {
        let columns = max(1, min(3, panels == 4 ? 2 : panels))
        return (columns, (panels + columns - 1) / columns)
    }

    /// `show` draws parts of each optimizer's state along its path (2-D view only); it needs the
    /// comparison run with `recordsState: true`.
    public static func make(_ comparison: TrajectoryComparison, layout: TrajectoryLayout, levels: Int = 14,
                            show: [StateView] = [], view: TrajectoryView = .flat) throws -> Figure {
        try build(comparison, layout: layout, levels: levels, show: show, view: view).figure
    }

    /// The still figure, per result the artists of its path (what an animation moves), and the
    /// key to the markers in the subtitle.
    static func build(_ comparison: TrajectoryComparison, layout: TrajectoryLayout, levels: Int,
                      show: [StateView] = [], view: TrajectoryView = .flat) throws -> (figure: Figure, paths: [PathArtists], key: [String]) {
        guard show.isEmpty || view == .flat else { throw SettingError("show", "draws on the 2-D view only") }
        let surface = comparison.surface, window = surface.window
        let look = try look(surface, levels: levels, view: view)

        // One path per optimizer, or under noise its seeds' fan, drawn thin, under their median.
        let groups = comparison.groups
        let results = groups.map { $0.count == 1 ? $0[0] : TrajectoryResult.median(of: $0, on: surface) }
        let styles = OptimizerStyle.styles(results.map(\.spec))
        let fan = { (axes: any Panel, k: Int) in
            guard groups[k].count > 1 else { return }
            for path in groups[k] {
                axes.plot(x: path.points.map(\.x), y: path.points.map(\.y), style: LineStyle(color: styles[k].color.withAlpha(0.45), width: 0.8))
            }
        }
        let figure: Figure
        var paths: [PathArtists] = []
        switch layout {
        case .grid:
            let (columns, rows) = gridShape(results.count), size = inches(optimizers: results.count, layout: layout)
            figure = Figure(width: size.width, height: size.height, rows: rows, columns: columns, panelCount: results.count,
                            projection: view.projection)
            for (k, result) in results.enumerated() {
                let panel = figure.panels[k]
                drawSurface(panel, look, surface)
                fan(panel, k)
                paths.append(drawPath(panel, result, styles[k], window: window, label: nil))
                panel.title = panelTitle(result) + (groups[k].count > 1 ? " (median of \(groups[k].count))" : "")
                guard let axes = panel as? Axes else { continue }
                if groups[k].count == 1 { paths[k].state = StateOverlay(axes, result, show, window: window) }
                if k % columns == 0 { axes.yLabel = "y" }
                if k + columns >= results.count { axes.xLabel = "x" }
            }
        case .overlay:
            let size = inches(optimizers: results.count, layout: layout)
            figure = Figure(width: size.width, height: size.height, projection: view.projection)
            let panel = figure.panels[0]
            drawSurface(panel, look, surface)
            results.indices.forEach { fan(panel, $0) }
            paths = zip(results, styles).map { drawPath(panel, $0, $1, window: window, label: legendLabel($0)) }
            // Outside the contour plot the paths cover; in 3-D above the colour bar, beside the box.
            panel.legendPlacement = view == .flat ? .outsideRight : .aboveColorBar
            if let axes = panel as? Axes {
                for (k, result) in results.enumerated() where groups[k].count == 1 { paths[k].state = StateOverlay(axes, result, show, window: window) }
                axes.xLabel = "x"
                axes.yLabel = "y"
            }
        }
        figure.title = "\(results.count == 1 ? "One optimizer" : "\(results.count) optimizers") on \(title(surface))"
        // A key to the markers that appear.
        var key = ["■ start", "● end"]
        if !surface.minima.isEmpty { key.append(surface.minima.count > 1 ? "★ global minimum (☆ local minima)" : "★ minimum") }
        if results.contains(where: { $0.divergedAt != nil }) { key.append("✕ diverged") }
        if results.contains(where: { $0.divergedAt == nil && exit($0, window) != nil }) { key.append("▲ left the window") }
        let seconds = Set(results.compactMap { $0.secondPoint?.name })
        if seconds.contains("ax") { key.append("··· ax (average)") }
        if seconds.contains("y") { key.append("··· y (gradient point)") }
        key += show.map(\.key)
        figure.subtitle = subtitle(comparison, steps: "\(comparison.steps) steps", key: key)
        figure.colorBar = ColorBar(scale: .bands(levels: look.levels), label: "f(x, y)")
        return (figure, paths, key)
    }

    /// "100 steps from (x, y)   ■ start   ● end ..."; an animation counts the steps here.
    static func subtitle(_ comparison: TrajectoryComparison, steps: String, key: [String]) -> String {
        let noise = comparison.noise.map { ", gradient noise σ = \(Ticks.compact($0.sigma))" + ($0.seeds > 1 ? ", \($0.seeds) seeds (median bold)" : "") } ?? ""
        return "\(steps) from (\(Ticks.compact(comparison.start.x)), \(Ticks.compact(comparison.start.y)))\(noise)   " + key.joined(separator: "   ")
    }

    /// A path's artists in a figure: its line, the ● at its end (nil when it left the window or
    /// diverged) and the mark and note where it left (nil when it did not).
    struct PathArtists {
        var line: LineHandle
        var end: MarkersHandle?
        var exit: (mark: MarkersHandle, note: TextHandle, step: Int)?
        /// The algorithm's second point (ASGD's ax, schedule-free's y), drawn faintly.
        var second: (line: LineHandle, end: MarkersHandle)?
        /// The `--show` marks along the path.
        var state = StateOverlay()
    }

    /// The surface alone, drawn as under `make`'s overlaid paths (contours, minima, colour bar,
    /// title): the background over which `optlab serve`'s page draws the paths itself.
    public static func surfaceFigure(_ surface: Surface, levels: Int = 14, width: Double = 7.2, height: Double = 6) throws -> Figure {
        let look = try look(surface, levels: levels, view: .flat)
        let figure = Figure(width: width, height: height)
        drawSurface(figure.axes, look, surface)
        figure.axes.xLabel = "x"
        figure.axes.yLabel = "y"
        figure.title = title(surface)
        if !surface.minima.isEmpty { figure.subtitle = surface.minima.count > 1 ? "★ global minimum (☆ local minima)" : "★ minimum" }
        figure.colorBar = ColorBar(scale: .bands(levels: look.levels), label: "f(x, y)")
        return figure
    }

    /// How a panel shows the surface, in the colours of `levels` (the colour bar's bands): filled
    /// contours in 2-D; in 3-D a mesh clipped to the samples' robust range, the levels ending at
    /// its top (or the first nice value above it) so a pole's heights do not take every colour.
    enum SurfaceLook {
        case contours(ContourSet)
        case mesh(levels: [Double], zRange: ClosedRange<Double>)

        var levels: [Double] {
            switch self {
            case .contours(let contours): return contours.levels
            case .mesh(let levels, _): return levels
            }
        }
    }

    static func look(_ surface: Surface, levels: Int, view: TrajectoryView) throws -> SurfaceLook {
        try checkLevels(levels)
        let window = surface.window
        guard window.x.upperBound > window.x.lowerBound, window.y.upperBound > window.y.lowerBound else {
            throw FigureError("the window of \(surface.name) has zero size")
        }
        let grid = ScalarGrid(x: window.x, y: window.y, columns: resolution, rows: resolution, surface.value)
        guard view == .flat else {
            let zRange = grid.robustRange
            return .mesh(levels: try Self.levels(for: surface, grid: grid, count: levels, top: zRange.upperBound), zRange: zRange)
        }
        return .contours(ContourSet(grid, levels: try Self.levels(for: surface, grid: grid, count: levels)))
    }

    /// Up to `top` (default the highest sample): log-spaced above a minimum inside the window, so
    /// the floor of a valley gets as many lines as its walls; evenly spaced nice values where the
    /// lowest samples lie on the window's edge (a saddle), which has no floor and where log
    /// spacing would crowd the levels into a sliver along that edge.
    static func levels(for surface: Surface, grid: ScalarGrid, count: Int, top: Double? = nil) throws -> [Double] {
        let range = grid.finiteRange
        let floor = surface.minima.first.map { surface.value($0.x, $0.y) } ?? range.lowerBound
        let bottom = min(floor, range.lowerBound), top = top ?? range.upperBound
        guard top > bottom else { throw FigureError("\(surface.name) is constant over its window; nothing to contour") }
        guard grid.lowestIsInside else { return ContourLevels.evenlySpaced(minimum: bottom, maximum: top, count: count) }
        return ContourLevels.logSpaced(minimum: bottom, maximum: top, count: count, decades: 3)
    }

    /// Filled contours with their lines on a 2-D panel, the shaded mesh in the same colours on a
    /// 3-D one; the minima starred on either.
    static func drawSurface(_ panel: any Panel, _ look: SurfaceLook, _ surface: Surface) {
        switch (look, panel) {
        case (.contours(let contours), let axes as Axes):
            axes.contourFilled(contours)
            axes.contourLines(contours)
        case (.mesh(let levels, let zRange), let axes as Axes3D):
            axes.surface(x: surface.window.x, y: surface.window.y, levels: levels, zRange: zRange, surface.value)
            axes.zLabel = "f(x, y)"
        default:
            preconditionFailure("contours go on an Axes, a mesh on an Axes3D")
        }
        // The global minimum in Okabe–Ito yellow, bright on viridis's dark floor; local ones white.
        if let global = surface.minima.first {
            panel.scatter([(global.x, global.y)], marker: .star, size: 12, color: Color(hex: 0xF0E442), edge: .text)
        }
        panel.scatter(surface.minima.dropFirst().map { ($0.x, $0.y) }, marker: .star, size: 9, color: .white, edge: .text)
        panel.legendPlacement = nil
    }

    static func drawPath(_ axes: any Panel, _ result: TrajectoryResult, _ optimizerStyle: OptimizerStyle, window: Window, label: String?) -> PathArtists {
        let color = optimizerStyle.color
        let style = LineStyle(color: color, width: 1.5, dash: optimizerStyle.dash)
        let xs = result.points.map(\.x), ys = result.points.map(\.y)
        let line = axes.plot(x: xs, y: ys, style: style, marker: .circle, markerSize: 3.2, maxMarkers: label == nil ? 45 : 25, halo: true, label: label)
        axes.scatter([(xs[0], ys[0])], marker: .square, size: 7.5, color: .white, edge: .text)
        // Over the path, thin, dotted and pale: a point the algorithm keeps, not where it is.
        let second = result.secondPoint.map { second in
            let faint = color.withAlpha(0.8)
            return (line: axes.plot(x: second.points.map(\.x), y: second.points.map(\.y), style: LineStyle(color: faint, width: 1.1, dash: [1.5, 2])),
                    end: axes.scatter([(second.points.last!.x, second.points.last!.y)], marker: .circle, size: 5.5, color: .white, edge: faint))
        }
        if let (point, step) = exit(result, window) {
            let diverged = result.divergedAt != nil
            let mark = axes.scatter([(point.x, point.y)], marker: diverged ? .cross : .triangle, size: diverged ? 10 : 8, color: color)
            let note = axes.text(diverged ? "diverged at step \(step)" : "left the window at step \(step)", x: point.x, y: point.y,
                                 offset: PagePoint(7, -3), size: 7.5)
            return PathArtists(line: line, end: nil, exit: (mark, note, step), second: second)
        }
        return PathArtists(line: line, end: axes.scatter([(xs.last!, ys.last!)], marker: .circle, size: 7.5, color: color), exit: nil,
                           second: second)
    }

    /// Where a path that diverged or ended outside the window leaves it (the boundary point of
    /// its last segment from inside) and at which step: the step of the divergence, or of the
    /// first point outside. nil when the path ends inside without diverging.
    static func exit(_ result: TrajectoryResult, _ window: Window) -> (point: Surfaces.Point, step: Int)? {
        let inside = { (p: Surfaces.Point) in window.x.contains(p.x) && window.y.contains(p.y) }
        let points = result.points
        if result.divergedAt == nil && inside(points.last!) { return nil }
        guard let last = points.lastIndex(where: inside) else { return (points[0], result.divergedAt ?? 0) }
        guard last + 1 < points.count else { return (points[last], result.divergedAt ?? last) }
        // Cut the segment leaving the window at the window's boundary.
        let a = points[last], b = points[last + 1]
        var t = 1.0
        for (lo, hi, from, to) in [(window.x.lowerBound, window.x.upperBound, a.x, b.x), (window.y.lowerBound, window.y.upperBound, a.y, b.y)] where to != from {
            if to > hi { t = min(t, (hi - from) / (to - from)) }
            if to < lo { t = min(t, (lo - from) / (to - from)) }
        }
        return (Surfaces.Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t), result.divergedAt ?? last + 1)
    }

    /// The spec and the final outcome, or (in an animation's frame) the loss after step k.
    static func panelTitle(_ result: TrajectoryResult, atStep k: Int? = nil) -> String {
        let outcome = loss(result, atStep: k).map { (k == nil ? "final loss " : "loss ") + Ticks.compact($0) }
            ?? "diverged at step \(result.divergedAt!)"
        return wrapSpec(result.label) + "\n" + outcome
    }

    static func legendLabel(_ result: TrajectoryResult, atStep k: Int? = nil) -> String {
        wrapSpec(result.label) + (loss(result, atStep: k).map { "  → \(Ticks.compact($0))" } ?? "  diverged at step \(result.divergedAt!)")
    }

    /// The loss after step k (the final one for nil); nil once the path has diverged.
    static func loss(_ result: TrajectoryResult, atStep k: Int?) -> Double? {
        if let diverged = result.divergedAt, k.map({ $0 >= diverged }) ?? true { return nil }
        return result.losses[min(k ?? result.losses.count - 1, result.losses.count - 1)]
    }

    /// Breaks a long spec after its commas into lines of about `width` characters, a nested
    /// schedule starting a line of its own, so panel titles and legends stay narrow (a composite
    /// schedule's spec runs to a hundred characters).
    static func wrapSpec(_ label: String, width: Int = 45) -> String {
        guard label.count > 30 else { return label }
        var lines: [Substring] = [], line: Substring = ""
        for piece in label.split(separator: ",", omittingEmptySubsequences: false) {
            if line.isEmpty {
                line = piece
            } else if piece.hasPrefix("schedule=") || line.count + 1 + piece.count > width {
                lines.append(line + ",")
                line = piece
            } else {
                line += "," + piece
            }
        }
        return (lines + [line]).joined(separator: "\n")
    }

    /// "bowl: 20x² + 2y²", or just the formula for a typed one.
    static func title(_ surface: Surface) -> String {
        surface.isTypedFormula ? pretty(surface.formula) : "\(surface.name): \(pretty(surface.formula))"
    }

    /// "20*x^2 + 2*y^2" → "20x² + 2y²" for titles: powers as superscripts, a coefficient
    /// written next to what it multiplies, other products as "·".
    static func pretty(_ formula: String) -> String {
        let powers = formula.replacingOccurrences(of: "^2", with: "²").replacingOccurrences(of: "^3", with: "³")
        let juxtaposed = powers.replacingOccurrences(of: #"(\d)\*([a-z(])"#, with: "$1$2", options: .regularExpression)
        return juxtaposed.replacingOccurrences(of: "*", with: "·")
    }
}

/// A figure cannot be drawn from these results.
public struct FigureError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
