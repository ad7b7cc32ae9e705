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
    /// evaluations[k]: how many gradient evaluations step k took (torch's closure calls: 1, 2 for
    /// SAM, LBFGS's func_evals); 0 for the start.
    public let evaluations: [Int]
    /// The step k at which the path left the finite numbers (or passed the divergence loss); the
    /// path stops there, so `points` ends with the point after step k − 1.
    public let divergedAt: Int?
    /// The noise stream's seed (0..<seeds) when the gradients were noisy, nil when exact.
    public let seed: Int?
    /// When recorded: the optimizer's per-coordinate state buffers by torch's state names
    /// (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, `sum`, `square_avg`, ...), as read from the
    /// optimizer after each step: `state[name][k - 1]` after step k, one per point but the start.
    public let state: [String: [Point]]
    /// The second point the algorithm keeps beside the one the path shows, after every step
    /// (`points[0]` the start): ASGD's averaged point `ax` (the path is its iterate), or
    /// schedule-free's gradient point `y` (the path is its evaluation point x). nil for the others
    /// and for a median path.
    public let secondPoint: SecondPoint?

    public var finalPoint: Point { points[points.count - 1] }
    public var finalLoss: Double { losses[losses.count - 1] }
}

/// A point an algorithm keeps beside its path's, by torch name (ASGD's `ax`, schedule-free's `y`).
public struct SecondPoint: Sendable {
    public let name: String
    /// As the path's points: the start, then the point after each step.
    public let points: [Point]
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
    /// Per optimizer in order, one path per seed (one path in all when the gradients are exact).
    public let results: [TrajectoryResult]
    /// The gradient noise, nil for exact gradients.
    public let noise: GradientNoise?

    /// The paths of each optimizer: one per seed under noise, else one.
    public var groups: [[TrajectoryResult]] {
        let perSpec = noise?.seeds ?? 1
        return stride(from: 0, to: results.count, by: perSpec).map { Array(results[$0..<min(results.count, $0 + perSpec)]) }
    }

    /// `optimizer,step,x,y,loss,evals,second_point,second_x,second_y`, one row per point, step 0
    /// being the start: evals is the step's gradient evaluations, second_* the algorithm's
    /// second point by torch name (ASGD's `ax`, schedule-free's `y`; empty for the others); with
    /// noise, a seed column after the optimizer's.
    public var csv: String {
        let columns = ["step", "x", "y", "loss", "evals", "second_point", "second_x", "second_y"]
        var table = CSVTable(header: ["optimizer"] + (noise == nil ? columns : ["seed"] + columns))
        for r in results {
            for (k, p) in r.points.enumerated() {
                let second: [CustomStringConvertible] = r.secondPoint.map { [$0.name, $0.points[k].x, $0.points[k].y] } ?? ["", "", ""]
                let row: [CustomStringConvertible] = [k, p.x, p.y, r.losses[k], r.evaluations[k]] + second
                table.append([r.label] + (r.seed.map { [$0] + row } ?? row))
            }
        }
        return table.text
    }
}

/// Independent Gaussian noise N(0, σ²) on each coordinate of every gradient evaluation (as
/// DeepOBS's noisy 2-D problems), from one seeded stream per path: seed s of optimizer i sees
/// the same noise in every run, and every optimizer sees the same `seeds` streams.
public struct GradientNoise: Sendable, Equatable {
    public let sigma: Double
    public let seeds: Int

    /// σ ≥ 0 and 1...1000 seeds.
    public init(sigma: Double, seeds: Int) throws {
        guard sigma >= 0, sigma.isFinite else { throw SettingError("noise", "must be a standard deviation ≥ 0, got \(sigma)") }
        guard (1...1000).contains(seeds) else { throw SettingError("seeds", "must be in 1...1000, got \(seeds)") }
        self.sigma = sigma
        self.seeds = seeds
    }

    /// The stream of seed s.
    func stream(_ seed: Int) -> SeededRandom { SeededRandom(seed: 0x6E6F_6973_65, stream: seed) }
}

public enum Trajectories {
    /// Runs every spec from `start` (default: the surface's) for `steps` steps; with `noise`,
    /// once per seed.
    /// `recordsState` keeps each step's optimizer state (`TrajectoryResult.state`).
    public static func compare(_ specs: [OptimizerSpec], on surface: Surface, from start: Point? = nil,
                               steps: Int, noise: GradientNoise? = nil, recordsState: Bool = false) throws -> TrajectoryComparison {
        // Every path keeps its points and losses (24 bytes a step) and becomes CSV rows (about 60).
        let paths = specs.count * (noise?.seeds ?? 1)
        try Budget.check("\(paths) paths × \(steps.grouped) steps", bytes: Double(paths) * Double(steps) * 84,
                         steps: Double(paths) * Double(steps), advice: "use fewer steps, seeds or optimizers")
        let start = start ?? surface.start
        let results = try specs.flatMap { spec in
            try (0..<(noise?.seeds ?? 1)).map { seed in
                try run(spec, on: surface, from: start, steps: steps, noise: noise.map { ($0.sigma, $0.stream(seed), seed) },
                        recordsState: recordsState)
            }
        }
        return TrajectoryComparison(surface: surface, start: start, steps: steps, results: results, noise: noise)
    }

