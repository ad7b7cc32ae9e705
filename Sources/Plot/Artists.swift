import Foundation
import CCairo

/// Marker shapes for points on a line or a scatter.
public enum Marker: Sendable {
    case circle, square, triangle, star
    /// An "×", for something that went wrong (a diverged run).
    case cross

    /// Draws the marker centred at `p`, `size` points across, filled with `color` and edged with
    /// `edge` so it stays visible on any background.
    func draw(_ canvas: Canvas, at p: PagePoint, size: Double, color: Color, edge: Color) {
        let cr = canvas.cr, r = size / 2
        cairo_new_path(cr)
        switch self {
        case .circle:
            cairo_arc(cr, p.x, p.y, r, 0, 2 * Double.pi)
        case .square:
            cairo_rectangle(cr, p.x - r * 0.85, p.y - r * 0.85, r * 1.7, r * 1.7)
        case .triangle:
            polygon(cr, (0..<3).map { k -> PagePoint in
                let a = Double(k) * 2 * Double.pi / 3
                return PagePoint(p.x + r * 1.15 * sin(a), p.y - r * 1.15 * cos(a))
            })
        case .star:
            polygon(cr, (0..<10).map { k in
                let radius = k % 2 == 0 ? r * 1.3 : r * 0.55, a = Double(k) * .pi / 5
                return PagePoint(p.x + radius * sin(a), p.y - radius * cos(a))
            })
        case .cross:
            // Strokes, drawn twice: a wide edge-coloured one under the coloured one.
            let a = Double.pi / 4
            for (width, c) in [(size * 0.42, edge), (size * 0.22, color)] {
                for k in 0..<2 {
                    let angle = a + Double(k) * .pi / 2, dx = r * cos(angle), dy = r * sin(angle)
                    canvas.line(PagePoint(p.x - dx, p.y - dy), PagePoint(p.x + dx, p.y + dy), c, width: width)
                }
            }
            return
        }
        canvas.setColor(color)
        cairo_fill_preserve(cr)
        canvas.setColor(edge)
        cairo_set_line_width(cr, max(0.8, size * 0.12))
        cairo_stroke(cr)
    }

    private func polygon(_ cr: OpaquePointer, _ points: [PagePoint]) {
        cairo_move_to(cr, points[0].x, points[0].y)
        for q in points.dropFirst() { cairo_line_to(cr, q.x, q.y) }
        cairo_close_path(cr)
    }
}

/// How a line is stroked.
public struct LineStyle: Sendable {
    public var color: Color
    public var width: Double
    /// On/off lengths in points; empty for a solid line.
    public var dash: [Double]

    public init(color: Color, width: Double = 1.6, dash: [Double] = []) {
        self.color = color; self.width = width; self.dash = dash
    }
    public static let dashed: [Double] = [5, 3]
    public static let dotted: [Double] = [1, 2.5]
}

/// What a legend shows for one labelled artist.
struct LegendEntry {
    var label: String
    var line: LineStyle?
    var marker: Marker?
    var markerColor: Color
    /// A filled swatch (bands, bars) instead of a line sample.
    var swatch: Color?
}

/// A data → figure mapping for one axes.
struct PlotMap {
    var x: AxisMap
    var y: AxisMap
    func callAsFunction(_ dx: Double, _ dy: Double) -> PagePoint { PagePoint(x(dx), y(dy)) }
}

/// Anything drawn inside an axes. Artists know their data extent (for autoscaling), how to draw
/// themselves, what the legend says about them and which points they occupy (so a legend can
/// avoid them).
protocol Artist {
    /// Data values this artist needs visible: x values and y values.
    var extent: (xs: [Double], ys: [Double]) { get }
    /// True when the extent is a window to show exactly (a contour's domain, a heatmap's cells):
    /// the axes then uses it without padding and ignores the extents of the other artists.
    var extentIsExact: Bool { get }
    var legendEntry: LegendEntry? { get }
    /// Points in data coordinates that a legend must not cover.
    func occupiedPoints() -> [(Double, Double)]
    /// Those points on the page, plus whatever else is drawn between them (a line's segments).
    func occupiedPagePoints(_ map: PlotMap) -> [PagePoint]
    /// Draws clipped to the axes frame.
    func draw(_ canvas: Canvas, _ map: PlotMap)
    /// Draws the markers whose centre lies in `frame`, after clipping ends, so a marker on the
    /// window's edge shows whole.
    func drawMarkers(_ canvas: Canvas, _ map: PlotMap, within frame: Rect)
}

