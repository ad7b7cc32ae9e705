/// A box listing labelled artists: a line/marker/swatch sample and the label, one per row (a
/// label may span several lines, split at "\n"). Rows run down a column and wrap into the next
/// column where the box would grow taller than `maxHeight`, so a long legend never runs off the figure.
struct Legend {
    var entries: [LegendEntry]
    var maxHeight: Double
    static let textSize = 8.0, sampleWidth = 20.0, padding = 5.0, rowGap = 3.0, columnGap = 10.0

    init?(entries: [LegendEntry], maxHeight: Double = .infinity) {
        guard !entries.isEmpty else { return nil }
        self.entries = entries
        self.maxHeight = maxHeight
    }

    private func lines(_ entry: LegendEntry) -> [String] { entry.label.split(separator: "\n").map(String.init) }

    private func lineHeight(_ canvas: Canvas) -> Double { canvas.measure("Ag", size: Self.textSize).height }

    private func height(_ canvas: Canvas, _ column: [LegendEntry]) -> Double {
        Double(column.map { lines($0).count }.reduce(0, +)) * lineHeight(canvas) + Double(column.count - 1) * Self.rowGap
    }

    private func width(_ canvas: Canvas, _ column: [LegendEntry]) -> Double {
        Self.sampleWidth + 5 + (column.flatMap(lines).map { canvas.measure($0, size: Self.textSize).width }.max() ?? 0)
    }

    /// The entries in order, split into columns no taller than the box allows (an entry taller
    /// than that still gets a column of its own).
    private func columns(_ canvas: Canvas) -> [[LegendEntry]] {
        var columns: [[LegendEntry]] = [[]]
        for entry in entries {
            if !columns[columns.count - 1].isEmpty && height(canvas, columns[columns.count - 1] + [entry]) + 2 * Self.padding > maxHeight {
                columns.append([])
            }
            columns[columns.count - 1].append(entry)
        }
        return columns
    }

    func size(_ canvas: Canvas) -> (width: Double, height: Double) {
        let columns = columns(canvas)
        return (Self.padding * 2 + columns.map { width(canvas, $0) }.reduce(0, +) + Double(columns.count - 1) * Self.columnGap,
                Self.padding * 2 + (columns.map { height(canvas, $0) }.max() ?? 0))
    }

    /// The legend's box for a placement relative to the axes frame; for `aboveColorBar`, `frame`
    /// is the figure's column and the box sits at its top right, so a label that grows in an
    /// animation grows toward the panel rather than off the figure.
    func box(_ canvas: Canvas, _ placement: LegendPlacement, in frame: Rect) -> Rect {
        let (w, h) = size(canvas), inset = 6.0
        switch placement {
        case .upperLeft: return Rect(x: frame.x + inset, y: frame.y + inset, width: w, height: h)
        case .upperRight, .best: return Rect(x: frame.maxX - inset - w, y: frame.y + inset, width: w, height: h)
        case .lowerLeft: return Rect(x: frame.x + inset, y: frame.maxY - inset - h, width: w, height: h)
        case .lowerRight: return Rect(x: frame.maxX - inset - w, y: frame.maxY - inset - h, width: w, height: h)
        case .outsideRight: return Rect(x: frame.maxX + 10, y: frame.y, width: w, height: h)
        case .aboveColorBar: return Rect(x: frame.maxX - w, y: frame.y, width: w, height: h)
        }
    }

    func draw(_ canvas: Canvas, in box: Rect) {
        canvas.fill(box, Color.white.withAlpha(0.92))
        canvas.strokeRect(box, Color(hex: 0xBBBBBB), width: 0.6)
        let rowHeight = lineHeight(canvas)
        var x0 = box.x + Self.padding
        for column in columns(canvas) {
            var y = box.y + Self.padding
            for entry in column {
                let midY = y + rowHeight / 2, x1 = x0 + Self.sampleWidth
                if let swatch = entry.swatch {
                    canvas.fill(Rect(x: x0, y: midY - rowHeight * 0.35, width: Self.sampleWidth, height: rowHeight * 0.7), swatch)
                }
                if let line = entry.line { canvas.polyline([PagePoint(x0, midY), PagePoint(x1, midY)], line.color, width: line.width, dash: line.dash) }
                if let marker = entry.marker { marker.draw(canvas, at: PagePoint((x0 + x1) / 2, midY), size: 6, color: entry.markerColor, edge: .white) }
                for (k, line) in lines(entry).enumerated() {
                    canvas.text(line, at: PagePoint(x1 + 5, midY + Double(k) * rowHeight), size: Self.textSize, anchor: .left, baseline: .middle)
                }
                y += Double(lines(entry).count) * rowHeight + Self.rowGap
            }
            x0 += width(canvas, column) + Self.columnGap
        }
    }
}