    /// Steps one optimizer over the surface, `steps` times torch's `step(closure)` (the closure
    /// takes the gradient; SAM and LBFGS call it more than once per step) and a schedule step
    /// (plateau's with the loss at the new point; a onecycle schedule without total_steps spans
    /// the path). A path's points are where the model would be evaluated: the iterate, or for
    /// schedule-free algorithms their averaged sequence x (`optimizer.eval()`).
    /// The path stops at the first point whose coordinates or loss are not finite, or whose loss
    /// exceeds `divergenceLoss`, and is reported as diverged there. With `noise`, every gradient
    /// gets σ × a standard normal from the stream per coordinate (σ = 0 adds nothing).
    public static func run(_ spec: OptimizerSpec, on surface: Surface, from start: Point, steps: Int,
                           divergenceLoss: Double = .infinity,
                           noise: (sigma: Double, stream: SeededRandom, seed: Int)? = nil,
                           recordsState: Bool = false) throws -> TrajectoryResult {
        guard steps >= 0 else { throw SettingError("steps", "must be ≥ 0, got \(steps)") }
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4)
        defer { buffer.deallocate() }
        let value = UnsafeMutableBufferPointer(rebasing: buffer[0..<2])
        let grad = UnsafeMutableBufferPointer(rebasing: buffer[2..<4])
        (value[0], value[1]) = (start.x, start.y)
        // A 1×2 matrix, so that Muon (matrices only) steps it as torch steps a [1, 2] tensor.
        let optimizer = try Optimizer(spec.fillingTotalSteps(max(1, steps)),
                                      parameters: [Parameter(name: "", value: value, grad: grad, shape: [1, 2])])

