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

    /// The range a 3-D view clips z to: the 5th to 95th percentile of the finite samples widened
    /// by half their spread on each side, within the samples' own range. A smooth surface keeps
    /// its whole range; a pole (1/(x² + y²)) is cut where it would squeeze the rest into a sliver.
    public var robustRange: ClosedRange<Double> {
        let finite = values.filter(\.isFinite).sorted()
        guard let lowest = finite.first, let highest = finite.last else { return 0...1 }
        let quantile = { (p: Double) in finite[Int((Double(finite.count - 1) * p).rounded())] }
        let low = quantile(0.05), high = quantile(0.95), spread = high - low
        let range = max(lowest, low - 0.5 * spread)...min(highest, high + 0.5 * spread)
        return range.upperBound > range.lowerBound ? range : (range.lowerBound - 0.5)...(range.upperBound + 0.5)
    }
    /// Whether the lowest finite sample lies inside the window rather than on its edge: a floor to
    /// resolve (a bowl, a valley), not values that go on falling past the window (a saddle, a slope).
    public var lowestIsInside: Bool {
        guard let k = values.indices.min(by: { values[$0] < values[$1] }), values[k].isFinite else { return false }
        let i = k % xs.count, j = k / xs.count
        return i > 0 && i < xs.count - 1 && j > 0 && j < ys.count - 1
    }
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

    /// Every multiple of a nice step (1, 2, 2.5 or 5 × 10^k) from the one at or below `minimum` to
    /// the one at or above `maximum`, the step the smallest that makes at most `count` of them
    /// (matplotlib's `MaxNLocator`): short labels, for a surface with no floor to resolve.
    public static func evenlySpaced(minimum: Double, maximum: Double, count: Int) -> [Double] {
        precondition(count >= 3 && maximum > minimum)
        var step = Ticks.niceStep((maximum - minimum) / Double(count - 1))
        while (maximum / step).rounded(.up) - (minimum / step).rounded(.down) >= Double(count) { step = Ticks.niceStep(step * 1.01) }
        return stride(from: (minimum / step).rounded(.down), through: (maximum / step).rounded(.up), by: 1).map { $0 * step }
    }
}

/// Marching squares over a ScalarGrid, treating values as linear along cell edges.
///
/// Each cell is walked corner by corner (counter-clockwise) and yields, between each crossing
/// where the walk leaves the region ≥ level and the next where it re-enters, a contour segment
/// with the region on its left (saddle cells join the two high corners). The segments chain into
/// the contour lines, and the lines closed along the window's edge outline the filled region,
/// so fills and lines agree everywhere.
public enum MarchingSquares {
    /// An edge crossing, keyed by the edge so neighbouring cells find the same point.
    struct Crossing { var edge: Int; var point: (Double, Double) }

