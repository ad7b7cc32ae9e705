import Data
import Foundation
import Optim
import Support

/// Smith's learning-rate range test, as fastai's `lr_find` and pytorch-lr-finder run it: from the
/// model's initial weights, one mini-batch per step at a rate growing exponentially from `start`
/// to `end` over `iterations` steps,
///
///     lrₜ = start · (end / start)^(t / (iterations − 1)),   t = 0 … iterations − 1
///
/// the loss smoothed as pytorch-lr-finder does (s₀ = ℓ₀, sₜ = β ℓₜ + (1 − β) sₜ₋₁ with
/// β = `smoothing`), stopping once sₜ > `divergence` × minₜ' sₜ' (fastai's stop_div) or the loss
/// is not finite. The step that crossed is recorded, as both libraries record it.
public struct LRFinder {
    public struct Settings: Equatable, Sendable {
        public var start: Double
        public var end: Double
        public var iterations: Int
        public var smoothing: Double
        public var divergence: Double

        public init(start: Double = 1e-7, end: Double = 10, iterations: Int = 100, smoothing: Double = 0.05, divergence: Double = 4) {
            self.start = start
            self.end = end
            self.iterations = iterations
            self.smoothing = smoothing
            self.divergence = divergence
        }

        /// Throws a `SettingError` for a range no test can run.
        public func check() throws {
            guard start > 0, start.isFinite else { throw SettingError("start", "must be a positive rate, got \(start)") }
            guard end > start, end.isFinite else { throw SettingError("end", "must be above start (\(start)), got \(end)") }
            guard iterations >= 2 else { throw SettingError("iters", "must be at least 2, got \(iterations)") }
            guard smoothing > 0, smoothing <= 1 else { throw SettingError("smooth", "must be in (0, 1], got \(smoothing)") }
            guard divergence > 1 else { throw SettingError("diverge", "must be above 1, got \(divergence)") }
        }

        /// The factor between two steps' rates: torch's ExponentialLR gamma.
        var gamma: Double { pow(end / start, 1 / Double(iterations - 1)) }
    }

    /// One step of the test: the rate it trained at, its mini-batch loss and the smoothed loss.
    public struct Point: Equatable, Sendable {
        public var lr: Double
        public var loss: Double
        public var smoothedLoss: Double
    }

    public let settings: Settings
    public private(set) var points: [Point] = []
    private var bestSmoothed = Double.infinity

    public init(_ settings: Settings) { self.settings = settings }

    /// Records one step's loss at `lr`; false once the test should stop (diverged or complete).
    public mutating func record(lr: Double, loss: Double) -> Bool {
        let smoothed = points.last.map { settings.smoothing * loss + (1 - settings.smoothing) * $0.smoothedLoss } ?? loss
        points.append(Point(lr: lr, loss: loss, smoothedLoss: smoothed))
        bestSmoothed = min(bestSmoothed, smoothed)
        return smoothed.isFinite && smoothed <= settings.divergence * bestSmoothed && points.count < settings.iterations
    }

    /// True when the test stopped before its last rate because the loss ran away.
    public var diverged: Bool {
        guard let last = points.last else { return false }
        return !last.smoothedLoss.isFinite || last.smoothedLoss > settings.divergence * bestSmoothed
    }

    /// The suggestions on the points fastai's `lr_find` hands its suggestion functions.
    public var suggestions: LRSuggestions {
        LRSuggestions(trimming: points.map(\.lr), points.map(\.smoothedLoss), requestedIterations: settings.iterations)
    }

    /// The plan's optimizer spec with `lr=start` and an exponential schedule to `end`. The test
    /// sets the rate itself, so a spec with its own schedule is refused, or with
    /// `droppingSchedule` (a model's recipe) tested without it.
    public static func spec(_ optimizer: String, _ settings: Settings, droppingSchedule: Bool = false) throws -> OptimizerSpec {
        let spec = try OptimizerSpec.parse(optimizer)
        if spec.schedule != nil && !droppingSchedule {
            throw TrainingError.plan("the range test sets the learning rate itself: remove the schedule from \(spec.label)")
        }
        let started = spec.with(learningRate: settings.start)
        let arguments = started.arguments.map { "\($0.key)=\($0.value)" } + ["schedule=exponential(gamma=\(SpecValue.number(settings.gamma)))"]
        return try OptimizerSpec.parse(started.name + "(" + arguments.joined(separator: ",") + ")")
    }

    /// What the test runs, for titles: the algorithm and its arguments but the rate and schedule
    /// the test sets, e.g. `sgd(momentum=0.9,nesterov=true)`.
    public static func label(_ spec: OptimizerSpec) -> String {
        let fixed = spec.arguments.filter { $0.key != "lr" }.map { "\($0.key)=\($0.value)" }
        return fixed.isEmpty ? spec.name : spec.name + "(" + fixed.joined(separator: ",") + ")"
    }

