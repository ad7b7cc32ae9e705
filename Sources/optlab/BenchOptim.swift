import ArgumentParser
import CIFARLab
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
            the start loss); a path's steps after it diverged do not count. Every schedule \
            works; one that sets every rate itself (onecycle, cyclic) runs all the sweep's paths \
            at its rates.

            Goal: ≥ 50 million steps/s for Adam on bowl.

            With --model, the optimizer's update on a CIFAR-10 network's parameters instead: \
            microseconds per step over the model's parameters (gradients set once to seeded \
            random values; the forward and backward pass not included), --steps steps per run, \
            best of --repeats, on the thread's CPU clock.

            Examples:
              swift build -c release && .build/release/optlab bench optim
              .build/release/optlab bench optim --optimizers "adam(lr=0.01)" --fn rosenbrock
              .build/release/optlab bench optim --optimizers "sgd(lr=0.01,momentum=0.9,schedule=onecycle(max_lr=0.05))"
              .build/release/optlab bench optim --model labnet --optimizers adam,nadam,radam,rmsprop
            """
    )

    @Option(help: "A built-in surface or a formula in x and y.")
    var fn = "bowl"

    @Option(help: ArgumentHelp("Comma-separated optimizer specs (default: one per algorithm).", valueName: "specs"))
    var optimizers: String?

    @Option(help: "Steps per path (with --model: steps per run).")
    var steps = 100

    @Option(help: ArgumentHelp("Time the update on this CIFAR-10 model's parameters instead (\(CIFARModels.names.joined(separator: ", "))).", valueName: "model"))
    var model: String?

    @Option(help: "Paths per run.")
    var paths = 10_000

    @Option(help: "Runs per optimizer; the fastest counts.")
    var repeats = 3

    func validate() throws {
        guard steps >= 1, paths >= 1, repeats >= 1 else { throw ValidationError("--steps, --paths and --repeats must be ≥ 1") }
        if let model, !CIFARModels.names.contains(model) {
            throw ValidationError("unknown model '\(model)' (known: \(CIFARModels.names.joined(separator: ", ")))")
        }
    }

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for real figures")
        #endif
        let specs = try optimizers.map(OptimizerSpec.parseList) ?? OptimBenchmark.specs.map(OptimizerSpec.parse)
        let width = max(20, specs.map(\.label.count).max() ?? 0)
        if let model {
            for (k, spec) in specs.enumerated() {
                let f = try CNNBenchmark.optimizerStep(spec, model: model, steps: steps, repeats: repeats)
                if k == 0 { print("\(model): \(f.tensors) parameters, \(f.values.grouped) values; \(steps) steps, best of \(repeats)\n\("µs per step".padding(toLength: width, withPad: " ", startingAt: 0))") }
                print("\(spec.label.padding(toLength: width, withPad: " ", startingAt: 0)) \(String(format: "%10.1f", f.secondsPerStep * 1e6))")
            }
            return
        }
        let surface = try Surface.named(fn)
        print("\(surface.name): \(paths) paths of \(steps) steps, best of \(repeats)")
        print("\("million steps/s".padding(toLength: width, withPad: " ", startingAt: 0))  single path    sweep")
        for spec in specs {
            let speed = try OptimBenchmark.measure(spec, on: surface, steps: steps, paths: paths, repeats: repeats)
            let figures = String(format: "%13.1f %8.1f", speed.singlePath / 1e6, speed.sweep / 1e6)
            print("\(spec.label.padding(toLength: width, withPad: " ", startingAt: 0)) \(figures)")
        }
    }
}
