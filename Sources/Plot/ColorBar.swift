/// The key to a colour scale, drawn beside the figure's panels and shared by all of them.
public struct ColorBar: Sendable {
    public enum Scale: Sendable {
        /// Discrete bands between contour levels, equally tall, each labelled at its boundaries.
        case bands(levels: [Double])
        /// A continuous linear range (heatmaps).
        case continuous(ClosedRange<Double>)
    }
    public var colormap: Colormap
    public var scale: Scale
    public var label: String?

    public init(colormap: Colormap = .viridis, scale: Scale, label: String? = nil) {
        self.colormap = colormap; self.scale = scale; self.label = label
    }

    static let barWidth = 11.0, gap = 14.0

    /// Tick positions as fractions 0 (bottom) … 1 (top) with their labels, thinned so labels
    /// `minSpacing` points apart fit along `length`.
    func ticks(length: Double, minSpacing: Double) -> [(fraction: Double, label: String)] {
        switch scale {
        case .bands(let levels):
            let n = levels.count - 1
            let every = max(1, Int((Double(levels.count) * minSpacing / length).rounded(.up)))
            let shown = levels.indices.filter { $0 % every == 0 }
            return zip(shown, Ticks.distinct(shown.map { levels[$0] })).map { (Double($0) / Double(n), $1) }
        case .continuous(let range):
            let span = range.upperBound - range.lowerBound
            return Ticks.linear(range, target: max(2, Int(length / (3 * minSpacing))))
                .map { ((span > 0 ? ($0.value - range.lowerBound) / span : 0), $0.label) }
        }
    }

    /// Horizontal space the bar takes, including its labels.
    func width(_ canvas: Canvas, length: Double) -> Double {
        let labelHeight = canvas.measure("Ag", size: Axes.tickLabelSize).height
        let widest = ticks(length: length, minSpacing: labelHeight + 4).map { canvas.measure($0.label, size: Axes.tickLabelSize).width }.max() ?? 0
        return Self.gap + Self.barWidth + Axes.tickLength + 3 + widest + (label == nil ? 0 : 6 + canvas.measure("Ag", size: Axes.labelSize).height)
    }

    func draw(_ canvas: Canvas, x: Double, top: Double, bottom: Double) {
        let bar = Rect(x: x + Self.gap, y: top, width: Self.barWidth, height: bottom - top)
        switch scale {
        case .bands(let levels):
            let colors = colormap.bandColors(levels.count - 1), h = bar.height / Double(colors.count)
            for (k, c) in colors.enumerated() { canvas.fill(Rect(x: bar.x, y: bar.maxY - Double(k + 1) * h, width: bar.width, height: h + 0.3), c) }
        case .continuous:
            let steps = 128, h = bar.height / Double(steps)
            for k in 0..<steps { canvas.fill(Rect(x: bar.x, y: bar.maxY - Double(k + 1) * h, width: bar.width, height: h + 0.3), colormap.color(at: (Double(k) + 0.5) / Double(steps))) }
        }
        canvas.strokeRect(bar, .frame, width: 0.6)
        let labelHeight = canvas.measure("Ag", size: Axes.tickLabelSize).height
        var widest = 0.0
        for (fraction, text) in ticks(length: bar.height, minSpacing: labelHeight + 4) {
            let y = bar.maxY - fraction * bar.height
            canvas.line(PagePoint(bar.maxX, y), PagePoint(bar.maxX + Axes.tickLength, y), .frame, width: 0.7)
            let box = canvas.text(text, at: PagePoint(bar.maxX + Axes.tickLength + 3, y), size: Axes.tickLabelSize, anchor: .left, baseline: .middle)
            widest = max(widest, box.width)
        }
        if let label {
            canvas.text(label, at: PagePoint(bar.maxX + Axes.tickLength + 6 + widest, bar.y + bar.height / 2), size: Axes.labelSize,
                        anchor: .center, baseline: .top, rotated: true)
        }
    }
}
