import CCairo

/// A page of one or more panels (Axes) in a grid, with an optional title and a shared colour
/// bar. Sizes are in inches like matplotlib's; everything inside is laid out in points so text
/// keeps its size at any dpi.
///
///     let figure = Figure(width: 6, height: 4)
///     figure.axes.plot(x: xs, y: ys, style: LineStyle(color: Palette.color(forKey: "adam")), label: "adam")
///     try figure.save(to: "plots/demo.png", dpi: 150)
public final class Figure {
    public let width: Double, height: Double
    public let rows: Int, columns: Int
    public var title: String?
    /// A smaller line under the title (a key to the markers, the run's settings).
    public var subtitle: String?
    public var colorBar: ColorBar?
    /// Relative heights of the rows (default equal).
    public var rowWeights: [Double]
    /// The panels, row by row; a grid may hold fewer panels than cells (7 optimizers in 3 × 3).
    let cells: [any PanelLayout]
    public var panels: [any Panel] { cells }
    /// Titles, subtitle and legends change from frame to frame (a step counter, current losses),
    /// so an animation redraws them over its background rather than baking them in.
    public var textIsAnimated = false
    /// The grid from the layout an animation froze (nil: lay out on every draw).
    var frozenGrid: Rect?

    /// `projection` makes every panel a 2-D `Axes` (flat) or a 3-D `Axes3D` (matplotlib's
    /// `add_subplot(projection="3d")`).
    public init(width: Double = 6.4, height: Double = 4.8, rows: Int = 1, columns: Int = 1, panelCount: Int? = nil,
                projection: Projection = .flat) {
        precondition(width > 0 && height > 0 && rows >= 1 && columns >= 1)
        self.width = width; self.height = height; self.rows = rows; self.columns = columns
        rowWeights = Array(repeating: 1, count: rows)
        cells = (0..<min(panelCount ?? rows * columns, rows * columns)).map { _ in
            switch projection {
            case .flat: return Axes()
            case .threeD(let camera): return Axes3D(camera: camera)
            }
        }
    }

    /// The 2-D panels (all of a flat figure's).
    public var flatPanels: [Axes] { cells.compactMap { $0 as? Axes } }
    /// The 3-D panels (all of a 3-D figure's).
    public var panels3D: [Axes3D] { cells.compactMap { $0 as? Axes3D } }

    /// The first (or only) panel of a flat figure.
    public var axes: Axes { flatPanels[0] }

    public subscript(row: Int, column: Int) -> Axes { flatPanels[row * columns + column] }

    static let padding = 10.0, columnGap = 14.0, rowGap = 12.0, titleSize = 12.0, subtitleSize = 9.0

    /// Places every panel: limits, ticks that fit, then frames aligned across the grid (the
    /// largest label space of any panel is used for all, so frames line up in rows and columns).
    func layout(_ canvas: Canvas, widthPoints w: Double, heightPoints h: Double) -> Rect {
        var top = Self.padding
        if let title { top += canvas.measure(title, size: Self.titleSize, bold: true).height + 8 }
        if let subtitle { top += canvas.measure(subtitle, size: Self.subtitleSize).height + 4 }
        let barWidth = colorBar?.width(canvas, length: h - top - Self.padding) ?? 0
        var grid = Rect(x: Self.padding, y: top, width: 0, height: h - top - Self.padding)
        let weightSum = rowWeights.reduce(0, +)
        let cellHeights = rowWeights.map { (grid.height - Double(rows - 1) * Self.rowGap) * $0 / weightSum }

        for panel in cells { panel.prepareLayout() }
        // Frames depend on label sizes, label choice on frame sizes, legend placement on both:
        // three rounds settle it.
        for round in 0..<3 {
            // The column right of the grid holds the colour bar and the legends placed above it.
            grid.width = w - 2 * Self.padding - max(barWidth, columnLegends.map { $0.size(canvas).width + ColorBar.gap }.max() ?? 0)
            let cellWidth = (grid.width - Double(columns - 1) * Self.columnGap) / Double(columns)
            for (k, axes) in cells.enumerated() {
                let length = round == 0 ? (cellWidth * 0.8, cellHeights[k / columns] * 0.8) : (axes.frame.width, axes.frame.height)
                axes.layoutTicks(canvas, xLength: length.0, yLength: length.1)
            }
            let insets = cells.map { $0.insets(canvas) }
            let topInset = insets.map(\.top).max() ?? 0, left = insets.map(\.left).max() ?? 0
            let bottom = insets.map(\.bottom).max() ?? 0, right = insets.map(\.right).max() ?? 0
            for (k, axes) in cells.enumerated() {
                let row = k / columns, column = k % columns
                let cellY = grid.y + cellHeights[..<row].reduce(0, +) + Double(row) * Self.rowGap
                let cellX = grid.x + Double(column) * (cellWidth + Self.columnGap)
                axes.frame = Rect(x: cellX + left, y: cellY + topInset, width: max(10, cellWidth - left - right),
                                  height: max(10, cellHeights[row] - topInset - bottom))
            }
            if round == 1 { cells.forEach { $0.placeLegend(canvas) } }
        }
        return grid
    }

