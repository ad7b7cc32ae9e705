import ArgumentParser
import Foundation
import Figures
import Optim
import Support
import SurfaceLab
import Surfaces

struct PhaseMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phase-map",
        abstract: "Final loss over a grid of two hyperparameters of one optimizer.",
        discussion: """
            The optimizer runs from the same start for every pair of values of two of its numeric \
            keywords (--x and --y: lr, momentum, alpha, eps, weight_decay, ...; beta1 and beta2 are the \
            parts of betas) and records the final loss. A run diverges as in lr-sweep (not finite, or \
            above 10⁶ × the start loss). The figure colours each cell by log₁₀ of its final loss, diverged \
            cells grey, and outlines the cells below --tol (default 10⁻³ × start loss). For sgd with \
            momentum on a quadratic surface it draws the known stability limit lr = 2(1 + β)/λmax, \
            λmax the Hessian's largest eigenvalue (40 on bowl). --csv writes one row per cell: the two \
            keywords, final_loss and diverged.

            Examples:
              optlab phase-map
              optlab phase-map --optimizer sgd --x lr=0.001...0.2 --y momentum=0...0.99 --points 101x100
              optlab phase-map --optimizer adam --x lr=0.001...1 --log-x --y beta1=0...0.99 --fn rosenbrock --steps 300
              optlab phase-map --optimizer rmsprop --x lr=0.0001...0.1 --log-x --y alpha=0.5...0.999 --csv map.csv
            """
    )

    @Option(help: ArgumentHelp("The optimizer spec whose keywords are swept (no schedule).", valueName: "spec"))
    var optimizer = "sgd"

    @Option(help: ArgumentHelp("Keyword and range across: KEY=A...B.", valueName: "key=A...B"))
    var x = "lr=0.001...0.2"

    @Option(help: ArgumentHelp("Keyword and range up: KEY=A...B.", valueName: "key=A...B"))
    var y = "momentum=0...0.99"

    @Flag(help: "Space the --x values logarithmically (needs A > 0).")
    var logX = false

    @Flag(help: "Space the --y values logarithmically (needs A > 0).")
    var logY = false

    @Option(help: ArgumentHelp("Values across × values up.", valueName: "NxM"))
    var points = "101x100"

    @OptionGroup var path: PathOptions

    @Option(help: ArgumentHelp("Final loss below which a run counts as tolerated (default 1e-3 × start loss).", valueName: "loss"))
    var tol: Double?

    @Option(help: ArgumentHelp("Write one row per cell (the two keywords, final_loss, diverged) to this file.", valueName: "file"))
    var csv: String?

    @OptionGroup var figure: FigureOptions

    func validate() throws {
        _ = try axes()
        try checkingOptions { try LRSweep.checkTolerance(tol) }
    }

    private func axes() throws -> (x: PhaseMap.Axis, y: PhaseMap.Axis) {
        var axes: (PhaseMap.Axis, PhaseMap.Axis)?
        try checkingOptions {
            let (n, m) = try PhaseMap.gridSize(points)
            axes = (try PhaseMap.Axis(x, count: n, logarithmic: logX, setting: "x"), try PhaseMap.Axis(y, count: m, logarithmic: logY, setting: "y"))
        }
        return axes!
    }

    func run() throws {
        let (xAxis, yAxis) = try axes()
        let spec = try OptimizerSpec.parse(optimizer)
        let surface = try path.surface()
        let out = try figure.path(defaultStem: "phase-map-\(FigureOutput.stem(surface))")
        try FigureOutput.checkPixels(out, inches: PhaseMapFigure.inches, dpi: figure.dpi)
        let locks = try PathLock.outputs([out, csv])
        defer { withExtendedLifetime(locks) {} }
        let clock = ContinuousClock()
        var map: PhaseMap?
        let seconds = try clock.measure {
            try checkingOptions {
                map = try PhaseMap.run(spec, x: xAxis, y: yAxis, on: surface, from: try path.startPoint(), steps: path.steps, tolerance: tol)
            }
        }
        let result = map!
        if let csv { try AtomicFile.write(result.csv, to: csv) }
        try PhaseMapFigure.make(result).save(to: out, dpi: figure.dpi)
        let cells = result.finalLoss.flatMap { $0 }
        let diverged = cells.filter { $0 == nil }.count, tolerated = cells.filter { ($0 ?? .infinity) < result.tolerance }.count
        print("\(result.spec.label): \(xAxis.key) × \(yAxis.key), \(cells.count.grouped) runs of \(result.steps) steps in "
              + String(format: "%.3f s", seconds / .seconds(1)))
        print("tolerated (final loss < \(String(format: "%.3g", result.tolerance))): \(tolerated.grouped)   diverged: \(diverged.grouped)")
        if let csv { print("wrote \(csv)") }
        print("wrote \(out)")
    }
}
