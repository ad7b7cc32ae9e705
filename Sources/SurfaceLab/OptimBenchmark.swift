import Foundation
import Optim
import Surfaces

/// How fast the 2-D engine steps, counted in path steps: the surface's gradient, the optimizer's
/// update, the schedule step and the divergence check (plus, for single paths, recording the point).
public enum OptimBenchmark {
    /// Steps per second of one spec.
    public struct Speed: Sendable {
        public let spec: OptimizerSpec
        /// One path at a time through `Trajectories.run`, every point recorded: `optlab trajectories`.
        public let singlePath: Double
        /// Paths stepped together through `Trajectories.finalStates`, final states only: learning-rate sweeps.
        public let sweep: Double
    }

    /// Times `paths` paths of `steps` steps from the surface's start, optimizer construction
    /// included; the fastest of `repeats` rounds counts, on the thread's CPU clock, so a busy
    /// machine shows its best case.
    /// (One endless path would mostly measure subnormal arithmetic once it has converged.)
    ///
    /// Single paths all run `spec`. The sweep runs it at `paths` learning rates spread
    /// geometrically over [lr/10, lr] with a sweep's divergence limit (10⁶ × the start loss); only
    /// the steps up to a path's divergence count (its block may step it further). A schedule that
    /// sets every rate itself (onecycle, cyclic) runs all the sweep's paths at its rates.
    public static func measure(_ spec: OptimizerSpec, on surface: Surface, steps: Int, paths: Int,
                               repeats: Int) throws -> Speed {
        let start = surface.start
        let single = try bestTime(repeats) {
            for _ in 0..<paths {
                let result = try Trajectories.run(spec, on: surface, from: start, steps: steps)
                if let k = result.divergedAt { throw SurfaceLabError("benchmark path \(spec.label) diverged at step \(k)") }
            }
        }
        let lr = spec.learningRate
        let rates = spec.schedule?.setsEveryRate == true ? Array(repeating: lr, count: paths)
            : (0..<paths).map { i in paths == 1 ? lr : lr * pow(10, Double(i) / Double(paths - 1) - 1) }
        let limit = abs(surface.value(start.x, start.y)) * 1e6
        var taken = 0
        let sweep = try bestTime(repeats) {
            let states = try Trajectories.finalStates(spec, learningRates: rates, on: surface, from: start, steps: steps,
                                                      divergenceLoss: limit)
            taken = states.reduce(0) { $0 + ($1.divergedAt ?? steps) }
        }
        return Speed(spec: spec, singlePath: Double(steps * paths) / single, sweep: Double(taken) / sweep)
    }

    /// The fastest of `repeats` runs of `work`, in seconds of this thread's CPU time: other
    /// processes on a shared machine take turns on the core without counting against it.
    private static func bestTime(_ repeats: Int, _ work: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            var t0 = timespec(), t1 = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0)
            try work()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1)
            best = min(best, Double(t1.tv_sec - t0.tv_sec) + Double(t1.tv_nsec - t0.tv_nsec) * 1e-9)
        }
        return best
    }

    /// One spec per algorithm, at the rates of the bowl parity cases. (SAM and LBFGS evaluate the
    /// surface several times per step; the algorithms that are not separable run their sweep
    /// paths one by one.)
    public static let specs = [
        "sgd(lr=0.04)", "momentum(lr=0.04)", "nesterov(lr=0.02)", "adagrad(lr=0.5)", "rmsprop(lr=0.05)",
        "adadelta(lr=20,rho=0.95)", "adam(lr=0.1)", "adamw(lr=0.1)", "nadam(lr=0.1)", "radam(lr=0.1)", "adamax(lr=0.1)",
        "rprop", "asgd", "adafactor(lr=0.1)", "muon(lr=0.02)", "lbfgs(lr=0.1,max_iter=3)", "lion(lr=0.01)",
        "adamw_schedulefree(lr=0.1)", "sgd_schedulefree(lr=0.01)", "prodigy", "sam(base=sgd(lr=0.01))",
        "lookahead(base=adam(lr=0.1))",
    ]
}
