/// A box listing labelled artists: a line/marker/swatch sample and the label, one per row.
struct Legend {
    var entries: [LegendEntry]
    static let textSize = 8.0, sampleWidth = 20.0, padding = 5.0, rowGap = 3.0

    init?(entries: [LegendEntry]) {
        guard !entries.isEmpty else { return nil }
        self.entries = entries
    }

    func size(_ canvas: Canvas) -> (width: Double, height: Double) {
        let widths = entries.map { canvas.measure($0.label, size: Self.textSize).width }
        let rowHeight = canvas.measure("Ag", size: Self.textSize).height
        return (Self.padding * 2 + Self.sampleWidth + 5 + (widths.max() ?? 0),
                Self.padding * 2 + Double(entries.count) * rowHeight + Double(entries.count - 1) * Self.rowGap)
    }

    /// The legend's box for a placement relative to the axes frame.
    func box(_ canvas: Canvas, _ placement: LegendPlacement, in frame: Rect) -> Rect {
        let (w, h) = size(canvas), inset = 6.0
        switch placement {
        case .upperLeft: return Rect(x: frame.x + inset, y: frame.y + inset, width: w, height: h)
        case .upperRight, .best: return Rect(x: frame.maxX - inset - w, y: frame.y + inset, width: w, height: h)
        case .lowerLeft: return Rect(x: frame.x + inset, y: frame.maxY - inset - h, width: w, height: h)
        case .lowerRight: return Rect(x: frame.maxX - inset - w, y: frame.maxY - inset - h, width: w, height: h)
        case .outsideRight: return Rect(x: frame.maxX + 10, y: frame.y, width: w, height: h)
        }
    }

    func draw(_ canvas: Canvas, in box: Rect) {
        canvas.fill(box, Color.white.withAlpha(0.92))
        canvas.strokeRect(box, Color(hex: 0xBBBBBB), width: 0.6)
        let rowHeight = canvas.measure("Ag", size: Self.textSize).height
        for (k, entry) in entries.enumerated() {
            let midY = box.y + Self.padding + Double(k) * (rowHeight + Self.rowGap) + rowHeight / 2
            let x0 = box.x + Self.padding, x1 = x0 + Self.sampleWidth
            if let swatch = entry.swatch {
                canvas.fill(Rect(x: x0, y: midY - rowHeight * 0.35, width: Self.sampleWidth, height: rowHeight * 0.7), swatch)
            }
            if let line = entry.line { canvas.polyline([Point(x0, midY), Point(x1, midY)], line.color, width: line.width, dash: line.dash) }
            if let marker = entry.marker { marker.draw(canvas, at: Point((x0 + x1) / 2, midY), size: 6, color: entry.markerColor, edge: .white) }
            canvas.text(entry.label, at: Point(x1 + 5, midY), size: Self.textSize, anchor: .left, baseline: .middle)
        }
    }
}
