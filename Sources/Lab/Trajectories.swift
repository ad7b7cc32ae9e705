import Foundation
import Optim
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
        let start = start ?? surface.start
        return TrajectoryComparison(surface: surface, start: start, steps: steps,
                                    results: try specs.map { try run($0, on: surface, from: start, steps: steps) })
    }

    /// Steps one optimizer over the surface: gradient, optimizer step, schedule step, `steps` times.
    /// The path stops at the first point whose coordinates or loss are not finite, or whose loss
    /// exceeds `divergenceLoss`, and is reported as diverged there.
    public static func run(_ spec: OptimizerSpec, on surface: Surface, from start: Point, steps: Int,
                           divergenceLoss: Double = .infinity) throws -> TrajectoryResult {
        guard steps >= 0 else { throw TrajectoryError("steps must be ≥ 0, got \(steps)") }
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4)
        defer { buffer.deallocate() }
        let value = UnsafeMutableBufferPointer(rebasing: buffer[0..<2])
        let grad = UnsafeMutableBufferPointer(rebasing: buffer[2..<4])
        (value[0], value[1]) = (start.x, start.y)
        let optimizer = try Optimizer(spec, parameters: [Parameter(name: "", value: value, grad: grad)])

        let startLoss = surface.value(start.x, start.y)
        guard start.x.isFinite, start.y.isFinite, startLoss.isFinite else {
            throw TrajectoryError("the start \(start) is outside the surface's domain: f = \(startLoss.isNaN ? "nan" : "\(startLoss)")")
        }
        var points = [start], losses = [startLoss]
        points.reserveCapacity(steps + 1)
        losses.reserveCapacity(steps + 1)
        var divergedAt: Int?
        var k = 0
        while divergedAt == nil, k < steps {
            k += 1
            (grad[0], grad[1]) = surface.gradient(value[0], value[1])
            optimizer.step()
            optimizer.scheduleStep()
            let p = Point(value[0], value[1]), loss = surface.value(p.x, p.y)
            if isDiverged(p, loss, divergenceLoss) {
                divergedAt = k
            } else {
                points.append(p)
                losses.append(loss)
            }
        }
        return TrajectoryResult(label: spec.label, spec: spec, points: points, losses: losses, divergedAt: divergedAt)
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

public struct TrajectoryError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