extension Artist {
    var extentIsExact: Bool { false }
    var legendEntry: LegendEntry? { nil }
    func occupiedPoints() -> [(Double, Double)] { [] }
    func occupiedPagePoints(_ map: PlotMap) -> [PagePoint] {
        occupiedPoints().filter { $0.0.isFinite && $0.1.isFinite && map.x.scale.accepts($0.0) && map.y.scale.accepts($0.1) }
            .map { map($0.0, $0.1) }
    }
    func draw(_ canvas: Canvas, _ map: PlotMap) {}
    func drawMarkers(_ canvas: Canvas, _ map: PlotMap, within frame: Rect) {}
}

/// A polyline through (x, y) points with optional markers; non-finite points break the line.
struct LineArtist: Artist {
    var xs: [Double], ys: [Double]
    var style: LineStyle
    var marker: Marker?
    var markerSize: Double
    /// At most this many markers; a long path shows every k-th point so markers never merge.
    var maxMarkers: Int
    /// Mark every k-th point regardless of the count (set when an animation changes the data).
    var markEvery: Int?
    /// A white underlay so the line stays visible over a dark or busy background.
    var halo: Bool
    var label: String?

    var extent: (xs: [Double], ys: [Double]) { (xs, ys) }
    var legendEntry: LegendEntry? {
        label.map { LegendEntry(label: $0, line: style, marker: marker, markerColor: style.color) }
    }
    func occupiedPoints() -> [(Double, Double)] { Array(zip(xs, ys)) }

    /// The vertices and a point every 4 pt along each segment, so a legend avoids the line
    /// between its vertices too (a sparse line, one point per epoch, ran behind a legend).
    func occupiedPagePoints(_ map: PlotMap) -> [PagePoint] {
        runs(map).flatMap { run in
            zip(run, run.dropFirst()).flatMap { a, b in
                let steps = max(1, Int(((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot() / 4))
                return (0..<steps).map { PagePoint(a.x + (b.x - a.x) * Double($0) / Double(steps), a.y + (b.y - a.y) * Double($0) / Double(steps)) }
            } + run.suffix(1)
        }
    }

    /// The drawable points, split into runs at non-finite ones.
    private func runs(_ map: PlotMap) -> [[PagePoint]] {
        var runs: [[PagePoint]] = [[]]
        for (x, y) in zip(xs, ys) {
            if x.isFinite && y.isFinite && map.x.scale.accepts(x) && map.y.scale.accepts(y) {
                runs[runs.count - 1].append(map(x, y))
            } else if !runs[runs.count - 1].isEmpty {
                runs.append([])
            }
        }
        return runs
    }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        let runs = runs(map)
        if halo {
            for run in runs { canvas.polyline(run, Color.white.withAlpha(0.85), width: style.width + 2.2, dash: style.dash) }
        }
        for run in runs { canvas.polyline(run, style.color, width: style.width, dash: style.dash) }
    }

    /// Every how many points a marker goes so that at most `maxMarkers` show.
    func markerSpacing(points: Int) -> Int { max(1, Int((Double(points) / Double(max(maxMarkers, 1))).rounded(.up))) }

    func drawMarkers(_ canvas: Canvas, _ map: PlotMap, within frame: Rect) {
        guard let marker else { return }
        let points = runs(map).flatMap { $0 }
        let every = markEvery ?? markerSpacing(points: points.count)
        for (k, p) in points.enumerated() where k % every == 0 && frame.contains(p) {
            marker.draw(canvas, at: p, size: markerSize, color: style.color, edge: .white)
        }
    }
}

/// Individual markers at data points.
struct ScatterArtist: Artist {
    var points: [(Double, Double)]
    var marker: Marker
    var size: Double
    var color: Color
    var edge: Color
    var label: String?

    var extent: (xs: [Double], ys: [Double]) { (points.map(\.0), points.map(\.1)) }
    var legendEntry: LegendEntry? { label.map { LegendEntry(label: $0, marker: marker, markerColor: color) } }
    func occupiedPoints() -> [(Double, Double)] { points }

