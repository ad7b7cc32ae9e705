import Foundation
import Optim
import Surfaces

/// How fast the 2-D engine steps: whole path steps per second (gradient, optimizer step, schedule
/// step, divergence check and recording), the loop `optlab trajectories` and learning-rate sweeps run.
public enum OptimBenchmark {
    public struct Figure: Sendable {
        public let spec: OptimizerSpec
        public let stepsPerSecond: Double
    }

    /// Runs `paths` paths of `steps` steps each from the surface's start, as a learning-rate sweep
    /// does; the fastest of `repeats` rounds counts, so a busy machine shows its best case.
    /// (One endless path would mostly measure subnormal arithmetic once it has converged.)
    public static func measure(_ spec: OptimizerSpec, on surface: Surface, steps: Int, paths: Int,
                               repeats: Int) throws -> Figure {
        var best = Double.infinity
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            for _ in 0..<paths {
                let result = try Trajectories.run(spec, on: surface, from: surface.start, steps: steps)
                if let k = result.divergedAt { throw TrajectoryError("benchmark path \(spec.label) diverged at step \(k)") }
            }
            let elapsed = started.duration(to: .now)
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return Figure(spec: spec, stepsPerSecond: Double(steps * paths) / best)
    }

    /// One spec per algorithm, at the rates of the bowl parity cases.
    public static let specs = [
        "sgd(lr=0.04)", "momentum(lr=0.04)", "nesterov(lr=0.02)", "adagrad(lr=0.5)", "rmsprop(lr=0.05)",
        "adadelta(lr=20,rho=0.95)", "adam(lr=0.1)", "adamw(lr=0.1)", "nadam(lr=0.1)", "radam(lr=0.1)", "adamax(lr=0.1)",
    ]
}
