import Foundation
import Optim
import Support
import Surfaces

/// One optimizer's path over a surface.
public struct TrajectoryResult: Sendable {
    /// The spec's label: what legends, tables and CSV files call this path.
    public let label: String
    public let spec: OptimizerSpec
    /// points[0] is the start; points[k] is the point after step k. Only finite points are kept.
    public let points: [Point]
    /// losses[k] = f(points[k]).
    public let losses: [Double]
    /// The step k at which the path left the finite numbers (or passed the divergence loss); the
    /// path stops there, so `points` ends with the point after step k − 1.
    public let divergedAt: Int?

    public var finalPoint: Point { points[points.count - 1] }
    public var finalLoss: Double { losses[losses.count - 1] }
}

/// Where a path ended, without the points on the way.
public struct FinalState: Sendable, Equatable {
    /// The last finite point (the start if the first step diverged) and its loss.
    public var point: Point
    public var loss: Double
    /// As in `TrajectoryResult`: the step at which the path diverged and stopped.
    public var divergedAt: Int?
}

/// Several optimizers from one start over one surface: what `optlab trajectories` computes and
/// the renderer draws.
public struct TrajectoryComparison: Sendable {
    public let surface: Surface
    public let start: Point
    public let steps: Int
    public let results: [TrajectoryResult]

    /// `optimizer,step,x,y,loss`, one row per point, step 0 being the start.
    public var csv: String {
        var table = CSVTable(header: ["optimizer", "step", "x", "y", "loss"])
        for r in results {
            for (k, p) in r.points.enumerated() { table.append([r.label, k, p.x, p.y, r.losses[k]]) }
        }
        return table.text
    }
}

public enum Trajectories {
    /// Runs every spec from `start` (default: the surface's) for `steps` steps.
    public static func compare(_ specs: [OptimizerSpec], on surface: Surface, from start: Point? = nil,
                               steps: Int) throws -> TrajectoryComparison {
        // Every path keeps its points and losses (24 bytes a step) and becomes CSV rows (about 60).
        try Budget.check("\(specs.count) paths × \(steps.grouped) steps", bytes: Double(specs.count) * Double(steps) * 84,
                         steps: Double(specs.count) * Double(steps), advice: "use fewer steps or optimizers")
        let start = start ?? surface.start
        return TrajectoryComparison(surface: surface, start: start, steps: steps,
                                    results: try specs.map { try run($0, on: surface, from: start, steps: steps) })
    }

    /// Steps one optimizer over the surface: gradient, optimizer step, schedule step (plateau's
    /// with the loss at the new point), `steps` times (a onecycle schedule without total_steps
    /// spans the path).
    /// The path stops at the first point whose coordinates or loss are not finite, or whose loss
    /// exceeds `divergenceLoss`, and is reported as diverged there.
    public static func run(_ spec: OptimizerSpec, on surface: Surface, from start: Point, steps: Int,
                           divergenceLoss: Double = .infinity) throws -> TrajectoryResult {
        guard steps >= 0 else { throw SettingError("steps", "must be ≥ 0, got \(steps)") }
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4)
        defer { buffer.deallocate() }
        let value = UnsafeMutableBufferPointer(rebasing: buffer[0..<2])
        let grad = UnsafeMutableBufferPointer(rebasing: buffer[2..<4])
        (value[0], value[1]) = (start.x, start.y)
        let optimizer = try Optimizer(spec.fillingTotalSteps(max(1, steps)), parameters: [Parameter(name: "", value: value, grad: grad)])

