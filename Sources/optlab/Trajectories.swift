import ArgumentParser
import Foundation
import Lab
import Optim
import Surfaces

struct TrajectoriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectories",
        abstract: "Step optimizers over a 2-D surface and report (or write) their paths.",
        discussion: """
            Surfaces: \(Surface.builtinNames.joined(separator: ", ")), or any formula in x and y with \
            + - * / ^, parentheses, sin cos tan exp log sqrt abs tanh, pi and e (differentiated exactly).

            Optimizers: NAME(key=value,...) with torch.optim's names, keywords and defaults: \
            \(OptimizerSpec.names.joined(separator: ", ")). A schedule nests: \
            schedule=step(step_size=10,gamma=0.5) | exponential(gamma=0.99) | cosine(T_max=100,eta_min=0) | \
            multistep(milestones=(30,60),gamma=0.1); it steps once after every optimizer step. \
            label=... sets the display name. Without --optimizers: the classic nine (sgd, momentum, \
            adagrad, rmsprop, adadelta, adam, adamw, sgd and momentum with step decay) at rates chosen \
            for the surface.

            Examples:
              optlab trajectories --fn bowl --csv bowl.csv
              optlab trajectories --fn rosenbrock --optimizers "adam(lr=0.05),nadam(lr=0.05)"
              optlab trajectories --fn "x^2 + 3*sin(x*y)" --start=-1.5,1 --steps 50
              optlab trajectories --optimizers "sgd(lr=0.04,schedule=step(step_size=10))"
            """
    )

    @Option(help: ArgumentHelp("A built-in surface or a formula in x and y.", valueName: "fn"))
    var fn = "bowl"

    @Option(help: ArgumentHelp("Comma-separated optimizer specs (default: the classic nine).", valueName: "specs"))
    var optimizers: String?

    @Option(help: ArgumentHelp("Start point X,Y (default: the surface's); write --start=-1,1.5 for negatives.", valueName: "x,y"))
    var start: String?

    @Option(help: "Number of optimizer steps.")
    var steps = 100

    @Option(help: ArgumentHelp("Write optimizer,step,x,y,loss rows to this file.", valueName: "file"))
    var csv: String?

    func validate() throws {
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000000, got \(steps)") }
    }

    func run() throws {
        let surface = try Surface.named(fn)
        let specs = try optimizers.map(OptimizerSpec.parseList) ?? Trajectories.classicSpecs(for: surface)
        let comparison = try Trajectories.compare(specs, on: surface, from: try start.map(parsePoint), steps: steps)
        if let csv { try AtomicFile.write(comparison.csv, to: csv) }
        printSummary(comparison)
        if let csv { print("wrote \(csv)") }
    }

    private func parsePoint(_ text: String) throws -> Point {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
            throw ValidationError("--start expects X,Y such as --start=-1,1.5, got '\(text)'")
        }
        return Point(x, y)
    }

    private func printSummary(_ c: TrajectoryComparison) {
        print("\(c.surface.name == c.surface.formula ? c.surface.formula : "\(c.surface.name): \(c.surface.formula)"), start \(c.start), \(c.steps) steps")
        let width = max(9, c.results.map(\.label.count).max() ?? 0)
        print("optimizer".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + ["final x", "final y", "loss"].map(column).joined())
        for r in c.results {
            var line = r.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            if let points = r.points.last {
                line += [points.x, points.y, r.finalLoss].map { column(String(format: "%.6g", $0)) }.joined()
            }
            if let k = r.divergedAt { line += "diverged at step \(k)" }
            print(line)
        }
    }

    private func column(_ text: String) -> String { text.padding(toLength: 14, withPad: " ", startingAt: 0) }
}
