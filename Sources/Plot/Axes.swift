import Foundation

/// Where an axes puts its legend.
public enum LegendPlacement: Sendable {
    /// The inside corner covering the fewest data points; outside on the right when every
    /// corner would cover some, so the legend never hides what it explains.
    case best
    case outsideRight
    /// In the figure's right-hand column, above its colour bar, which starts below it: a 3-D
    /// panel's `best` (its box leaves no free corner, and a column of the legend's own beside the
    /// colour bar's would stand mostly empty).
    case aboveColorBar
    case upperLeft, upperRight, lowerLeft, lowerRight
}

/// One plotting area with its two axes, ticks, titles, artists and legend (matplotlib's Axes).
/// Add artists with the plotting methods; the figure lays out and draws.
public final class Axes: PanelLayout {
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var xScale: Scale = .linear
    public var yScale: Scale = .linear
    /// Fixed limits; nil means "fit the data" (exactly for contours and heatmaps, with a 5 % margin otherwise).
    public var xLimits: ClosedRange<Double>?
    public var yLimits: ClosedRange<Double>?
    /// Categorical ticks replacing the computed ones (e.g. one per optimizer on a range chart).
    public var xTicks: [Tick]?
    public var yTicks: [Tick]?
    /// Light lines at the major ticks, under the data.
    public var showsGrid = false
    /// Draw y growing downwards (matrix rows top to bottom).
    public var yInverted = false
    /// nil hides the legend even when artists have labels.
    public var legendPlacement: LegendPlacement? = .best

    var artists: [Artist] = []
    /// Indices of the artists an animation redraws every frame (see `ArtistHandle.isAnimated`).
    var animatedArtists: Set<Int> = []

    /// The plotting area in figure points, valid after the figure has been laid out.
    public internal(set) var frame = Rect(x: 0, y: 0, width: 0, height: 0)
    var resolvedLegend: LegendPlacement?
    var xTicksLaidOut: [Tick] = [], yTicksLaidOut: [Tick] = []

    init() {}

    // MARK: Plotting

    /// Arrows from each point of `from` to the matching point of `to`.
    @discardableResult
    public func arrows(from: [(Double, Double)], to: [(Double, Double)], color: Color, width: Double = 1.3) -> ArrowsHandle {
        precondition(from.count == to.count, "arrows: from and to differ in length")
        artists.append(ArrowsArtist(from: from, to: to, color: color, width: width))
        return ArrowsHandle(owner: self, index: artists.count - 1)
    }

    /// Axis-aligned ellipses centred at `centers` with (x, y) radii in data units.
    @discardableResult
    public func ellipses(centers: [(Double, Double)], radii: [(Double, Double)], color: Color) -> EllipsesHandle {
        precondition(centers.count == radii.count, "ellipses: centers and radii differ in length")
        artists.append(EllipsesArtist(centers: centers, radii: radii, color: color))
        return EllipsesHandle(owner: self, index: artists.count - 1)
    }

    /// The band between `lower` and `upper` (a min–max range across runs).
    public func fillBetween(x: [Double], lower: [Double], upper: [Double], color: Color, label: String? = nil) {
        precondition(x.count == lower.count && x.count == upper.count, "fillBetween: lengths differ")
        artists.append(BandArtist(xs: x, lower: lower, upper: upper, color: color, label: label))
    }

    /// Filled contours between consecutive levels of `contours`, coloured from `colormap`.
    public func contourFilled(_ contours: ContourSet, colormap: Colormap = .viridis) {
        artists.append(FilledContourArtist(contours: contours, colormap: colormap))
    }

    /// Contour lines at every level of `contours` above the lowest.
    public func contourLines(_ contours: ContourSet, style: LineStyle = LineStyle(color: Color.white.withAlpha(0.45), width: 0.6)) {
        artists.append(ContourLinesArtist(contours: contours, style: style))
    }

    /// Horizontal bars spanning x intervals, one row per category at y = row.y.
    public func rangeBars(_ rows: [RangeRow], thickness: Double = 0.6) {
        artists.append(RangeBarsArtist(rows: rows, thickness: thickness))
    }

    /// A matrix drawn as coloured cells, row 0 on top, with optional text in each cell; a
    /// non-finite value (a diverged run) gets `invalidColor`.
    public func heatmap(_ values: [[Double]], colormap: Colormap = .viridis, range: ClosedRange<Double>? = nil,
                        annotations: [[String]]? = nil, invalidColor: Color = Color(hex: 0xBDBDBD)) {
        let all = values.flatMap { $0 }.filter(\.isFinite)
        artists.append(HeatmapArtist(values: values, colormap: colormap, range: range ?? ((all.min() ?? 0)...(all.max() ?? 1)),
                                     annotations: annotations, invalidColor: invalidColor))
        yInverted = true
    }