    /// Walks cell (i, j) for `level`; returns its contour segments.
    static func walk(_ g: ScalarGrid, _ i: Int, _ j: Int, _ level: Double) -> [(Crossing, Crossing)] {
        let nx = g.xs.count
        let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        // Horizontal edge from (i, j) to (i+1, j) is 2·index, vertical from (i, j) to (i, j+1) is 2·index+1.
        let edges = [2 * (j * nx + i), 2 * (j * nx + i + 1) + 1, 2 * ((j + 1) * nx + i), 2 * (j * nx + i) + 1]
        var crossings: [(Crossing, leaving: Bool)] = []
        for k in 0..<4 {
            let (ai, aj) = corners[k], (bi, bj) = corners[(k + 1) % 4]
            let va = g.value(ai, aj), vb = g.value(bi, bj)
            let aIn = va >= level, bIn = vb >= level
            if aIn != bIn {
                // Infinite samples put the crossing at the finite end.
                let t = va.isInfinite ? 1 : vb.isInfinite ? 0 : (level - va) / (vb - va)
                let p = (g.xs[ai] + (g.xs[bi] - g.xs[ai]) * t, g.ys[aj] + (g.ys[bj] - g.ys[aj]) * t)
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
        return segments
    }

    /// The contour at `level` as chains of crossings, each with the region ≥ level on its left:
    /// loops (ending where they start) and chains running from the window's edge to its edge.
    static func chains(_ g: ScalarGrid, level: Double) -> [[Crossing]] {
        // Each segment runs from where the walk leaves the region to where it re-enters, so
        // the cell beyond its end edge holds the segment that starts there.
        var segments: [(Crossing, Crossing)] = []
        for j in 0..<(g.ys.count - 1) {
            for i in 0..<(g.xs.count - 1) { segments += walk(g, i, j, level) }
        }
        let startingAt = Dictionary(uniqueKeysWithValues: segments.indices.map { (segments[$0].0.edge, $0) })
        let endEdges = Set(segments.map(\.1.edge))
        var used = [Bool](repeating: false, count: segments.count)
        var chains: [[Crossing]] = []
        // Chains from the window's edge (no segment ends where they start) first, then the loops.
        for s in segments.indices.filter({ !endEdges.contains(segments[$0].0.edge) }) + segments.indices where !used[s] {
            var chain = [segments[s].0], k: Int? = s
            while let current = k, !used[current] {
                used[current] = true
                chain.append(segments[current].1)
                k = startingAt[segments[current].1.edge]
            }
            chains.append(chain)
        }
        return chains
    }

    /// The region where the grid is ≥ `level` as a few polygons, outlines counter-clockwise and
    /// holes clockwise (fill with the non-zero rule): the contour's loops, and its chains joined
    /// along the window's edge, which is inside the region between a chain's end and the next start.
    static func superlevelPolygons(_ g: ScalarGrid, level: Double, chains: [[Crossing]]) -> [[(Double, Double)]] {
        let nx = g.xs.count, ny = g.ys.count
        let isLoop = { (chain: [Crossing]) in chain.first!.edge == chain.last!.edge }
        var polygons = chains.filter(isLoop).map { $0.map(\.point) }
        let open = chains.filter { !isLoop($0) }
        // The window's edge counter-clockwise from its lower-left corner: each grid edge on it and
        // the sample it leads to.
        var ring: [(edge: Int, to: (i: Int, j: Int))] = []
        for i in 0..<(nx - 1) { ring.append((2 * i, (i + 1, 0))) }
        for j in 0..<(ny - 1) { ring.append((2 * (j * nx + nx - 1) + 1, (nx - 1, j + 1))) }
        for i in stride(from: nx - 1, to: 0, by: -1) { ring.append((2 * ((ny - 1) * nx + i - 1), (i - 1, ny - 1))) }
        for j in stride(from: ny - 1, to: 0, by: -1) { ring.append((2 * ((j - 1) * nx) + 1, (0, j - 1))) }
        let position = Dictionary(uniqueKeysWithValues: ring.indices.map { (ring[$0].edge, $0) })
        let chainStartingAt = Dictionary(uniqueKeysWithValues: open.indices.map { (position[open[$0][0].edge]!, $0) })
        var used = Set<Int>()
        for first in open.indices where !used.contains(first) {
            var polygon: [(Double, Double)] = [], k = first
            while used.insert(k).inserted {
                polygon += open[k].map(\.point)
                var m = position[open[k].last!.edge]!
                repeat {
                    // Only the window's corners: the samples between them are collinear.
                    let (i, j) = ring[m].to
                    if (i == 0 || i == nx - 1) && (j == 0 || j == ny - 1) { polygon.append((g.xs[i], g.ys[j])) }
                    m = (m + 1) % ring.count
                } while chainStartingAt[m] == nil
                k = chainStartingAt[m]!
            }
            polygons.append(polygon)
        }
        // A contour that never meets the edge leaves the edge all in or all out.
        if open.isEmpty && g.value(0, 0) >= level {
            polygons.append([(g.xs[0], g.ys[0]), (g.xs[nx - 1], g.ys[0]), (g.xs[nx - 1], g.ys[ny - 1]), (g.xs[0], g.ys[ny - 1])])
        }
        return polygons
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
        // Each level is traced once; its lines and its filled region share the trace.
        let chains = levels.indices.map { $0 == 0 ? [] : MarchingSquares.chains(grid, level: levels[$0]) }
        regions = levels.indices.map { $0 == 0 ? [] : MarchingSquares.superlevelPolygons(grid, level: levels[$0], chains: chains[$0]) }
        lines = chains.map { $0.map { $0.map(\.point) } }
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