    /// Runs the test on `plan` (its model, optimizer as `spec` makes it, batch size, seed, subset,
    /// validation split, augmentation): the data order of a training run with that plan, epoch after epoch until
    /// the test ends. Never reads a test set. `progress` hears of every step; `cancellation`
    /// stops it between two steps, with the points so far.
    public static func run(_ plan: TrainingPlan, _ settings: Settings, droppingSchedule: Bool = false, train: Dataset,
                           progress: (any ProgressObserver)? = nil, cancellation: Cancellation? = nil) throws -> LRFinder {
        try settings.check()
        var plan = plan
        plan.optimizer = try spec(plan.optimizer, settings, droppingSchedule: droppingSchedule).description
        let trainer = try Trainer(plan, train: train, test: train.prefix(0))
        guard trainer.trainLoader.batchCount > 0 else { throw TrainingError.plan("no training images left to run the range test on") }
        defer { progress?.finish() }
        var finder = LRFinder(settings)
        var epoch = 0
        while true {
            for batch in trainer.trainLoader.batches(epoch: epoch) {
                if cancellation?.isRequested == true { return finder }
                let lr = trainer.optimizer.learningRates[0]
                let logits = try trainer.network.forward(trainer.inputs.tensor(batch.images), training: true)
                let loss = try trainer.criterion(logits, batch.labels)
                progress?.advance(by: 1)
                guard finder.record(lr: lr, loss: Double(loss)) else { return finder }
                trainer.network.backward(trainer.criterion.gradient)
                trainer.optimizer.step()
                try trainer.optimizer.scheduleStep()
            }
            epoch += 1
        }
    }

    /// `lr,loss,smoothed_loss`, one row per step.
    public var csv: CSVTable {
        var table = CSVTable(header: ["lr", "loss", "smoothed_loss"])
        for point in points { table.append([point.lr, point.loss, point.smoothedLoss]) }
        return table
    }
}

/// fastai's four learning-rate suggestions (`fastai.callback.schedule`: valley, steep, minimum,
/// slide), computed as fastai computes them, on the series fastai's `lr_find` passes them: the
/// recorded rates and smoothed losses without the first `iterations / 10` and the last 5 points,
/// cut at the first NaN. A suggestion is nil when that series is too short for its rule.
public struct LRSuggestions: Equatable, Sendable {
    /// The middle of the longest stretch of falling loss (fastai's default).
    public var valley: Double?
    /// Where the loss falls fastest against log(lr).
    public var steep: Double?
    /// A tenth of the rate at the lowest loss.
    public var minimum: Double?
    /// The interval-slide rule: the rate below which the loss gradient stops changing.
    public var slide: Double?

    public init(valley: Double?, steep: Double?, minimum: Double?, slide: Double?) {
        self.valley = valley
        self.steep = steep
        self.minimum = minimum
        self.slide = slide
    }

    /// The suggestions on a whole recorded test, trimmed as fastai's `lr_find` trims it.
    public init(trimming lrs: [Double], _ losses: [Double], requestedIterations: Int) {
        let from = requestedIterations / 10, to = losses.count - 5
        var kept = from < to ? Array(from..<to) : []
        if let firstNaN = kept.firstIndex(where: { losses[$0].isNaN }) { kept = Array(kept[..<firstNaN]) }
        self.init(lrs: kept.map { lrs[$0] }, losses: kept.map { losses[$0] })
    }

    /// The suggestions on an already trimmed series.
    public init(lrs: [Double], losses: [Double]) {
        self.init(valley: Self.valley(lrs, losses), steep: Self.steep(lrs, losses),
                  minimum: Self.minimum(lrs, losses), slide: Self.slide(lrs, losses))
    }

    /// The suggestions with their names, in fastai's order (fastai's `minimum` is a tenth of the minimum's rate).
    public var named: [(name: String, lr: Double?)] {
        [("valley", valley), ("steep", steep), ("minimum/10", minimum), ("slide", slide)]
    }

    /// fastai's longest-valley rule, its loop kept as written (including Python's negative index
    /// when the valley starts at the first point).
    static func valley(_ lrs: [Double], _ losses: [Double]) -> Double? {
        let n = losses.count
        guard n >= 1 else { return nil }
        var maxStart = 0, maxEnd = 0
        var lengths = [Int](repeating: 1, count: n)
        for i in 1..<n {
            for j in 0..<i {
                if losses[i] < losses[j] && lengths[i] < lengths[j] + 1 { lengths[i] = lengths[j] + 1 }
                if lengths[maxEnd] < lengths[i] {
                    maxEnd = i
                    maxStart = maxEnd - lengths[maxEnd]
                }
            }
        }
        let sections = Double(maxEnd - maxStart) / 3
        let index = maxStart + Int(sections) + Int(sections / 2)
        return lrs[index < 0 ? index + n : index]
    }

    /// The left rate of the steepest descent of loss against log(lr).
    static func steep(_ lrs: [Double], _ losses: [Double]) -> Double? {
        guard lrs.count >= 2 else { return nil }
        let slopes = (1..<lrs.count).map { (losses[$0] - losses[$0 - 1]) / (log(lrs[$0]) - log(lrs[$0 - 1])) }
        return lrs[slopes.indices.min { slopes[$0] < slopes[$1] }!]
    }

    static func minimum(_ lrs: [Double], _ losses: [Double]) -> Double? {
        guard !losses.isEmpty else { return nil }
        return lrs[losses.indices.min { losses[$0] < losses[$1] }!] / 10
    }

    /// fastai's slide rule (lr_diff 15, thresh 0.005): walk a window of 15 points down from the
    /// end while the loss gradients (numpy's `gradient`) at its two ends differ by more than thresh.
    static func slide(_ lrs: [Double], _ losses: [Double], window: Int = 15, threshold: Double = 0.005) -> Double? {
        let n = losses.count
        guard n > window else { return nil }
        let gradient = (0..<n).map { i in
            i == 0 ? losses[1] - losses[0] : i == n - 1 ? losses[n - 1] - losses[n - 2] : (losses[i + 1] - losses[i - 1]) / 2
        }
        var right = n - 1, left = right - window
        var suggestion = lrs[left]
        while left >= 0 && abs(gradient[right] - gradient[left]) > threshold {
            suggestion = lrs[left]
            right -= 1
            left -= 1
        }
        return suggestion
    }
}
