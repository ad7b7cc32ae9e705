import CIFARLab
import Plot

extension EvaluationReport {
    /// The confusion matrix as a heatmap: rows are true classes, columns predictions, each cell
    /// coloured by its share of the row (so the diagonal reads as per-class accuracy) and labelled
    /// with its count.
    public func confusionFigure(title: String) -> Figure {
        let figure = Figure(width: 8.6, height: 7.4)
        figure.title = title
        figure.colorBar = ColorBar(scale: .continuous(0...1), label: "share of the true class")
        let axes = figure.axes
        let shares = confusion.map { row in row.map { Double($0) / Double(max(1, row.reduce(0, +))) } }
        axes.heatmap(shares, range: 0...1, annotations: confusion.map { $0.map(String.init) })
        let ticks = classNames.enumerated().map { Tick(value: Double($0.offset), label: $0.element) }
        axes.xTicks = ticks
        axes.yTicks = ticks
        axes.xLabel = "predicted class"
        axes.yLabel = "true class"
        return figure
    }
}
