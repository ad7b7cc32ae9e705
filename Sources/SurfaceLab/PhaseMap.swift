import Foundation
import Optim
import Support
import Surfaces

/// A hyperparameter phase map: one optimizer run from one start for every pair of values of two
/// of its numeric keywords (`lr`, `momentum`, `alpha`, `eps`, ..., and `beta1`, `beta2` for the
/// parts of `betas`), keeping each run's final loss. Runs that share every keyword but `lr` are
/// stepped together by the sweep engine (`Trajectories.finalStates`), as learning-rate sweeps are.
public struct PhaseMap: Sendable {
    /// One swept keyword: `lr=0.001...1` with `count` values, evenly or geometrically spaced.
    public struct Axis: Sendable, Equatable {
        public let key: String
        public let range: ClosedRange<Double>
        public let count: Int
        public let logarithmic: Bool

        /// Parses `KEY=A...B`; `setting` names the option or key it came from in errors.
        public init(_ text: String, count: Int, logarithmic: Bool, setting: String) throws {
            let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty,
                  let range = try? LRSweep.parseRange(parts[1]) else {
                throw SettingError(setting, "must be KEYWORD=A...B such as lr=0.001...1, got '\(text)'")
            }
            guard count >= 2 else { throw SettingError("points", "must give ≥ 2 values per axis, got \(count)") }
            guard !logarithmic || range.lowerBound > 0 else {
                throw SettingError("log-\(setting)", "needs a range starting above 0, got \(range.lowerBound)")
            }
            key = parts[0]; self.range = range; self.count = count; self.logarithmic = logarithmic
        }

        /// The values, ends included.
        public var values: [Double] {
            (0..<count).map { k in
                if k == count - 1 { return range.upperBound }
                let t = Double(k) / Double(count - 1)
                return logarithmic ? range.lowerBound * pow(range.upperBound / range.lowerBound, t)
                                   : range.lowerBound + (range.upperBound - range.lowerBound) * t
            }
        }
    }

    /// Parses `NxM` (values across × values up); at most a million runs.
    public static func gridSize(_ text: String) throws -> (across: Int, up: Int) {
        let counts = text.lowercased().split(separator: "x").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard counts.count == 2, let n = counts[0], let m = counts[1], n >= 2, m >= 2 else {
            throw SettingError("points", "must be N×M with N, M ≥ 2, such as 101x100, got '\(text)'")
        }
        guard n * m <= 1_000_000 else { throw SettingError("points", "\(n)x\(m) is \((n * m).grouped) runs; at most 1,000,000") }
        return (n, m)
    }

    public let spec: OptimizerSpec
    public let surface: Surface
    public let start: Surfaces.Point
    public let steps: Int
    public let x: Axis, y: Axis
    /// finalLoss[j][i]: at y.values[j], x.values[i]; nil when the run diverged (`LRSweep`'s definition).
    public let finalLoss: [[Double?]]
    public let startLoss: Double
    /// A run is tolerated when its final loss is below this.
    public let tolerance: Double

    /// The keywords `beta1` and `beta2` stand for, and their torch default (every Adam-family
    /// algorithm's betas default to (0.9, 0.999)).
    static let betaParts = ["beta1": 0, "beta2": 1], defaultBetas = [0.9, 0.999]

    public static func run(_ spec: OptimizerSpec, x: Axis, y: Axis, on surface: Surface, from start: Surfaces.Point? = nil,
                           steps: Int, tolerance: Double? = nil) throws -> PhaseMap {
        guard spec.schedule == nil else { throw SettingError("optimizer", "takes no schedule in a phase map (its keywords are what is swept)") }
        guard x.key != y.key else { throw SettingError("y", "must sweep another keyword than --x (both are \(x.key))") }
        guard steps >= 1 else { throw SettingError("steps", "must be ≥ 1, got \(steps)") }
        try LRSweep.checkTolerance(tolerance)
        let start = start ?? surface.start
        let startLoss = surface.value(start.x, start.y)
        guard startLoss.isFinite else { throw SurfaceLabError("the start \(start) is outside the surface's domain") }
        let divergence = LRSweep.divergenceLoss(startLoss: startLoss)
        let xs = x.values, ys = y.values
        // Built and checked before any work, so a keyword the optimizer lacks fails at once.
        let rowSpecs = try ys.map { try setting(y.key, to: $0, in: spec) }
        _ = try setting(x.key, to: xs[0], in: rowSpecs[0])
        let rows = try rowSpecs.map { rowSpec -> [Double?] in
            let states: [FinalState]
            if x.key == "lr" {
                states = try Trajectories.finalStates(rowSpec, learningRates: xs, on: surface, from: start, steps: steps, divergenceLoss: divergence)
            } else {
                states = try xs.flatMap { value -> [FinalState] in
                    let cell = try setting(x.key, to: value, in: rowSpec)
                    return try Trajectories.finalStates(cell, learningRates: [cell.learningRate], on: surface, from: start,
                                                        steps: steps, divergenceLoss: divergence)
                }
            }
            return states.map { $0.divergedAt == nil ? $0.loss : nil }
        }
        return PhaseMap(spec: spec, surface: surface, start: start, steps: steps, x: x, y: y, finalLoss: rows,
                        startLoss: startLoss, tolerance: tolerance ?? 1e-3 * startLoss)
    }