    /// A horizontal line at y across the whole axes.
    public func horizontalLine(y: Double, style: LineStyle, label: String? = nil) {
        artists.append(ReferenceLineArtist(value: y, style: style, label: label))
    }

    // MARK: Geometry

    /// The figure point (in points) where data (x, y) is drawn; valid after layout.
    public func point(x: Double, y: Double) -> PagePoint { plotMap()(x, y) }

    func plotMap() -> PlotMap {
        PlotMap(x: AxisMap(scale: xScale, limits: resolvedX, from: frame.x, to: frame.maxX),
                y: AxisMap(scale: yScale, limits: resolvedY, from: yInverted ? frame.y : frame.maxY,
                           to: yInverted ? frame.maxY : frame.y))
    }

    var resolvedX = 0.0...1.0, resolvedY = 0.0...1.0

    func prepareLayout() {
        resolveLimits()
        resolvedLegend = nil
    }

    /// Settles the limits from the data (or the fixed ones).
    func resolveLimits() {
        let exact = artists.filter(\.extentIsExact)
        let sources = exact.isEmpty ? artists : exact
        resolvedX = xLimits ?? Self.fit(sources.flatMap(\.extent.xs), scale: xScale, pad: exact.isEmpty)
        resolvedY = yLimits ?? Self.fit(sources.flatMap(\.extent.ys), scale: yScale, pad: exact.isEmpty)
    }

    static func fit(_ values: [Double], scale: Scale, pad: Bool) -> ClosedRange<Double> {
        let shown = values.filter(scale.accepts).map(scale.forward)
        guard var lo = shown.min(), var hi = shown.max() else { return scale == .log ? 1...10 : 0...1 }
        if hi - lo < 1e-12 * max(1, abs(hi)) { lo -= scale == .log ? 0.5 : max(1, abs(lo) * 0.1); hi += scale == .log ? 0.5 : max(1, abs(hi) * 0.1) }
        if pad { let m = (hi - lo) * 0.05; lo -= m; hi += m }
        return scale.inverse(lo)...scale.inverse(hi)
    }

    // MARK: Ticks and decorations

    static let tickLength = 3.5, tickLabelSize = 8.0, labelSize = 9.0, titleSize = 9.5

    /// Chooses ticks whose labels fit along `xLength` and `yLength` points without overlapping.
    func layoutTicks(_ canvas: Canvas, xLength: Double, yLength: Double) {
        xTicksLaidOut = xTicks ?? fittingTicks(canvas, range: resolvedX, scale: xScale, length: xLength) { w, _ in w + 8 }
        yTicksLaidOut = yTicks ?? fittingTicks(canvas, range: resolvedY, scale: yScale, length: yLength) { _, h in h + 6 }
    }

    private func fittingTicks(_ canvas: Canvas, range: ClosedRange<Double>, scale: Scale, length: Double,
                              room: (Double, Double) -> Double) -> [Tick] {
        var target = max(2, Int(length / 45))
        while true {
            let ticks = scale == .log ? Ticks.log(range, maxLabels: target) : Ticks.linear(range, target: target)
            let labels = ticks.filter(\.isMajor)
            let needed = labels.map { t -> Double in let (w, h) = canvas.measure(t.label, size: Self.tickLabelSize); return room(w, h) }.max() ?? 0
            if target <= 2 || Double(labels.count) * needed <= length { return ticks }
            target -= 1
        }
    }

    /// Space around the frame needed by ticks, labels, title and an outside legend.
    func insets(_ canvas: Canvas) -> (top: Double, left: Double, bottom: Double, right: Double) {
        let labelHeight = canvas.measure("Ag", size: Self.labelSize).height
        let tickHeight = canvas.measure("0", size: Self.tickLabelSize).height
        let yTickWidth = yTicksLaidOut.map { canvas.measure($0.label, size: Self.tickLabelSize).width }.max() ?? 0
        let lastXLabel = xTicksLaidOut.last(where: \.isMajor).map { canvas.measure($0.label, size: Self.tickLabelSize).width / 2 } ?? 0
        var top = tickHeight / 2 + 2
        if title != nil { top = max(top, titleHeight(canvas) + 6) }
        let left = Self.tickLength + 3 + yTickWidth + (yLabel == nil ? 0 : labelHeight + 5) + 2
        let bottom = Self.tickLength + 3 + tickHeight + (xLabel == nil ? 0 : labelHeight + 4) + 2
        return (top, left, bottom, legendInset(canvas) ?? max(lastXLabel, 4))
    }