    /// Lays the figure out once (limits, ticks, frames, legend places) from what it holds now
    /// and keeps that layout for every later draw, so nothing moves between an animation's
    /// frames; build the figure in its final state (whole paths) before freezing.
    public func freezeLayout() {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)!
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr); cairo_surface_destroy(surface) }
        frozenGrid = layout(Canvas(cr), widthPoints: width * 72, heightPoints: height * 72)
    }

    /// Draws `layer` of the figure on a Cairo context whose unit is one point.
    func draw(_ cr: OpaquePointer, _ layer: Layer = .all) {
        let canvas = Canvas(cr)
        let w = width * 72, h = height * 72
        let grid = frozenGrid ?? layout(canvas, widthPoints: w, heightPoints: h)
        if layer != .foreground { canvas.fill(Rect(x: 0, y: 0, width: w, height: h), .white) }
        for panel in cells { panel.draw(canvas, layer, textIsAnimated: textIsAnimated) }
        if layer != .foreground, let colorBar, let top = cells.map(\.frame.y).min(), let bottom = cells.map(\.frame.maxY).max() {
            // Right of the grid, past any legend placed outside a panel, below those placed above it.
            let legendsEnd = columnLegendBoxes(canvas, grid).last.map { $0.box.maxY + 2 * Self.rowGap }
            colorBar.draw(canvas, x: grid.maxX, top: legendsEnd ?? top, bottom: bottom)
        }
        // Texts that change between frames are foreground, others background.
        if textIsAnimated ? layer != .background : layer != .foreground { drawTexts(canvas, grid) }
    }

    /// The legends of the panels that place theirs above the colour bar.
    private var columnLegends: [Legend] { cells.filter { $0.resolvedLegend == .aboveColorBar }.compactMap(\.legend) }

    /// Their boxes, one under another from the panels' top, at the right of the column right of
    /// the grid.
    func columnLegendBoxes(_ canvas: Canvas, _ grid: Rect) -> [(legend: Legend, box: Rect)] {
        var y = cells.map(\.frame.y).min() ?? grid.y
        return columnLegends.map { legend in
            let box = legend.box(canvas, .aboveColorBar, in: Rect(x: grid.maxX, y: y, width: width * 72 - Self.padding - grid.maxX, height: 0))
            y = box.maxY + Self.rowGap
            return (legend, box)
        }
    }

    /// The titles, and the legends in the column (drawn over the panels, which a growing label may reach).
    private func drawTexts(_ canvas: Canvas, _ grid: Rect) {
        for (legend, box) in columnLegendBoxes(canvas, grid) { legend.draw(canvas, in: box) }
        var y = Self.padding
        if let title {
            y = canvas.text(title, at: PagePoint(grid.x + grid.width / 2, y), size: Self.titleSize, bold: true, anchor: .center, baseline: .top).maxY + 3
        }
        if let subtitle {
            canvas.text(subtitle, at: PagePoint(grid.x + grid.width / 2, y), size: Self.subtitleSize, color: Color(hex: 0x555555), anchor: .center, baseline: .top)
        }
    }
}

/// The kind of panel a figure holds.
public enum Projection: Sendable {
    case flat
    /// 3-D panels seen by this camera.
    case threeD(Camera)
}

/// Which part of a figure a draw produces: an animation renders the background once and the
/// foreground over a copy of it in every frame; a still figure draws both, in that order.
enum Layer { case background, foreground, all }
