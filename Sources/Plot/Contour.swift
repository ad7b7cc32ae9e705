import Foundation

/// Samples of a function on a rectangular grid: `value(i, j) = f(xs[i], ys[j])`.
public struct ScalarGrid: Sendable {
    public let xs: [Double], ys: [Double]
    /// Row-major, one row per y: `values[j * xs.count + i]`. Non-finite samples (an overflowing
    /// surface) are stored as +∞, so they count as above every level.
    public let values: [Double]

    public init(xs: [Double], ys: [Double], values: [Double]) {
        precondition(xs.count >= 2 && ys.count >= 2 && values.count == xs.count * ys.count, "grid size mismatch")
        self.xs = xs; self.ys = ys
        self.values = values.map { $0.isFinite ? $0 : .infinity }
    }

    /// Samples `f` at `columns` × `rows` evenly spaced points spanning the window, edges included.
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>, columns: Int, rows: Int, _ f: (Double, Double) -> Double) {
        let xs = (0..<columns).map { x.lowerBound + (x.upperBound - x.lowerBound) * Double($0) / Double(columns - 1) }
        let ys = (0..<rows).map { y.lowerBound + (y.upperBound - y.lowerBound) * Double($0) / Double(rows - 1) }
        self.init(xs: xs, ys: ys, values: ys.flatMap { yv in xs.map { f($0, yv) } })
    }

    public func value(_ i: Int, _ j: Int) -> Double { values[j * xs.count + i] }
    public var xRange: ClosedRange<Double> { xs.first!...xs.last! }
    public var yRange: ClosedRange<Double> { ys.first!...ys.last! }
    /// Smallest and largest finite sample.
    public var finiteRange: ClosedRange<Double> {
        let finite = values.filter(\.isFinite)
        return (finite.min() ?? 0)...(finite.max() ?? 0)
    }
}

/// Contour levels.
public enum ContourLevels {
    /// `count` levels from `minimum` up to `maximum`, spaced geometrically in their height above
    /// the minimum, the lowest `decades` decades below the highest: on a bowl this gives as many
    /// lines near the floor as on the walls, where evenly spaced levels would leave the floor blank.
    public static func logSpaced(minimum: Double, maximum: Double, count: Int, decades: Double = 3) -> [Double] {
        precondition(count >= 3 && maximum > minimum)
        let top = maximum - minimum, bottom = top * pow(10, -decades)
        return [minimum] + (0..<(count - 1)).map { k in
            minimum + bottom * pow(top / bottom, Double(k) / Double(count - 2))
        }
    }

    /// `count` evenly spaced levels from `minimum` to `maximum`.
    public static func linear(minimum: Double, maximum: Double, count: Int) -> [Double] {
        (0..<count).map { minimum + (maximum - minimum) * Double($0) / Double(count - 1) }
    }
}

/// Marching squares over a ScalarGrid, treating values as linear along cell edges.
///
/// Each cell is walked corner by corner (counter-clockwise); the walk emits the corners at or
/// above the level and the points where an edge crosses it. That walk is at once the polygon
/// of the cell's part above the level (for filled contours) and, between each crossing where
/// it leaves the region and the next where it re-enters, a contour segment. Fills and lines
/// therefore agree everywhere, saddle cells included (they join the two high corners).
public enum MarchingSquares {
    /// An edge crossing, keyed by the edge so neighbouring cells find the same point.
    struct Crossing { var edge: Int; var point: (Double, Double) }

    /// Walks cell (i, j) for `level`; returns the polygon of the part ≥ level and the segments.
    static func walk(_ g: ScalarGrid, _ i: Int, _ j: Int, _ level: Double) -> (polygon: [(Double, Double)], segments: [(Crossing, Crossing)]) {
        let nx = g.xs.count
        let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        // Horizontal edge from (i, j) to (i+1, j) is 2·index, vertical from (i, j) to (i, j+1) is 2·index+1.
        let edges = [2 * (j * nx + i), 2 * (j * nx + i + 1) + 1, 2 * ((j + 1) * nx + i), 2 * (j * nx + i) + 1]
        var polygon: [(Double, Double)] = [], crossings: [(Crossing, leaving: Bool)] = []
        for k in 0..<4 {
            let (ai, aj) = corners[k], (bi, bj) = corners[(k + 1) % 4]
            let va = g.value(ai, aj), vb = g.value(bi, bj)
            let aIn = va >= level, bIn = vb >= level
            if aIn { polygon.append((g.xs[ai], g.ys[aj])) }
            if aIn != bIn {
                // Infinite samples put the crossing at the finite end.
                let t = va.isInfinite ? 1 : vb.isInfinite ? 0 : (level - va) / (vb - va)
                let p = (g.xs[ai] + (g.xs[bi] - g.xs[ai]) * t, g.ys[aj] + (g.ys[bj] - g.ys[aj]) * t)
                polygon.append(p)
                crossings.append((Crossing(edge: edges[k], point: p), leaving: aIn))
            }
        }
        var segments: [(Crossing, Crossing)] = []
        if !crossings.isEmpty {
            let start = crossings[0].leaving ? 0 : 1
            for k in stride(from: start, to: start + crossings.count, by: 2) {
                segments.append((crossings[k % crossings.count].0, crossings[(k + 1) % crossings.count].0))
            }
        }
        return (polygon, segments)
    }

