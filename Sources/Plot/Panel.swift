/// One cell of a figure's grid: a 2-D `Axes` or a 3-D `Axes3D`. Both take the same plotting
/// calls in data (x, y) (a 3-D panel draws them on its surface, at z = f(x, y)), so a figure
/// builder draws paths and marks once for either view; the figure lays out and draws any panel
/// through `PanelLayout`.
public protocol Panel: AnyObject {
    var title: String? { get set }
    /// The plotting area in figure points, valid after the figure has been laid out.
    var frame: Rect { get }
    /// Where the legend goes; nil hides it even when artists have labels.
    var legendPlacement: LegendPlacement? { get set }
}

extension Panel {
    // The plotting calls, with matplotlib-like defaults, drawn by PanelLayout's one implementation.
    // They live here rather than as requirements: a public witness in an internal protocol's
    // extension links in a debug build but not in an optimised one.

    /// A line through the points, optionally with markers (thinned to at most `maxMarkers`)
    /// and a white halo that keeps it visible over a busy background.
    @discardableResult
    public func plot(x: [Double], y: [Double], style: LineStyle, marker: Marker? = nil, markerSize: Double = 4,
                     maxMarkers: Int = 40, halo: Bool = false, label: String? = nil) -> LineHandle {
        layout.addLine(x: x, y: y, style: style, marker: marker, markerSize: markerSize, maxMarkers: maxMarkers, halo: halo, label: label)
    }

    /// Markers at the points (start, end, minimum, divergence marks).
    @discardableResult
    public func scatter(_ points: [(Double, Double)], marker: Marker, size: Double = 8, color: Color,
                        edge: Color = .white, label: String? = nil) -> MarkersHandle {
        layout.addScatter(points, marker: marker, size: size, color: color, edge: edge, label: label)
    }

    /// A short text near a data point, `offset` points away, kept inside the plot.
    @discardableResult
    public func text(_ text: String, x: Double, y: Double, offset: PagePoint = PagePoint(6, -4), size: Double = 8,
                     color: Color = .text) -> TextHandle {
        layout.addText(text, x: x, y: y, offset: offset, size: size, color: color)
    }

    /// Panels are Plot's own (`Axes`, `Axes3D`, made by `Figure`), each a `PanelLayout`.
    var layout: any PanelLayout { self as! any PanelLayout }
}

/// What the figure needs of a panel to lay it out and draw it, and what handles change.
protocol PanelLayout: Panel {
    var frame: Rect { get set }
    var artists: [Artist] { get set }
    /// Indices of the artists an animation redraws every frame (see `ArtistHandle.isAnimated`).
    var animatedArtists: Set<Int> { get set }
    var resolvedLegend: LegendPlacement? { get set }
    /// Settles the data limits before ticks and frames are chosen.
    func prepareLayout()
    /// Chooses ticks whose labels fit along `xLength` and `yLength` points.
    func layoutTicks(_ canvas: Canvas, xLength: Double, yLength: Double)
    /// Space around the frame for titles, tick labels and an outside legend.
    func insets(_ canvas: Canvas) -> (top: Double, left: Double, bottom: Double, right: Double)
    /// Decides where the legend goes now that the frame is known.
    func placeLegend(_ canvas: Canvas)
    /// Draws `layer` (see `Layer`): a still figure and an animation's frame are drawn alike.
    func draw(_ canvas: Canvas, _ layer: Layer, textIsAnimated: Bool)
}

extension PanelLayout {
    // One implementation of the plotting calls for every panel: the artists are the same values,
    // each panel draws them through its own map (Axes) or onto its surface (Axes3D).

    func addLine(x: [Double], y: [Double], style: LineStyle, marker: Marker?, markerSize: Double, maxMarkers: Int,
                 halo: Bool, label: String?) -> LineHandle {
        precondition(x.count == y.count, "plot: x and y differ in length")
        artists.append(LineArtist(xs: x, ys: y, style: style, marker: marker, markerSize: markerSize,
                                  maxMarkers: maxMarkers, halo: halo, label: label))
        return LineHandle(owner: self, index: artists.count - 1)
    }

    func addScatter(_ points: [(Double, Double)], marker: Marker, size: Double, color: Color, edge: Color, label: String?) -> MarkersHandle {
        artists.append(ScatterArtist(points: points, marker: marker, size: size, color: color, edge: edge, label: label))
        return MarkersHandle(owner: self, index: artists.count - 1)
    }

    func addText(_ text: String, x: Double, y: Double, offset: PagePoint, size: Double, color: Color) -> TextHandle {
        artists.append(TextArtist(text: text, x: x, y: y, offset: offset, size: size, color: color))
        return TextHandle(owner: self, index: artists.count - 1)
    }

    var legendEntries: [LegendEntry] { artists.compactMap(\.legendEntry) }
    /// The legend, wrapped into columns no taller than the frame (inside or beside it).
    var legend: Legend? { Legend(entries: legendEntries, maxHeight: frame.height) }

    /// Height of the title's lines above the frame.
    func titleHeight(_ canvas: Canvas) -> Double {
        guard let title else { return 0 }
        return Double(title.split(separator: "\n").count) * canvas.measure("Ag", size: Axes.titleSize).height * 1.15
    }

    /// Room right of the frame for a legend placed outside it.
    func legendInset(_ canvas: Canvas) -> Double? {
        guard resolvedLegend == .outsideRight, let legend else { return nil }
        return legend.size(canvas).width + 12
    }

    /// The title centred above the frame (its last line bold) and the legend where it was placed
    /// (the figure draws one placed above its colour bar).
    func drawTitleAndLegend(_ canvas: Canvas) {
        if let title {
            let lines = title.split(separator: "\n")
            let lineHeight = canvas.measure("Ag", size: Axes.titleSize).height * 1.15
            for (k, line) in lines.reversed().enumerated() {
                canvas.text(String(line), at: PagePoint(frame.x + frame.width / 2, frame.y - 5 - Double(k) * lineHeight), size: Axes.titleSize,
                            bold: k == lines.count - 1, anchor: .center, baseline: .bottom)
            }
        }
        if let placement = resolvedLegend, placement != .aboveColorBar, let legend {
            legend.draw(canvas, in: legend.box(canvas, placement, in: frame))
        }
    }
}