    func drawMarkers(_ canvas: Canvas, _ map: PlotMap, within frame: Rect) {
        for (x, y) in points where x.isFinite && y.isFinite && map.x.scale.accepts(x) && map.y.scale.accepts(y) {
            let p = map(x, y)
            if frame.contains(p) { marker.draw(canvas, at: p, size: size, color: color, edge: edge) }
        }
    }
}

/// The region between two curves over the same x values (a min–max band).
struct BandArtist: Artist {
    var xs: [Double], lower: [Double], upper: [Double]
    var color: Color
    var label: String?

    var extent: (xs: [Double], ys: [Double]) { (xs + xs, lower + upper) }
    var legendEntry: LegendEntry? { label.map { LegendEntry(label: $0, markerColor: color, swatch: color) } }
    func occupiedPoints() -> [(Double, Double)] { Array(zip(xs, lower)) + Array(zip(xs, upper)) }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        let valid = xs.indices.filter { i in
            [xs[i], lower[i], upper[i]].allSatisfy(\.isFinite) && map.x.scale.accepts(xs[i])
                && map.y.scale.accepts(lower[i]) && map.y.scale.accepts(upper[i])
        }
        guard valid.count >= 2 else { return }
        let polygon = valid.map { map(xs[$0], upper[$0]) } + valid.reversed().map { map(xs[$0], lower[$0]) }
        canvas.fillPolygons([polygon], color)
    }
}

/// One row of a range chart: a label's y position and the x intervals to draw as bars.
public struct RangeRow: Sendable {
    public var y: Double
    public var ranges: [ClosedRange<Double>]
    public var color: Color
    public init(y: Double, ranges: [ClosedRange<Double>], color: Color) {
        self.y = y; self.ranges = ranges; self.color = color
    }
}

/// Horizontal bars spanning x intervals, one row per category (e.g. tolerated learning rates).
struct RangeBarsArtist: Artist {
    var rows: [RangeRow]
    /// Bar thickness as a fraction of the distance between rows.
    var thickness: Double

    var extent: (xs: [Double], ys: [Double]) {
        (rows.flatMap { $0.ranges.flatMap { [$0.lowerBound, $0.upperBound] } }, rows.flatMap { [$0.y - 0.5, $0.y + 0.5] })
    }
    func occupiedPoints() -> [(Double, Double)] {
        rows.flatMap { row in row.ranges.flatMap { [($0.lowerBound, row.y), ($0.upperBound, row.y)] } }
    }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        for row in rows {
            let top = map.y(row.y + thickness / 2), bottom = map.y(row.y - thickness / 2)
            for range in row.ranges {
                var x0 = map.x(range.lowerBound), x1 = map.x(range.upperBound)
                // A single tolerated value is still drawn, as a thin bar.
                if x1 - x0 < 2 { let mid = (x0 + x1) / 2; x0 = mid - 1; x1 = mid + 1 }
                let rect = Rect(x: x0, y: min(top, bottom), width: x1 - x0, height: abs(bottom - top))
                canvas.fill(rect, row.color.withAlpha(0.85))
                canvas.strokeRect(rect, row.color, width: 0.8)
            }
        }
    }
}

/// A matrix of coloured cells with optional text in each (a confusion matrix). Cell (r, c) is
/// centred on x = c, y = r; the axes shows row 0 at the top.
struct HeatmapArtist: Artist {
    var values: [[Double]]
    var colormap: Colormap
    var range: ClosedRange<Double>
    var annotations: [[String]]?
    var invalidColor: Color

    var extent: (xs: [Double], ys: [Double]) {
        ([-0.5, Double(values.first?.count ?? 0) - 0.5], [-0.5, Double(values.count) - 0.5])
    }
    var extentIsExact: Bool { true }