    /// The region where the grid is ≥ `level`, as counter-clockwise polygons that tile it
    /// (whole cells are merged into one rectangle per run along a row).
    public static func superlevelPolygons(_ g: ScalarGrid, level: Double) -> [[(Double, Double)]] {
        var polygons: [[(Double, Double)]] = []
        for j in 0..<(g.ys.count - 1) {
            var runStart: Int?
            func closeRun(at end: Int) {
                guard let s = runStart else { return }
                polygons.append([(g.xs[s], g.ys[j]), (g.xs[end], g.ys[j]), (g.xs[end], g.ys[j + 1]), (g.xs[s], g.ys[j + 1])])
                runStart = nil
            }
            for i in 0..<(g.xs.count - 1) {
                let full = g.value(i, j) >= level && g.value(i + 1, j) >= level
                    && g.value(i + 1, j + 1) >= level && g.value(i, j + 1) >= level
                if full { if runStart == nil { runStart = i }; continue }
                closeRun(at: i)
                let polygon = walk(g, i, j, level).polygon
                if polygon.count >= 3 { polygons.append(polygon) }
            }
            closeRun(at: g.xs.count - 1)
        }
        return polygons
    }

    /// The contour lines at `level`, with the cell segments joined into polylines (closed ones
    /// end where they start).
    public static func lines(_ g: ScalarGrid, level: Double) -> [[(Double, Double)]] {
        var segments: [(Crossing, Crossing)] = []
        for j in 0..<(g.ys.count - 1) {
            for i in 0..<(g.xs.count - 1) { segments += walk(g, i, j, level).segments }
        }
        var byEdge: [Int: [Int]] = [:]
        for (s, seg) in segments.enumerated() { byEdge[seg.0.edge, default: []].append(s); byEdge[seg.1.edge, default: []].append(s) }
        var used = [Bool](repeating: false, count: segments.count)
        var lines: [[(Double, Double)]] = []
        // From an edge, follow the unused segment through it and return its other end.
        func next(from edge: Int) -> Crossing? {
            guard let s = byEdge[edge]?.first(where: { !used[$0] }) else { return nil }
            used[s] = true
            return segments[s].0.edge == edge ? segments[s].1 : segments[s].0
        }
        for s in segments.indices where !used[s] {
            used[s] = true
            var forward = [segments[s].0, segments[s].1]
            while let c = next(from: forward.last!.edge) { forward.append(c) }
            var backward: [Crossing] = []
            while let c = next(from: (backward.last ?? forward[0]).edge) { backward.append(c) }
            lines.append((backward.reversed() + forward).map(\.point))
        }
        return lines
    }
}

/// Contours of a grid at increasing levels, traced once and drawable in any number of panels
/// (small multiples of one surface share it).
public final class ContourSet: Sendable {
    public let grid: ScalarGrid
    public let levels: [Double]
    /// regions[k]: where the grid is ≥ levels[k] (k ≥ 1; the lowest band is the whole window).
    let regions: [[[(Double, Double)]]]
    /// lines[k]: the contour lines at levels[k] (empty for k = 0, the floor).
    let lines: [[[(Double, Double)]]]

    public init(_ grid: ScalarGrid, levels: [Double]) {
        precondition(levels.count >= 2 && zip(levels, levels.dropFirst()).allSatisfy { $0 < $1 }, "levels must increase")
        self.grid = grid
        self.levels = levels
        regions = levels.indices.map { $0 == 0 ? [] : MarchingSquares.superlevelPolygons(grid, level: levels[$0]) }
        lines = levels.indices.map { $0 == 0 ? [] : MarchingSquares.lines(grid, level: levels[$0]) }
    }

    var window: [(Double, Double)] {
        [(grid.xs.first!, grid.ys.first!), (grid.xs.last!, grid.ys.first!), (grid.xs.last!, grid.ys.last!), (grid.xs.first!, grid.ys.last!)]
    }
}

/// Filled contours: band k between levels[k] and levels[k+1] painted with the k-th band colour;
/// values above the last level take the top band's colour.
struct FilledContourArtist: Artist {
    var contours: ContourSet
    var colormap: Colormap

    var extent: (xs: [Double], ys: [Double]) { (contours.window.map(\.0), contours.window.map(\.1)) }
    var extentIsExact: Bool { true }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        let colors = colormap.bandColors(contours.levels.count - 1)
        // Painting nested regions from low to high leaves no seams between neighbouring bands.
        canvas.fillPolygons([contours.window.map { map($0.0, $0.1) }], colors[0])
        for k in 1..<colors.count {
            canvas.fillPolygons(contours.regions[k].map { $0.map { map($0.0, $0.1) } }, colors[k])
        }
    }
}

/// Contour lines at every level above the floor.
struct ContourLinesArtist: Artist {
    var contours: ContourSet
    var style: LineStyle

    var extent: (xs: [Double], ys: [Double]) { (contours.window.map(\.0), contours.window.map(\.1)) }
    var extentIsExact: Bool { true }

    func draw(_ canvas: Canvas, _ map: PlotMap) {
        for line in contours.lines.joined() {
            canvas.polyline(line.map { map($0.0, $0.1) }, style.color, width: style.width, dash: style.dash)
        }
    }
}
