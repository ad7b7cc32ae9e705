import Foundation
import Optim
import Support
import Surfaces

/// A learning-rate sweep: every optimizer run from one start at every learning rate, keeping
/// the final loss. It answers "which optimizer forgives a badly chosen learning rate".
public struct LRSweep: Sendable {
    /// One optimizer at one learning rate.
    public struct Run: Sendable {
        public let lr: Double
        /// nil when the run diverged.
        public let final: (point: Surfaces.Point, loss: Double)?
        public var diverged: Bool { final == nil }
    }

    public let surface: Surface
    public let start: Surfaces.Point
    public let steps: Int
    public let learningRates: [Double]
    public let specs: [OptimizerSpec]
    /// runs[i][j]: specs[i] at learningRates[j].
    public let runs: [[Run]]
    public let startLoss: Double
    /// A run is tolerated when its final loss is below this.
    public let tolerance: Double

    /// The optimizers with a meaningful learning rate (Adadelta's is a mere scale factor).
    public static let defaultOptimizers = ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"]

    /// `count` learning rates from `range`'s ends, evenly or (with `logarithmic`) geometrically spaced.
    public static func learningRates(_ range: ClosedRange<Double>, count: Int, logarithmic: Bool) throws -> [Double] {
        guard count >= 2 else { throw SettingError("points", "must be ≥ 2, got \(count)") }
        guard range.upperBound > range.lowerBound else { throw SettingError("range", "\(range.lowerBound)...\(range.upperBound) is empty") }
        guard range.lowerBound >= 0 else { throw SettingError("range", "must start at a learning rate ≥ 0, got \(range.lowerBound)") }
        if logarithmic {
            guard range.lowerBound > 0 else { throw SettingError("log", "needs a range starting above 0, got \(range.lowerBound)") }
            let ratio = range.upperBound / range.lowerBound
            return (0..<count).map { $0 == count - 1 ? range.upperBound : range.lowerBound * pow(ratio, Double($0) / Double(count - 1)) }
        }
        let span = range.upperBound - range.lowerBound
        return (0..<count).map { $0 == count - 1 ? range.upperBound : range.lowerBound + span * Double($0) / Double(count - 1) }
    }

    /// Parses "A...B" (also "A..B").
    public static func parseRange(_ text: String) throws -> ClosedRange<Double> {
        let parts = text.components(separatedBy: "...").count == 2 ? text.components(separatedBy: "...") : text.components(separatedBy: "..")
        guard parts.count == 2, let a = Double(parts[0].trimmingCharacters(in: .whitespaces)),
              let b = Double(parts[1].trimmingCharacters(in: .whitespaces)), a.isFinite, b.isFinite else {
            throw SettingError("range", "must be A...B such as 0...5, got '\(text)'")
        }
        guard b > a else { throw SettingError("range", "\(text) is empty or reversed (need A < B)") }
        return a...b
    }

    /// A tolerance must be a positive loss (nil: the default).
    public static func checkTolerance(_ tolerance: Double?) throws {
        if let tolerance, !(tolerance > 0 && tolerance.isFinite) { throw SettingError("tol", "must be a positive number, got \(tolerance)") }
    }

    /// Runs the sweep. A run diverges when it leaves the finite numbers or its loss exceeds
    /// 10⁶ × the start's. `tolerance` defaults to 10⁻³ × the start loss. Work is spread over
    /// the machine's cores; results do not depend on how.
    public static func run(_ specs: [OptimizerSpec], on surface: Surface, from start: Surfaces.Point? = nil, steps: Int,
                           learningRates: [Double], tolerance: Double? = nil, progress: (any ProgressObserver)? = nil) throws -> LRSweep {
        try checkBudget(points: learningRates.count, optimizers: specs.count, steps: steps)
        let start = start ?? surface.start
        let startLoss = surface.value(start.x, start.y)
        guard startLoss.isFinite else { throw SurfaceLabError("the start \(start) is outside the surface's domain") }
        guard steps >= 1 else { throw SettingError("steps", "must be ≥ 1, got \(steps)") }
        try checkTolerance(tolerance)
        let divergence = startLoss == 0 ? 1e6 : abs(startLoss) * 1e6
        let jobs = specs.count * learningRates.count
        let results = UnsafeMutableBufferPointer<Run>.allocate(capacity: jobs)
        defer { results.deallocate() }
        // Each job initialises only its own slot.
        nonisolated(unsafe) let slots = results.baseAddress!
        let failure = FirstError()
        let chunk = max(1, jobs / (ProcessInfo.processInfo.activeProcessorCount * 8))
        // A work item is one spec at up to `chunk` neighbouring rates, stepped together.
        let chunksPerSpec = (learningRates.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: specs.count * chunksPerSpec) { c in
            let i = c / chunksPerSpec, first = (c % chunksPerSpec) * chunk
            let rates = first..<min(learningRates.count, first + chunk)
            do {
                let states = try Trajectories.finalStates(specs[i], learningRates: Array(learningRates[rates]), on: surface, from: start,
                                                          steps: steps, divergenceLoss: divergence)
                for (j, s) in zip(rates, states) {
                    (slots + i * learningRates.count + j).initialize(to: Run(lr: learningRates[j], final: s.divergedAt == nil ? (s.point, s.loss) : nil))
                }
            } catch {
                failure.record(error)
                for j in rates { (slots + i * learningRates.count + j).initialize(to: Run(lr: learningRates[j], final: nil)) }
            }
            progress?.advance(by: rates.count)
        }
        progress?.finish()
        if let error = failure.error { throw error }
        let runs = specs.indices.map { i in Array(results[(i * learningRates.count)..<((i + 1) * learningRates.count)]) }
        return LRSweep(surface: surface, start: start, steps: steps, learningRates: learningRates, specs: specs,
                       runs: runs, startLoss: startLoss, tolerance: tolerance ?? 1e-3 * startLoss)
    }

    /// Refuses a sweep too big to run (`Budget`): every run is `steps` optimizer steps, and its
    /// final state and CSV row (about 120 bytes) are kept.
    public static func checkBudget(points: Int, optimizers: Int, steps: Int) throws {
        let runs = Double(points) * Double(optimizers)
        try Budget.check("lr-sweep: \(points.grouped) learning rates × \(optimizers) optimizers × \(steps.grouped) steps",
                         bytes: runs * 120, steps: runs * Double(steps), advice: "use fewer points, steps or optimizers")
    }

    /// `optimizer,lr,final_loss,final_x,final_y,diverged`; a diverged run has nan for its final values.
    public var csv: String {
        var table = CSVTable(header: ["optimizer", "lr", "final_loss", "final_x", "final_y", "diverged"])
        for (spec, runs) in zip(specs, runs) {
            for r in runs {
                table.append([spec.label, r.lr, r.final?.loss ?? .nan, r.final?.point.x ?? .nan, r.final?.point.y ?? .nan, r.diverged])
            }
        }
        return table.text
    }

    /// The learning rates whose final loss is below the tolerance, as maximal runs of
    /// neighbouring sweep points.
    public func toleratedRanges(_ optimizer: Int) -> [ClosedRange<Double>] {
        var ranges: [ClosedRange<Double>] = [], first: Double?, last = 0.0
        for r in runs[optimizer] {
            if let loss = r.final?.loss, loss < tolerance {
                first = first ?? r.lr
                last = r.lr
            } else if let f = first {
                ranges.append(f...last); first = nil
            }
        }
        if let f = first { ranges.append(f...last) }
        return ranges
    }
}

/// Keeps the first error thrown by concurrent work.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
}
