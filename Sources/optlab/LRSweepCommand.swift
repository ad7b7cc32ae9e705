import ArgumentParser
import Foundation
import Figures
import Optim
import Support
import SurfaceLab
import Surfaces

struct LRSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-sweep",
        abstract: "Final loss against learning rate for several optimizers, and which rates each tolerates.",
        discussion: """
            Every optimizer runs from the same start at every learning rate of the range (A...B evenly \
            spaced, or log-spaced with --log, A > 0) and records the final loss. A run diverges when it \
            leaves the finite numbers or its loss exceeds 10⁶ × the start loss. The figure shows final \
            loss per optimizer (diverged runs as ✕ above the curves) and, beneath, the learning rates \
            whose final loss is below --tol (default 10⁻³ × start loss). With --noise σ --seeds N every \
            run is repeated with N seeded streams of Gaussian gradient noise: the figure shows the \
            median final loss with the interquartile band, tolerance is decided on the median, and \
            the CSV has one row per seed (a seed column). The optimizers default to the \
            six with a meaningful learning rate: \(LRSweep.defaultOptimizers.joined(separator: ", ")).

            Examples:
              optlab lr-sweep 0...5
              optlab lr-sweep 0.001...10 --log --points 201 --fn rosenbrock --steps 500
              optlab lr-sweep 0...0.5 --optimizers "sgd,momentum,nesterov" --csv sweep.csv --out sweep.svg
              optlab lr-sweep 0.001...1 --log --noise 2 --seeds 20
            """
    )

    @Argument(help: ArgumentHelp("Learning rates A...B (A < B).", valueName: "A...B"))
    var range: String

    @Flag(help: "Space the learning rates logarithmically (needs A > 0).")
    var log = false

    @Option(help: "Number of learning rates.")
    var points = 101

    @OptionGroup var path: PathOptions

    @Option(help: ArgumentHelp("Comma-separated optimizer specs; their lr is replaced by the sweep's.", valueName: "specs"))
    var optimizers: String?

    @Option(help: ArgumentHelp("Final loss below which a run counts as tolerated (default 1e-3 × start loss).", valueName: "loss"))
    var tol: Double?

    @Option(help: ArgumentHelp("Write optimizer,lr,final_loss,final_x,final_y,diverged rows to this file.", valueName: "file"))
    var csv: String?

    @OptionGroup var noise: NoiseOptions

    @OptionGroup var figure: FigureOptions

    func validate() throws {
        // Before the learning rates are listed: --points 100000000 is refused, not allocated.
        try LRSweep.checkBudget(points: points, optimizers: try specs().count, steps: path.steps)
        _ = try learningRates()
        try checkingOptions { try LRSweep.checkTolerance(tol) }
    }

    private func learningRates() throws -> [Double] {
        var rates: [Double] = []
        try checkingOptions(named: ["range": "the learning-rate range"]) {
            rates = try LRSweep.learningRates(try LRSweep.parseRange(range), count: points, logarithmic: log)
        }
        return rates
    }

    private func specs() throws -> [OptimizerSpec] {
        try optimizers.map(OptimizerSpec.parseList) ?? LRSweep.defaultOptimizers.map(OptimizerSpec.parse)
    }

    func run() throws {
        let surface = try path.surface()
        let specs = try specs()
        let rates = try learningRates()
        let out = try figure.path(defaultStem: "lr-sweep-\(FigureOutput.stem(surface))")
        try FigureOutput.checkPixels(out, inches: LRSweepFigure.inches, dpi: figure.dpi)
        let locks = try PathLock.outputs([out, csv])
        defer { withExtendedLifetime(locks) {} }
        let started = ContinuousClock.now
        let gradientNoise = try noise.gradientNoise()
        let sweep = try LRSweep.run(specs, on: surface, from: try path.startPoint(),
                                    steps: path.steps, learningRates: rates, tolerance: tol, noise: gradientNoise,
                                    progress: ProgressBar("lr-sweep", total: rates.count * specs.count * (gradientNoise?.seeds ?? 1),
                                                          unit: .items("run")))
        let elapsed = started.duration(to: .now)
        if let csv { try AtomicFile.write(sweep.csv, to: csv) }
        try LRSweepFigure.make(sweep, logarithmic: log).save(to: out, dpi: figure.dpi)

        print("\(surface.name): \(rates.count) learning rates × \(specs.count) optimizers\(gradientNoise.map { " × \($0.seeds) seeds" } ?? "") × \(path.steps) steps in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .abbreviated)))")
        print("start loss \(sweep.startLoss), tolerated: final loss < \(sweep.tolerance)")
        let width = max(9, specs.map(\.label.count).max() ?? 0)
        for (i, spec) in specs.enumerated() {
            let ranges = sweep.toleratedRanges(i).map { "\($0.lowerBound)...\($0.upperBound)" }
            let diverged = sweep.runs[i].filter(\.diverged).count
            print(spec.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  tolerated "
                  + (ranges.isEmpty ? "none" : ranges.joined(separator: ", ")) + (diverged > 0 ? "; \(diverged) diverged" : ""))
        }
        if let csv { print("wrote \(csv)") }
        print("wrote \(out)")
    }
}
