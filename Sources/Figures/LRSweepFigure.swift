import Foundation
import Optim
import Plot
import SurfaceLab
import Surfaces

/// Draws an LRSweep: final loss against learning rate per optimizer (log loss axis, diverged runs
/// as ✕ in a strip above the data rather than as huge values), and beneath it the tolerance
/// chart: per optimizer, the learning rates whose final loss is below the tolerance.
public enum LRSweepFigure {
    /// The figure's size, known before the sweep is run (the pixel budget is checked first).
    public static let inches = (width: 9.5, height: 7.6)

    public static func make(_ sweep: LRSweep, logarithmic: Bool) -> Figure {
        let figure = Figure(width: inches.width, height: inches.height, rows: 2, columns: 1)
        figure.rowWeights = [2.3, Double(max(sweep.specs.count, 3)) * 0.25]
        let surface = sweep.surface
        figure.title = "Learning-rate tolerance on \(TrajectoryFigure.title(surface))"
        let start = "(\(Ticks.compact(sweep.start.x)), \(Ticks.compact(sweep.start.y)))", tolerated = "final loss < \(Ticks.compact(sweep.tolerance))"
        if let noise = sweep.noise {
            figure.subtitle = "\(sweep.learningRates.count) rates × \(sweep.specs.count) optimizers × \(noise.seeds) seeds, \(sweep.steps) steps from \(start); "
                + "noise σ = \(Ticks.compact(noise.sigma)): median, interquartile band; tolerated: median \(tolerated)"
        } else {
            figure.subtitle = "\(sweep.learningRates.count) learning rates × \(sweep.specs.count) optimizers, \(sweep.steps) steps each from \(start); tolerated: \(tolerated)"
        }
        let xRange = sweep.learningRates.first!...sweep.learningRates.last!
        let losses = figure.flatPanels[0], bands = figure.flatPanels[1]
        for axes in [losses, bands] {
            axes.xScale = logarithmic ? .log : .linear
            axes.xLimits = xRange
            axes.showsGrid = true
        }

        // Losses far below the tolerance all mean "converged"; drawing them at a floor keeps the
        // interesting decades readable.
        let finite = sweep.runs.joined().compactMap { $0.final?.loss }
        let floor = max(sweep.tolerance * 1e-6, finite.filter { $0 > 0 }.min() ?? sweep.tolerance)
        let top = max(finite.max() ?? sweep.startLoss, sweep.startLoss)
        let decades = max(log10(top / floor), 1)
        losses.yScale = .log
        losses.yLabel = "final loss"
        losses.legendPlacement = .outsideRight
        let styles = OptimizerStyle.styles(sweep.specs)
        for (i, spec) in sweep.specs.enumerated() {
            let color = styles[i].color
            let runs = sweep.runs[i]
            if let quartiles = sweep.interquartileRange(i) {
                // Where diverged seeds reach a quartile the band stops (nan), as the curve does.
                let clipped = { (loss: Double) in loss.isFinite ? max(loss, floor) : .nan }
                losses.fillBetween(x: runs.map(\.lr), lower: quartiles.map { clipped($0.lower) }, upper: quartiles.map { clipped($0.upper) },
                                   color: color.withAlpha(0.22))
            }
            let ys = runs.map { r in r.final.map { max($0.loss, floor) } ?? .nan }
            losses.plot(x: runs.map(\.lr), y: ys, style: LineStyle(color: color, width: 1.6, dash: styles[i].dash),
                        marker: runs.count <= 60 ? .circle : nil, markerSize: 3.5, label: spec.label)
            // Diverged runs: one row of ✕ per optimizer in a strip above the data.
            let stripY = top * pow(10, decades * (0.13 + 0.045 * Double(i)))
            losses.scatter(divergedMarks(runs).map { ($0, stripY) }, marker: .cross, size: 5.5, color: color, edge: .white)
        }
        losses.yLimits = floor / pow(10, decades * 0.04)...top * pow(10, decades * (0.17 + 0.045 * Double(sweep.specs.count)))
        // Loss ticks only below the "diverged" strip, whose height means nothing.
        losses.yTicks = Ticks.log(losses.yLimits!.lowerBound...top * pow(10, decades * 0.05), maxLabels: 7)
        losses.horizontalLine(y: top * pow(10, decades * 0.05), style: LineStyle(color: Color(hex: 0x999999), width: 0.8, dash: LineStyle.dotted))
        losses.text("diverged", x: xRange.lowerBound, y: top * pow(10, decades * 0.05), offset: PagePoint(4, -3), size: 7.5, color: Color(hex: 0x555555))
        losses.horizontalLine(y: sweep.startLoss, style: LineStyle(color: Color(hex: 0x777777), width: 1, dash: LineStyle.dotted),
                              label: "start loss \(Ticks.compact(sweep.startLoss))")
        losses.horizontalLine(y: sweep.tolerance, style: LineStyle(color: .text, width: 1, dash: LineStyle.dashed),
                              label: "tolerance \(Ticks.compact(sweep.tolerance))")
        losses.scatter([], marker: .cross, size: 6, color: .text, label: "diverged")
        if finite.contains(where: { $0 < floor }) {
            losses.text("losses below \(Ticks.compact(floor)) drawn at the floor", x: xRange.upperBound, y: floor,
                        offset: PagePoint(-4, -3), size: 7.5, color: Color(hex: 0x555555))
        }

        let n = sweep.specs.count
        bands.rangeBars(sweep.specs.indices.map { i in
            RangeRow(y: Double(n - 1 - i), ranges: sweep.toleratedRanges(i), color: styles[i].color)
        })
        for i in sweep.specs.indices {
            let ranges = sweep.toleratedRanges(i)
            let text = ranges.isEmpty ? "none" : ranges.map { r in
                r.lowerBound == r.upperBound ? Ticks.compact(r.lowerBound) : "\(Ticks.compact(r.lowerBound))–\(Ticks.compact(r.upperBound))"
            }.joined(separator: ", ")
            let anchorX = ranges.last?.upperBound ?? xRange.lowerBound
            bands.text(text, x: anchorX, y: Double(n - 1 - i), offset: PagePoint(5, 4), size: 7.5)
        }
        bands.yTicks = sweep.specs.enumerated().map { Tick(value: Double(n - 1 - $0.offset), label: $0.element.label) }
        bands.yLimits = -0.6...(Double(n) - 0.4)
        bands.xLabel = "learning rate"
        bands.title = "learning rates reaching final loss < \(Ticks.compact(sweep.tolerance))"
        return figure
    }

    /// The learning rates to mark as diverged: every diverged run when they are few, else every
    /// k-th (keeping both ends of each diverged stretch) so the marks never merge into a smear.
    static func divergedMarks(_ runs: [LRSweep.Run], most: Int = 70) -> [Double] {
        let every = max(1, (runs.count + most - 1) / most)
        return runs.indices.filter { j in
            runs[j].diverged && (j % every == 0 || j == 0 || j == runs.count - 1 || !runs[j - 1].diverged || !runs[j + 1].diverged)
        }.map { runs[$0].lr }
    }
}
