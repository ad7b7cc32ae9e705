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

/// The learning rate over scheduler steps, computed as torch's `scheduler.step()` does: each step
/// updates the previous rate (the "chainable" form), which differs from the closed form in the
/// last bits. On a surface it advances after every optimizer step, on the CNN once per epoch.
struct LRSchedule {
    let options: ScheduleOptions?
    let baseLR: Double
    private(set) var learningRate: Double
    /// torch's `last_epoch`: how many times the schedule has advanced.
    private(set) var lastEpoch = 0

    init(_ options: ScheduleOptions?, baseLR: Double) {
        self.options = options
        self.baseLR = baseLR
        learningRate = baseLR
    }

    @inline(__always)
    mutating func advance() {
        lastEpoch += 1
        if options != nil { updateLearningRate() }
    }

    private mutating func updateLearningRate() {
        let e = Double(lastEpoch)
        switch options {
        case nil:
            break
        case .step(let stepSize, let gamma):
            if lastEpoch % stepSize == 0 { learningRate *= gamma }
        case .exponential(let gamma):
            learningRate *= gamma
        case .cosine(let tMax, let etaMin):
            let t = Double(tMax)
            if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
                learningRate += (baseLR - etaMin) * (1 - cos(Double.pi / t)) / 2
            } else {
                learningRate = (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t))
                    * (learningRate - etaMin) + etaMin
            }
        case .multistep(let milestones, let gamma):
            let hits = milestones.filter { $0 == lastEpoch }.count
            if hits > 0 { learningRate *= pow(gamma, Double(hits)) }
        }
    }

    /// The schedule after `epochs` advances, recomputed step by step so it is bit-identical.
    func replayed(to epochs: Int) -> LRSchedule {
        var s = LRSchedule(options, baseLR: baseLR)
        for _ in 0..<epochs { s.advance() }
        return s
    }
}
