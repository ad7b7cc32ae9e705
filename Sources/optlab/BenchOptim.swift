import ArgumentParser
import Foundation
import Optim
import SurfaceLab
import Surfaces

struct BenchOptim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optim",
        abstract: "Path steps per second of every optimizer on a 2-D surface, on one core.",
        discussion: """
            A step is one step of one path: the surface's gradient at the point, the optimizer's \
            update, the schedule step, the surface's value at the new point and the divergence \
            check. Two figures per optimizer, each over --paths paths of --steps steps from the \
            surface's start, optimizer construction included, best of --repeats runs, timed on \
            the thread's CPU clock (time the system gives other processes does not count; on an \
            idle machine it equals wall time):

              single path  paths one after another through the loop of `optlab trajectories`, \
            every point and loss recorded;
              sweep        what learning-rate sweeps run (Trajectories.finalStates): the paths \
            at --paths learning rates spread geometrically over [lr/10, lr], in blocks of 64 \
            stepped together, only final states kept, with a sweep's divergence limit (10⁶ × \
            the start loss); a path's steps after it diverged do not count.

            Goal: ≥ 50 million steps/s for Adam on bowl.

            Examples:
              swift build -c release && .build/release/optlab bench optim
              .build/release/optlab bench optim --optimizers "adam(lr=0.01)" --fn rosenbrock
            """
    )

    @Option(help: "A built-in surface or a formula in x and y.")
    var fn = "bowl"

    @Option(help: ArgumentHelp("Comma-separated optimizer specs (default: one per algorithm).", valueName: "specs"))
    var optimizers: String?

    @Option(help: "Steps per path.")
    var steps = 100

    @Option(help: "Paths per run.")
    var paths = 10_000

    @Option(help: "Runs per optimizer; the fastest counts.")
    var repeats = 3

    func validate() throws {
        guard steps >= 1, paths >= 1, repeats >= 1 else { throw ValidationError("--steps, --paths and --repeats must be ≥ 1") }
    }

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for real figures")
        #endif
        let surface = try Surface.named(fn)
        print("\(surface.name): \(paths) paths of \(steps) steps, best of \(repeats)")
        let specs = try optimizers.map(OptimizerSpec.parseList) ?? OptimBenchmark.specs.map(OptimizerSpec.parse)
        let width = max(20, specs.map(\.label.count).max() ?? 0)
        print("\("million steps/s".padding(toLength: width, withPad: " ", startingAt: 0))  single path    sweep")
        for spec in specs {
            let speed = try OptimBenchmark.measure(spec, on: surface, steps: steps, paths: paths, repeats: repeats)
            let figures = String(format: "%13.1f %8.1f", speed.singlePath / 1e6, speed.sweep / 1e6)
            print("\(spec.label.padding(toLength: width, withPad: " ", startingAt: 0)) \(figures)")
        }
    }
}