    /// Decides where the legend goes now that the frame is known.
    func placeLegend(_ canvas: Canvas) {
        guard let placement = legendPlacement, let legend else { resolvedLegend = nil; return }
        guard placement == .best else { resolvedLegend = placement; return }
        let map = plotMap()
        let points = artists.flatMap { $0.occupiedPagePoints(map) }
        let corners: [LegendPlacement] = [.upperRight, .upperLeft, .lowerRight, .lowerLeft]
        let covered = corners.map { corner in points.filter { legend.box(canvas, corner, in: frame).contains($0) }.count }
        let best = covered.indices.min { covered[$0] < covered[$1] }!
        resolvedLegend = covered[best] == 0 ? corners[best] : .outsideRight
    }

    /// Draws `layer`. The background holds the static artists' lines and fills, ticks and labels
    /// (and the title and legend unless `textIsAnimated`); the foreground the animated artists,
    /// then every artist's markers and the frame, so markers stay on top of moving lines as in a
    /// still figure. `.all` is both in that order: a still figure and a frame are drawn alike.
    func draw(_ canvas: Canvas, _ layer: Layer, textIsAnimated: Bool) {
        let map = plotMap()
        if layer != .foreground {
            if showsGrid {
                for t in xTicksLaidOut where t.isMajor { canvas.line(PagePoint(map.x(t.value), frame.y), PagePoint(map.x(t.value), frame.maxY), .gridLine, width: 0.6) }
                for t in yTicksLaidOut where t.isMajor { canvas.line(PagePoint(frame.x, map.y(t.value)), PagePoint(frame.maxX, map.y(t.value)), .gridLine, width: 0.6) }
            }
            drawClipped(canvas, map, artists.indices.filter { !animatedArtists.contains($0) })
            drawTicksAndLabels(canvas, map)
            if !textIsAnimated { drawTitleAndLegend(canvas) }
        }
        if layer != .background {
            drawClipped(canvas, map, artists.indices.filter { animatedArtists.contains($0) })
            // Half a pixel of slack keeps a marker computed a rounding error outside the edge.
            let edge = Rect(x: frame.x - 0.5, y: frame.y - 0.5, width: frame.width + 1, height: frame.height + 1)
            for artist in artists { artist.drawMarkers(canvas, map, within: edge) }
            canvas.strokeRect(frame, .frame, width: 0.8)
            if textIsAnimated { drawTitleAndLegend(canvas) }
        }
    }

    /// Lines, fills and texts of the chosen artists, clipped to the frame.
    private func drawClipped(_ canvas: Canvas, _ map: PlotMap, _ chosen: [Int]) {
        guard !chosen.isEmpty else { return }
        canvas.save()
        canvas.clip(to: frame)
        for k in chosen { artists[k].draw(canvas, map) }
        canvas.restore()
    }

    private func drawTicksAndLabels(_ canvas: Canvas, _ map: PlotMap) {
        let tickLabelTop = frame.maxY + Self.tickLength + 2
        for t in xTicksLaidOut {
            let x = map.x(t.value)
            guard x >= frame.x - 0.5 && x <= frame.maxX + 0.5 else { continue }
            canvas.line(PagePoint(x, frame.maxY), PagePoint(x, frame.maxY + (t.isMajor ? Self.tickLength : Self.tickLength * 0.6)), .frame, width: 0.7)
            if t.isMajor { canvas.text(t.label, at: PagePoint(x, tickLabelTop), size: Self.tickLabelSize, anchor: .center, baseline: .top) }
        }
        var yTickWidth = 0.0
        for t in yTicksLaidOut {
            let y = map.y(t.value)
            guard y >= frame.y - 0.5 && y <= frame.maxY + 0.5 else { continue }
            canvas.line(PagePoint(frame.x, y), PagePoint(frame.x - (t.isMajor ? Self.tickLength : Self.tickLength * 0.6), y), .frame, width: 0.7)
            if t.isMajor {
                let box = canvas.text(t.label, at: PagePoint(frame.x - Self.tickLength - 3, y), size: Self.tickLabelSize, anchor: .right, baseline: .middle)
                yTickWidth = max(yTickWidth, box.width)
            }
        }
        let tickHeight = canvas.measure("0", size: Self.tickLabelSize).height
        if let xLabel {
            canvas.text(xLabel, at: PagePoint(frame.x + frame.width / 2, tickLabelTop + tickHeight + 3), size: Self.labelSize, anchor: .center, baseline: .top)
        }
        if let yLabel {
            canvas.text(yLabel, at: PagePoint(frame.x - Self.tickLength - 5 - yTickWidth, frame.y + frame.height / 2), size: Self.labelSize,
                        anchor: .center, baseline: .bottom, rotated: true)
        }
    }
}