    func color(_ v: Double) -> Color {
        guard v.isFinite else { return invalidColor }
        let span = range.upperBound - range.lowerBound
        return colormap.color(at: span > 0 ? (v - range.lowerBound) / span : 0)
    }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let a = map(Double(c) - 0.5, Double(r) - 0.5), b = map(Double(c) + 0.5, Double(r) + 0.5)
                let rect = Rect(x: min(a.x, b.x), y: min(a.y, b.y), width: abs(b.x - a.x), height: abs(b.y - a.y))
                let fill = color(v)
                // A hair wider than the cell, so anti-aliased edges of neighbours leave no light seams.
                canvas.fill(Rect(x: rect.x - 0.15, y: rect.y - 0.15, width: rect.width + 0.3, height: rect.height + 0.3), fill)
                if let text = annotations?[r][c] {
                    let size = min(10, rect.height * 0.4, rect.width / Double(max(text.count, 1)) * 1.6)
                    canvas.text(text, at: PagePoint(rect.x + rect.width / 2, rect.y + rect.height / 2), size: size,
                                color: fill.contrastingText, anchor: .center, baseline: .middle)
                }
            }
        }
    }
}

/// A horizontal reference line across the whole axes (a tolerance threshold, the start loss).
struct ReferenceLineArtist: Artist {
    var value: Double
    var style: LineStyle
    var label: String?

    var extent: (xs: [Double], ys: [Double]) { ([], [value]) }
    var legendEntry: LegendEntry? { label.map { LegendEntry(label: $0, line: style, markerColor: style.color) } }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        guard map.y.scale.accepts(value) else { return }
        canvas.polyline([PagePoint(map.x.from, map.y(value)), PagePoint(map.x.to, map.y(value))], style.color, width: style.width, dash: style.dash)
    }
}

/// A short text at a data point, offset in points (labels such as "diverged").
struct TextArtist: Artist {
    var text: String
    var x: Double, y: Double
    var offset: PagePoint
    var size: Double
    var color: Color

    var extent: (xs: [Double], ys: [Double]) { ([], []) }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        guard !text.isEmpty, x.isFinite, y.isFinite else { return }
        let left = min(map.x.from, map.x.to), top = min(map.y.from, map.y.to)
        draw(canvas, at: map(x, y), within: Rect(x: left, y: top, width: abs(map.x.to - map.x.from), height: abs(map.y.to - map.y.from)))
    }

    /// Draws the text beside page point `p`, inside `bounds`: flipped to the other side of the
    /// point near an edge (so it never covers the point), then clamped.
    func draw(_ canvas: Canvas, at p: PagePoint, within bounds: Rect) {
        let (w, h) = canvas.measure(text, size: size)
        let left = bounds.x, right = bounds.maxX, top = bounds.y, bottom = bounds.maxY
        var at = PagePoint(p.x + offset.x, p.y + offset.y)
        if at.x + w > right - 2 { at.x = p.x - offset.x - w }
        if at.y - h < top + 2 { at.y = p.y - offset.y + h }
        at.x = min(max(at.x, left + 2), right - w - 2)
        at.y = min(max(at.y, top + h + 2), bottom - 2)
        let box = Rect(x: at.x - 2, y: at.y - h - 1, width: w + 4, height: h + 2)
        canvas.fill(box, Color.white.withAlpha(0.8))
        canvas.text(text, at: at, size: size, color: color, anchor: .left, baseline: .bottom)
    }
}

/// Arrows between pairs of data points (an optimizer's step, its velocity).
struct ArrowsArtist: Artist {
    var from: [(Double, Double)], to: [(Double, Double)]
    var color: Color
    var width: Double

    var extent: (xs: [Double], ys: [Double]) { (from.map(\.0) + to.map(\.0), from.map(\.1) + to.map(\.1)) }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        for (a, b) in zip(from, to) where [a.0, a.1, b.0, b.1].allSatisfy(\.isFinite) {
            canvas.arrow(map(a.0, a.1), map(b.0, b.1), color, width: width)
        }
    }
}

/// Axis-aligned ellipses with radii in data units (a per-coordinate step size).
struct EllipsesArtist: Artist {
    var centers: [(Double, Double)], radii: [(Double, Double)]
    var color: Color

    var extent: (xs: [Double], ys: [Double]) { (centers.map(\.0), centers.map(\.1)) }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        for (c, r) in zip(centers, radii) where [c.0, c.1, r.0, r.1].allSatisfy(\.isFinite) {
            let center = map(c.0, c.1), corner = map(c.0 + r.0, c.1 + r.1)
            canvas.ellipse(center: center, rx: abs(corner.x - center.x), ry: abs(corner.y - center.y), color, width: 1)
        }
    }
}
