import ArgumentParser
import Foundation
import Lab
import Optim
import Surfaces

struct BenchOptim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optim",
        abstract: "Path steps per second of every optimizer on a 2-D surface, on one core.",
        discussion: """
            A step is what `optlab trajectories` and learning-rate sweeps do per step: the surface's \
            gradient, the optimizer's update, the schedule step, the divergence check and recording \
            the point. Each figure is the best of --repeats runs. Goal: ≥ 50 million steps/s for Adam \
            on bowl.

            Examples:
              swift build -c release && .build/release/optlab bench optim
              .build/release/optlab bench optim --fn rosenbrock --steps 1000000
            """
    )

    @Option(help: "A built-in surface or a formula in x and y.")
    var fn = "bowl"

    @Option(help: "Steps per run.")
    var steps = 5_000_000

    @Option(help: "Runs per optimizer; the fastest counts.")
    var repeats = 3

    func validate() throws {
        guard steps >= 1, repeats >= 1 else { throw ValidationError("--steps and --repeats must be ≥ 1") }
    }

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for real figures")
        #endif
        let surface = try Surface.named(fn)
        print("\(surface.name): \(steps) steps per run, best of \(repeats)")
        for text in OptimBenchmark.specs {
            let figure = try OptimBenchmark.measure(try OptimizerSpec.parse(text), on: surface, steps: steps, repeats: repeats)
            let millions = String(format: "%7.1f", figure.stepsPerSecond / 1e6)
            print("\(text.padding(toLength: 20, withPad: " ", startingAt: 0)) \(millions) million steps/s")
        }
    }
}
