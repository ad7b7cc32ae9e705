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
    /// runs[i][j]: specs[i] at learningRates[j]; under noise, the median run over the seeds (by
    /// final loss, a diverged run counting as infinite; the lower of the two middle ones).
    public let runs: [[Run]]
    /// The gradient noise, nil for exact gradients.
    public let noise: GradientNoise?
    /// Under noise, seedRuns[i][s][j]: specs[i] with seed s at learningRates[j]; else empty.
    public let seedRuns: [[[Run]]]
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

    /// Above this final loss a run counts as diverged: 10⁶ × the start's (10⁶ from a start at 0).
    public static func divergenceLoss(startLoss: Double) -> Double { startLoss == 0 ? 1e6 : abs(startLoss) * 1e6 }

    /// A tolerance must be a positive loss (nil: the default).
    public static func checkTolerance(_ tolerance: Double?) throws {
        if let tolerance, !(tolerance > 0 && tolerance.isFinite) { throw SettingError("tol", "must be a positive number, got \(tolerance)") }
    }

    /// Runs the sweep. A run diverges when it leaves the finite numbers or its loss exceeds
    /// 10⁶ × the start's. `tolerance` defaults to 10⁻³ × the start loss. Work is spread over
    /// the machine's cores; results do not depend on how.
    /// With `noise`, every optimizer runs once per seed (each seed's stream as `Trajectories`
    /// uses it), and tolerance is decided on the median run.
    public static func run(_ specs: [OptimizerSpec], on surface: Surface, from start: Surfaces.Point? = nil, steps: Int,
                           learningRates: [Double], tolerance: Double? = nil, noise: GradientNoise? = nil,
                           progress: (any ProgressObserver)? = nil) throws -> LRSweep {
        try checkBudget(points: learningRates.count, optimizers: specs.count * (noise?.seeds ?? 1), steps: steps)
        let start = start ?? surface.start
        let startLoss = surface.value(start.x, start.y)
        guard startLoss.isFinite else { throw SurfaceLabError("the start \(start) is outside the surface's domain") }
        guard steps >= 1 else { throw SettingError("steps", "must be ≥ 1, got \(steps)") }
        try checkTolerance(tolerance)
        let divergence = divergenceLoss(startLoss: startLoss)
        // A job list of (spec, seed) pairs: one per spec without noise.
        let seeds = noise?.seeds ?? 1
        let jobs = specs.count * seeds * learningRates.count
        let results = UnsafeMutableBufferPointer<Run>.allocate(capacity: jobs)
        defer { results.deallocate() }
        // Each job initialises only its own slot.
        nonisolated(unsafe) let slots = results.baseAddress!
        let failure = FirstError()
        let chunk = max(1, jobs / (ProcessInfo.processInfo.activeProcessorCount * 8))
        // A work item is one spec at up to `chunk` neighbouring rates, stepped together.
        let chunksPerSpec = (learningRates.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: specs.count * seeds * chunksPerSpec) { c in
            // i: the (spec, seed) row; spec i / seeds with seed i % seeds.
            let i = c / chunksPerSpec, first = (c % chunksPerSpec) * chunk
            let rates = first..<min(learningRates.count, first + chunk)
            do {
                let states = try Trajectories.finalStates(specs[i / seeds], learningRates: Array(learningRates[rates]), on: surface,
                                                          from: start, steps: steps, divergenceLoss: divergence,
                                                          noise: noise.map { ($0.sigma, $0.stream(i % seeds)) })
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
        let rows = (0..<(specs.count * seeds)).map { i in Array(results[(i * learningRates.count)..<((i + 1) * learningRates.count)]) }
        let seedRuns = noise == nil ? [] : specs.indices.map { i in Array(rows[(i * seeds)..<((i + 1) * seeds)]) }
        let runs = noise == nil ? rows : seedRuns.map { bySeed in learningRates.indices.map { j in median(bySeed.map { $0[j] }) } }
        return LRSweep(surface: surface, start: start, steps: steps, learningRates: learningRates, specs: specs, runs: runs,
                       noise: noise, seedRuns: seedRuns, startLoss: startLoss, tolerance: tolerance ?? 1e-3 * startLoss)
    }

    /// The run of median final loss (diverged runs count as infinite; of two middle ones the lower).
    static func median(_ runs: [Run]) -> Run {
        runs.sorted { ($0.final?.loss ?? .infinity) < ($1.final?.loss ?? .infinity) }[(runs.count - 1) / 2]
    }

    /// Under noise, the first and third quartiles of the final loss over the seeds at each learning
    /// rate (nearest rank; infinite where diverged runs reach them); nil without noise.
    public func interquartileRange(_ optimizer: Int) -> [(lower: Double, upper: Double)]? {
        guard noise != nil else { return nil }
        return learningRates.indices.map { j in
            let losses = seedRuns[optimizer].map { $0[j].final?.loss ?? .infinity }.sorted(), n = losses.count
            return (losses[(n - 1) / 4], losses[(3 * (n - 1) + 3) / 4])
        }
    }

    /// Refuses a sweep too big to run (`Budget`): every run is `steps` optimizer steps, and its
    /// final state and CSV row (about 120 bytes) are kept.
    public static func checkBudget(points: Int, optimizers: Int, steps: Int) throws {
        let runs = Double(points) * Double(optimizers)
        try Budget.check("lr-sweep: \(points.grouped) learning rates × \(optimizers) optimizers × \(steps.grouped) steps",
                         bytes: runs * 120, steps: runs * Double(steps), advice: "use fewer points, steps or optimizers")
    }

    /// `optimizer,lr,final_loss,final_x,final_y,diverged`; a diverged run has nan for its final
    /// values. Under noise every seed's run, with a `seed` column after the optimizer.
    public var csv: String {
        let values = { (r: Run) -> [CustomStringConvertible] in
            [r.lr, r.final?.loss ?? .nan, r.final?.point.x ?? .nan, r.final?.point.y ?? .nan, r.diverged]
        }
        guard noise != nil else {
            var table = CSVTable(header: ["optimizer", "lr", "final_loss", "final_x", "final_y", "diverged"])
            for (spec, runs) in zip(specs, runs) { for r in runs { table.append([spec.label] + values(r)) } }
            return table.text
        }
        var table = CSVTable(header: ["optimizer", "seed", "lr", "final_loss", "final_x", "final_y", "diverged"])
        for (spec, bySeed) in zip(specs, seedRuns) {
            for (seed, runs) in bySeed.enumerated() { for r in runs { table.append([spec.label, seed] + values(r)) } }
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
