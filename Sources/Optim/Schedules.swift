import Foundation

/// A learning-rate schedule as typed inside an optimizer spec: `schedule=step(step_size=10,gamma=0.5)`.
/// Names and keys follow torch.optim.lr_scheduler: step = StepLR, exponential = ExponentialLR,
/// cosine = CosineAnnealingLR, multistep = MultiStepLR, onecycle = OneCycleLR.
public struct ScheduleSpec: Equatable, Sendable, CustomStringConvertible {
    public static let names = ["step", "exponential", "cosine", "multistep", "onecycle"]

    private(set) var call: SpecCall
    private(set) var options: ScheduleOptions
    public var name: String { call.name }
    public var description: String { SpecValue.format(call) }

    init(_ call: SpecCall) throws {
        self.call = call
        options = try Self.readOptions(call)
    }

    private static func readOptions(_ call: SpecCall) throws -> ScheduleOptions {
        var r = ArgumentReader("schedule \(call.name)", call.arguments)
        let options: ScheduleOptions
        switch call.name {
        case "step":
            options = .step(stepSize: try r.integer("step_size", default: nil, minimum: 1),
                            gamma: try r.number("gamma", default: 0.1))
        case "exponential":
            options = .exponential(gamma: try r.number("gamma", default: nil))
        case "cosine":
            options = .cosine(tMax: try r.integer("T_max", default: nil, minimum: 1),
                              etaMin: try r.number("eta_min", default: 0))
        case "multistep":
            options = .multistep(milestones: try r.integers("milestones", minimum: 1),
                                 gamma: try r.number("gamma", default: 0.1))
        case "onecycle":
            options = .onecycle(try OneCycleOptions(&r))
        default:
            throw OptimError("unknown schedule '\(call.name)'; valid: \(names.joined(separator: ", "))")
        }
        try r.finish()
        return options
    }

    /// onecycle is a curve over optimizer steps, so it advances after every optimizer step, on the
    /// CNN too (where torch users call `scheduler.step()` in the batch loop); the other schedules
    /// advance once per epoch there.
    public var advancesEveryStep: Bool {
        if case .onecycle = options { true } else { false }
    }

    /// onecycle's total_steps, if given or filled in; nil for other schedules.
    public var totalSteps: Int? {
        if case .onecycle(let o) = options { o.totalSteps } else { nil }
    }

    /// The schedule with onecycle's `total_steps=` filled in when the spec left it (and `epochs`,
    /// `steps_per_epoch`) out: the run knows how many steps it takes. Other schedules are unchanged.
    func filling(totalSteps: Int) throws -> ScheduleSpec {
        guard case .onecycle(var o) = options, o.totalSteps == nil else { return self }
        guard totalSteps >= 1 else { throw OptimError("schedule onecycle: the run has \(totalSteps) steps; total_steps must be ≥ 1") }
        o.totalSteps = totalSteps
        try o.checkPhases()
        var copy = self
        copy.options = .onecycle(o)
        copy.call.arguments.insert(SpecArgument(key: "total_steps", value: .number(Double(totalSteps))),
                                   at: (call.arguments.firstIndex { $0.key == "max_lr" } ?? -1) + 1)
        return copy
    }
}

enum ScheduleOptions: Equatable {
    case step(stepSize: Int, gamma: Double)
    case exponential(gamma: Double)
    case cosine(tMax: Int, etaMin: Double)
    case multistep(milestones: [Int], gamma: Double)
    case onecycle(OneCycleOptions)
}

/// The learning rates over scheduler steps, one per parameter group as torch keeps them, and
/// the momentum onecycle cycles. step, exponential, cosine and multistep compute each rate as
/// torch's `scheduler.step()` does, from the previous rate (the "chainable" form, which differs
/// from the closed form in the last bits); onecycle is a closed form of the step number, as in torch.
struct LRSchedule {
    let options: ScheduleOptions?
    /// torch's `base_lrs`.
    let baseLRs: [Double]
    private(set) var learningRates: [Double]
    /// What onecycle with cycle_momentum sets for the next step: SGD's and RMSprop's momentum, the
    /// Adam family's β₁. nil when nothing cycles it.
    private(set) var momentum: Double?
    /// torch's `last_epoch`: how many times the schedule has advanced.
    private(set) var lastEpoch = 0
    private let cycle: OneCycleCurve?

    init(_ options: ScheduleOptions?, baseLRs: [Double]) throws {
        self.options = options
        self.baseLRs = baseLRs
        learningRates = baseLRs
        if case .onecycle(let o)? = options {
            guard let total = o.totalSteps else {
                throw OptimError("schedule onecycle: missing total_steps=... (or epochs=... and steps_per_epoch=...); it is filled in only where the run's length is known")
            }
            // Validated by OneCycleOptions.checkPhases when total_steps was set.
            cycle = OneCycleCurve(o, totalSteps: total)
            setCycle(at: 0)
        } else {
            cycle = nil
        }
    }

    /// torch's `scheduler.step()`; onecycle fails beyond its total_steps, as torch does.
    @inline(__always)
    mutating func advance() throws {
        lastEpoch += 1
        if let cycle {
            guard lastEpoch <= cycle.totalSteps else {
                throw OptimError("schedule onecycle: tried to step \(lastEpoch) times; total_steps is \(cycle.totalSteps)")
            }
            setCycle(at: lastEpoch)
        } else if let options {
            for i in learningRates.indices {
                learningRates[i] = options.next(learningRates[i], base: baseLRs[i], epoch: lastEpoch)
            }
        }
    }

    /// onecycle's rate (the same for every group: one max_lr) and momentum at `step`.
    private mutating func setCycle(at step: Int) {
        let (lr, momentum) = cycle!.values(at: step)
        for i in learningRates.indices { learningRates[i] = lr }
        if cycle!.cyclesMomentum { self.momentum = momentum }
    }

    /// The schedule after `epochs` advances, recomputed step by step so it is bit-identical.
    func replayed(to epochs: Int) throws -> LRSchedule {
        var s = try LRSchedule(options, baseLRs: baseLRs)
        for _ in 0..<epochs { try s.advance() }
        return s
    }
}

extension ScheduleOptions {
    /// A group's rate after the scheduler's step to `epoch`, from its rate `lr` before it
    /// (the chainable schedules; onecycle is computed by `OneCycleCurve`).
    func next(_ lr: Double, base: Double, epoch: Int) -> Double {
        let e = Double(epoch)
        switch self {
        case .step(let stepSize, let gamma):
            return epoch % stepSize == 0 ? lr * gamma : lr
        case .exponential(let gamma):
            return lr * gamma
        case .cosine(let tMax, let etaMin):
            let t = Double(tMax)
            if (epoch - 1 - tMax) % (2 * tMax) == 0 {
                return lr + (base - etaMin) * (1 - cos(Double.pi / t)) / 2
            }
            return (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (lr - etaMin) + etaMin
        case .multistep(let milestones, let gamma):
            let hits = milestones.filter { $0 == epoch }.count
            return hits > 0 ? lr * pow(gamma, Double(hits)) : lr
        case .onecycle:
            preconditionFailure("onecycle is not chainable; LRSchedule computes it with OneCycleCurve")
        }
    }
}