        let startLoss = try checkedLoss(at: start, on: surface)
        var points = [start], losses = [startLoss], evaluations = [0]
        points.reserveCapacity(steps + 1)
        losses.reserveCapacity(steps + 1)
        evaluations.reserveCapacity(steps + 1)
        // Schedule-free's path is x, so its iterate is the gradient point y; ASGD's is a buffer.
        let secondName = optimizer.hasEvaluationPoint ? "y" : optimizer.averagedPoint
        var second = secondName == nil ? [] : [start]
        var divergedAt: Int?
        var k = 0
        var stream = noise?.stream
        var state: [String: [Point]] = [:]
        while divergedAt == nil, k < steps {
            k += 1
            // The gradient here, with the noise's next draws (SAM and LBFGS take several per step).
            // Inlined: called once per step, the call cost single paths a tenth of their steps.
            @inline(__always) func takeGradient() {
                (grad[0], grad[1]) = surface.gradient(value[0], value[1])
                if let sigma = noise?.sigma, sigma > 0 {
                    grad[0] += sigma * stream!.normal()
                    grad[1] += sigma * stream!.normal()
                }
            }
            var evaluated = 1
            if optimizer.needsClosure {
                evaluated = 0
                try optimizer.step {
                    evaluated += 1
                    takeGradient()
                    return surface.value(value[0], value[1])
                }
            } else {
                takeGradient()
                optimizer.step()
            }
            let p = optimizer.hasEvaluationPoint ? optimizer.withEvaluationValues { Point(value[0], value[1]) } : Point(value[0], value[1])
            let loss = surface.value(p.x, p.y)
            try optimizer.scheduleStep(loss: loss)
            if isDiverged(p, loss, divergenceLoss) {
                divergedAt = k
            } else {
                points.append(p)
                losses.append(loss)
                evaluations.append(evaluated)
                if optimizer.hasEvaluationPoint {
                    second.append(Point(value[0], value[1]))
                } else if let name = secondName, let b = optimizer.stateBuffer(named: name, parameter: 0) {
                    second.append(Point(b[0], b[1]))
                }
                if recordsState {
                    // The optimizer's own buffers, by name, as its state_dict would save them.
                    for tensor in optimizer.stateTensors() where tensor.shape == [2] && tensor.name.hasPrefix("state.0.") {
                        state[String(tensor.name.dropFirst("state.0.".count)), default: []].append(Point(tensor.values[0], tensor.values[1]))
                    }
                }
            }
        }
        return TrajectoryResult(label: spec.label, spec: spec, points: points, losses: losses, evaluations: evaluations, divergedAt: divergedAt, seed: noise?.seed,
                                state: state, secondPoint: secondName.map { SecondPoint(name: $0, points: second) })
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
    /// With `noise`, every path's gradients get the same draws from the stream, as `run` would add them.
    ///
    /// Only algorithms whose update treats each parameter on its own (`isSeparable`) are batched
    /// so; the others (SAM's and Prodigy's global norms, LBFGS's one flat vector, an evaluation
    /// point elsewhere than the iterate) would couple the paths, and run one by one through `run`.
    public static func finalStates(_ spec: OptimizerSpec, learningRates: [Double], on surface: Surface, from start: Point,
                                   steps: Int, divergenceLoss: Double = .infinity, block: Int = 64,
                                   noise: (sigma: Double, stream: SeededRandom)? = nil) throws -> [FinalState] {
        guard steps >= 0 else { throw SettingError("steps", "must be ≥ 0, got \(steps)") }
        guard spec.batchesPaths else {
            return try learningRates.map { lr in
                let path = try run(spec.with(learningRate: lr), on: surface, from: start, steps: steps, divergenceLoss: divergenceLoss,
                                   noise: noise.map { ($0.sigma, $0.stream, 0) })
                return FinalState(point: path.finalPoint, loss: path.finalLoss, divergedAt: path.divergedAt)
            }
        }
        let startLoss = try checkedLoss(at: start, on: surface)
        var states = [FinalState](repeating: FinalState(point: start, loss: startLoss, divergedAt: nil), count: learningRates.count)
        let stepsWithLoss = spec.schedule?.needsLoss == true
        let width = stepsWithLoss ? 1 : max(1, block)
        let startGradient = surface.gradient(start.x, start.y)
        let sigma = noise?.sigma ?? 0
        try states.withUnsafeMutableBufferPointer { states in
            for first in stride(from: 0, to: learningRates.count, by: width) {
                // Each block replays the stream from its start: path i sees what `run` would draw.
                var stream = noise?.stream
                func noisy(_ g: (x: Double, y: Double)) -> (Double, Double) {
                    sigma > 0 ? (g.x + sigma * stream!.normal(), g.y + sigma * stream!.normal()) : (g.x, g.y)
                }
                let firstGradient = noisy(startGradient)
                let paths = first..<min(learningRates.count, first + width)
                // Path i's point and gradient: xy[4i], xy[4i + 1] and xy[4i + 2], xy[4i + 3].
                let xy = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4 * paths.count)
                defer { xy.deallocate() }
                let parameters = (0..<paths.count).map { i in
                    (xy[4 * i], xy[4 * i + 1], xy[4 * i + 2], xy[4 * i + 3]) = (start.x, start.y, firstGradient.0, firstGradient.1)
                    return Parameter(name: "", value: UnsafeMutableBufferPointer(rebasing: xy[(4 * i)..<(4 * i + 2)]),
                                     grad: UnsafeMutableBufferPointer(rebasing: xy[(4 * i + 2)..<(4 * i + 4)]), shape: [1, 2])
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
                    // The same draws for every path of the block, in `run`'s order.
                    if sigma > 0 {
                        let z = noisy((0, 0))
                        for i in 0..<paths.count { xy[4 * i + 2] += z.0; xy[4 * i + 3] += z.1 }
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

extension TrajectoryResult {
    /// The pointwise median of one optimizer's noisy paths (a seed fan): at each step the median
    /// x and y of the paths still running, until more than half of them have diverged, when the
    /// median path diverges too. Its losses are the surface's at the median points.
    public static func median(of paths: [TrajectoryResult], on surface: Surface) -> TrajectoryResult {
        precondition(!paths.isEmpty, "median of no paths")
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted(), n = sorted.count
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        }
        var points: [Point] = [], evaluations: [Int] = []
        var divergedAt: Int?
        for k in 0..<(paths.map(\.points.count).max() ?? 0) {
            let running = paths.filter { k < $0.points.count }
            guard 2 * running.count > paths.count else { divergedAt = k; break }
            points.append(Point(median(running.map { $0.points[k].x }), median(running.map { $0.points[k].y })))
            evaluations.append(running.map { $0.evaluations[k] }.sorted()[(running.count - 1) / 2])
        }
        return TrajectoryResult(label: paths[0].label, spec: paths[0].spec, points: points,
                                losses: points.map { surface.value($0.x, $0.y) }, evaluations: evaluations, divergedAt: divergedAt,
                                seed: nil, state: [:], secondPoint: nil)
    }
}
