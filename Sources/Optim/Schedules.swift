import Foundation

/// A learning-rate schedule as typed inside an optimizer spec: `schedule=step(step_size=10,gamma=0.5)`.
/// Names and keys follow torch.optim.lr_scheduler: step = StepLR, exponential = ExponentialLR,
/// cosine = CosineAnnealingLR, multistep = MultiStepLR.
public struct ScheduleSpec: Equatable, Sendable, CustomStringConvertible {
    public static let names = ["step", "exponential", "cosine", "multistep"]

    let call: SpecCall
    let options: ScheduleOptions
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
        default:
            throw OptimError("unknown schedule '\(call.name)'; valid: \(names.joined(separator: ", "))")
        }
        try r.finish()
        return options
    }
}

enum ScheduleOptions: Equatable {
    case step(stepSize: Int, gamma: Double)
    case exponential(gamma: Double)
    case cosine(tMax: Int, etaMin: Double)
    case multistep(milestones: [Int], gamma: Double)
}

/// The learning rates over scheduler steps, one per parameter group as torch keeps them, each
/// computed as torch's `scheduler.step()` does: each step updates the previous rate (the
/// "chainable" form), which differs from the closed form in the last bits. On a surface it
/// advances after every optimizer step, on the CNN once per epoch.
struct LRSchedule {
    let options: ScheduleOptions?
    /// torch's `base_lrs`.
    let baseLRs: [Double]
    private(set) var learningRates: [Double]
    /// torch's `last_epoch`: how many times the schedule has advanced.
    private(set) var lastEpoch = 0

    init(_ options: ScheduleOptions?, baseLRs: [Double]) {
        self.options = options
        self.baseLRs = baseLRs
        learningRates = baseLRs
    }

    @inline(__always)
    mutating func advance() {
        lastEpoch += 1
        if let options {
            for i in learningRates.indices {
                learningRates[i] = options.next(learningRates[i], base: baseLRs[i], epoch: lastEpoch)
            }
        }
    }

    /// The schedule after `epochs` advances, recomputed step by step so it is bit-identical.
    func replayed(to epochs: Int) -> LRSchedule {
        var s = LRSchedule(options, baseLRs: baseLRs)
        for _ in 0..<epochs { s.advance() }
        return s
    }
}

extension ScheduleOptions {
    /// A group's rate after the scheduler's step to `epoch`, from its rate `lr` before it.
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
        }
    }
}
