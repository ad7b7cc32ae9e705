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

    /// The fastest of `repeats` runs of `steps` steps each, so a busy machine shows its best case.
    public static func measure(_ spec: OptimizerSpec, on surface: Surface, steps: Int, repeats: Int) throws -> Figure {
        var best = Double.infinity
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            let result = try Trajectories.run(spec, on: surface, from: surface.start, steps: steps)
            let elapsed = started.duration(to: .now)
            guard result.divergedAt == nil else {
                throw TrajectoryError("benchmark path \(spec.label) diverged at step \(result.divergedAt!)")
            }
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return Figure(spec: spec, stepsPerSecond: Double(steps) / best)
    }

    /// One spec per algorithm, with rates that keep `bowl` finite for millions of steps.
    public static let specs = [
        "sgd(lr=0.01)", "momentum(lr=0.01)", "nesterov(lr=0.01)", "adagrad(lr=0.5)", "rmsprop(lr=0.01)",
        "adadelta", "adam(lr=0.01)", "adamw(lr=0.01)", "nadam(lr=0.01)", "radam(lr=0.01)", "adamax(lr=0.01)",
    ]
}