    /// The spec with one keyword set (`beta1`/`beta2` inside `betas`), parsed again so the
    /// optimizer's own checks apply: `sgd(momentum=-1)` is refused as when typed.
    static func setting(_ key: String, to value: Double, in spec: OptimizerSpec) throws -> OptimizerSpec {
        if key == "lr" { return spec.with(learningRate: value) }
        var arguments = spec.arguments.map { (key: $0.key, value: $0.value.description) }
        if let part = betaParts[key] {
            var betas = Self.defaultBetas
            if case .tuple(let items)? = spec.arguments.last(where: { $0.key == "betas" })?.value {
                betas = items.map { if case .number(let b) = $0 { return b } else { return .nan } }
            }
            guard betas.count == 2 else { throw SettingError(key, "needs betas=(beta1,beta2) in the spec") }
            betas[part] = value
            arguments.removeAll { $0.key == "betas" }
            arguments.append((key: "betas", value: SpecValue.tuple(betas.map { .number($0) }).description))
        } else {
            arguments.removeAll { $0.key == key }
            arguments.append((key: key, value: SpecValue.number(value).description))
        }
        let text = "\(spec.name)(" + arguments.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + ")"
        do {
            return try OptimizerSpec.parse(text)
        } catch {
            throw SettingError(key, "cannot be swept in \(spec.label): \(error)")
        }
    }

    /// One row per cell: the two keywords (named as in the spec), `final_loss` and `diverged`
    /// (final_loss nan when diverged).
    public var csv: String {
        var table = CSVTable(header: [x.key, y.key, "final_loss", "diverged"])
        for (j, yValue) in y.values.enumerated() {
            for (i, xValue) in x.values.enumerated() {
                let loss = finalLoss[j][i]
                table.append([xValue, yValue, loss ?? .nan, loss == nil])
            }
        }
        return table.text
    }

    /// For heavy-ball SGD (`sgd` with momentum β, no Nesterov, dampening or weight decay) on a
    /// quadratic surface, a run converges exactly when lr < 2(1 + β)/λmax, λmax the largest
    /// eigenvalue of the (constant) Hessian. nil when that theory does not apply.
    public var momentumStabilityLimit: ((Double) -> Double)? {
        guard spec.name == "sgd", Set([x.key, y.key]) == ["lr", "momentum"],
              !spec.arguments.contains(where: { ["nesterov", "dampening", "weight_decay"].contains($0.key) && $0.value != .number(0) && $0.value != .boolean(false) }),
              let lambda = surface.constantHessianLargestEigenvalue(around: start) else { return nil }
        return { beta in 2 * (1 + beta) / lambda }
    }
}

extension Surface {
    /// The largest eigenvalue of the Hessian if the surface is quadratic (its Hessian, by central
    /// differences of the exact gradient, the same at the start and at points around it), else nil.
    func constantHessianLargestEigenvalue(around p: Surfaces.Point) -> Double? {
        func hessian(_ x: Double, _ y: Double) -> (Double, Double, Double) {
            let h = 1e-4
            let gx1 = gradient(x + h, y), gx0 = gradient(x - h, y), gy1 = gradient(x, y + h), gy0 = gradient(x, y - h)
            return ((gx1.x - gx0.x) / (2 * h), (gy1.y - gy0.y) / (2 * h), (gx1.y - gx0.y + gy1.x - gy0.x) / (4 * h))
        }
        let (a, d, b) = hessian(p.x, p.y)
        let scale = max(abs(a), abs(d), abs(b), 1e-12)
        for (dx, dy) in [(0.7, 0.3), (-0.4, 0.9), (1.3, -1.1)] {
            let (a2, d2, b2) = hessian(p.x + dx, p.y + dy)
            guard max(abs(a2 - a), abs(d2 - d), abs(b2 - b)) < 1e-6 * scale else { return nil }
        }
        return (a + d) / 2 + (((a - d) / 2) * ((a - d) / 2) + b * b).squareRoot()
    }
}