        let startLoss = try checkedLoss(at: start, on: surface)
        var points = [start], losses = [startLoss]
        points.reserveCapacity(steps + 1)
        losses.reserveCapacity(steps + 1)
        var divergedAt: Int?
        var k = 0
        while divergedAt == nil, k < steps {
            k += 1
            (grad[0], grad[1]) = surface.gradient(value[0], value[1])
            optimizer.step()
            let p = Point(value[0], value[1]), loss = surface.value(p.x, p.y)
            try optimizer.scheduleStep(loss: loss)
            if isDiverged(p, loss, divergenceLoss) {
                divergedAt = k
            } else {
                points.append(p)
                losses.append(loss)
            }
        }
        return TrajectoryResult(label: spec.label, spec: spec, points: points, losses: losses, divergedAt: divergedAt)
    }

    /// Where the paths of one optimizer end, path i run at `learningRates[i]`: for each the final
    /// point, loss and divergence step that `run` reports for `spec.with(learningRate:)`, without
    /// recording the points between. What learning-rate sweeps need, much faster:
    ///
    /// One path is a serial chain (gradient → update → square root → division → next gradient)
    /// that leaves the processor mostly waiting. Here each block of `block` paths is one optimizer
    /// whose parameters are the paths, each at its own learning rate (torch's parameter groups),
    /// so every step is one loop over independent points whose chains the out-of-order core
    /// overlaps. A path that diverges keeps being stepped with its block (its result is already
    /// fixed); a block stops when all its paths have diverged. A schedule that steps with the loss
    /// (plateau) needs one loss per optimizer, so then every block is one path.
    public static func finalStates(_ spec: OptimizerSpec, learningRates: [Double], on surface: Surface, from start: Point,
                                   steps: Int, divergenceLoss: Double = .infinity, block: Int = 64) throws -> [FinalState] {
        guard steps >= 0 else { throw SettingError("steps", "must be ≥ 0, got \(steps)") }
        let startLoss = try checkedLoss(at: start, on: surface)
        var states = [FinalState](repeating: FinalState(point: start, loss: startLoss, divergedAt: nil), count: learningRates.count)
        let stepsWithLoss = spec.schedule?.needsLoss == true
        let width = stepsWithLoss ? 1 : max(1, block)
        let startGradient = surface.gradient(start.x, start.y)
        try states.withUnsafeMutableBufferPointer { states in
            for first in stride(from: 0, to: learningRates.count, by: width) {
                let paths = first..<min(learningRates.count, first + width)
                // Path i's point and gradient: xy[4i], xy[4i + 1] and xy[4i + 2], xy[4i + 3].
                let xy = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4 * paths.count)
                defer { xy.deallocate() }
                let parameters = (0..<paths.count).map { i in
                    (xy[4 * i], xy[4 * i + 1], xy[4 * i + 2], xy[4 * i + 3]) = (start.x, start.y, startGradient.x, startGradient.y)
                    return Parameter(name: "", value: UnsafeMutableBufferPointer(rebasing: xy[(4 * i)..<(4 * i + 2)]),
                                     grad: UnsafeMutableBufferPointer(rebasing: xy[(4 * i + 2)..<(4 * i + 4)]))
                }
                let optimizer = try Optimizer(spec.fillingTotalSteps(max(1, steps)), parameters: parameters,
                                              learningRates: Array(learningRates[paths]))
                var running = paths.count, k = 0
                while running > 0, k < steps {
                    k += 1
                    optimizer.step()
                    try optimizer.scheduleStep(loss: stepsWithLoss ? surface.value(xy[0], xy[1]) : nil)
                    // Check every point, then take its gradient for the next step.
                    for i in 0..<paths.count {
                        let p = Point(xy[4 * i], xy[4 * i + 1])
                        if states[first + i].divergedAt == nil {
                            let loss = surface.value(p.x, p.y)
                            if isDiverged(p, loss, divergenceLoss) {
                                states[first + i].divergedAt = k
                                running -= 1
                            } else {
                                (states[first + i].point, states[first + i].loss) = (p, loss)
                            }
                        }
                        (xy[4 * i + 2], xy[4 * i + 3]) = surface.gradient(p.x, p.y)
                    }
                }
            }
        }
        return states
    }

    private static func checkedLoss(at start: Point, on surface: Surface) throws -> Double {
        let loss = surface.value(start.x, start.y)
        guard start.x.isFinite, start.y.isFinite, loss.isFinite else {
            throw SurfaceLabError("the start \(start) is outside the surface's domain: f = \(loss.isNaN ? "nan" : "\(loss)")")
        }
        return loss
    }

    @inline(__always)
    private static func isDiverged(_ p: Point, _ loss: Double, _ limit: Double) -> Bool {
        !(p.x.isFinite && p.y.isFinite && loss.isFinite && loss <= limit)
    }

    /// The nine paths of the classic comparison (sgd, momentum, adagrad, rmsprop, adadelta, adam,
    /// adamw, sgd and momentum with step decay), with learning rates picked per surface so each
    /// path shows its character there rather than crawling or exploding.
    public static func classicSpecs(for surface: Surface) -> [OptimizerSpec] {
        let lr = ClassicRates.rates[surface.name] ?? ClassicRates.formula
        let texts = [
            "sgd(lr=\(lr.sgd))",
            "momentum(lr=\(lr.momentum))",
            "adagrad(lr=\(lr.adaptive * 5))",
            "rmsprop(lr=\(lr.adaptive / 2))",
            "adadelta(lr=\(lr.adadelta))",
            "adam(lr=\(lr.adaptive))",
            "adamw(lr=\(lr.adaptive))",
            "sgd(lr=\(lr.sgd),schedule=step(step_size=\(lr.decayEvery * 2),gamma=0.5))",
            "momentum(lr=\(lr.momentum),schedule=step(step_size=\(lr.decayEvery),gamma=0.5))",
        ]
        // These literals are valid specs by construction; a failure here is a programming error.
        return texts.map { try! OptimizerSpec.parse($0) }
    }
}

/// Learning rates for the classic comparison, per built-in surface.
private struct ClassicRates {
    var sgd, momentum, adaptive, adadelta: Double
    var decayEvery: Int

    static let rates: [String: ClassicRates] = [
        "bowl": ClassicRates(sgd: 0.04, momentum: 0.04, adaptive: 0.1, adadelta: 20, decayEvery: 10),
        "localmin": ClassicRates(sgd: 0.01, momentum: 0.01, adaptive: 0.2, adadelta: 20, decayEvery: 10),
        "rosenbrock": ClassicRates(sgd: 0.0015, momentum: 0.0015, adaptive: 0.2, adadelta: 20, decayEvery: 25),
        "beale": ClassicRates(sgd: 0.01, momentum: 0.002, adaptive: 0.1, adadelta: 10, decayEvery: 25),
        "himmelblau": ClassicRates(sgd: 0.01, momentum: 0.005, adaptive: 0.1, adadelta: 10, decayEvery: 25),
        "rastrigin": ClassicRates(sgd: 0.004, momentum: 0.008, adaptive: 0.2, adadelta: 20, decayEvery: 25),
        "saddle": ClassicRates(sgd: 0.05, momentum: 0.02, adaptive: 0.05, adadelta: 10, decayEvery: 25),
    ]
    static let formula = ClassicRates(sgd: 0.01, momentum: 0.01, adaptive: 0.1, adadelta: 10, decayEvery: 25)
}

/// A 2-D run cannot be made as asked (its settings are fine; see `SettingError`).
public struct SurfaceLabError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
