import Foundation

/// torch's CyclicLR (Smith's cyclical learning rates), stepped after every optimizer step. With
/// S = step_size_up + step_size_down, r = step_size_up/S, cycle c = ⌊1 + t/S⌋, x = 1 + t/S − c:
///
///     h = x/r if x ≤ r, else (x − 1)/(r − 1)          (0 → 1 → 0 over a cycle)
///     γ = base_lr + (max_lr − base_lr)·h·scale         μ = max_momentum − (max_momentum − base_momentum)·h·scale
///
/// scale = 1 (triangular), 1/2^(c−1) (triangular2), gammaᵗ (exp_range). It overwrites the
/// optimizer's lr with base_lr and, with cycle_momentum, its momentum (SGD, RMSprop) or β₁
/// (Adam family), inversely to the rate.
struct CyclicLR: RestartableSchedule {
    static let name = "cyclic"
    static let usage = "cyclic(base_lr, max_lr, step_size_up=2000, step_size_down, mode=triangular|triangular2|exp_range, gamma=1, cycle_momentum=true, base_momentum=0.8, max_momentum=0.9)"
    static let example = "cyclic(base_lr=0.001,max_lr=0.1,step_size_up=20,cycle_momentum=false)"
    enum Mode: String, CaseIterable { case triangular, triangular2, expRange = "exp_range" }
    let baseLR, maxLR: Double
    let totalSize, stepRatio: Double
    let mode: Mode
    let gamma: Double
    let cycleMomentum: Bool
    let baseMomentum, maxMomentum: Double
    private var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        baseLR = try r.number("base_lr", default: nil)
        maxLR = try r.number("max_lr", default: nil)
        // torch divides by step_size_up (x/r at the cycle's first step); a down phase may be empty.
        let up = try r.integer("step_size_up", default: 2000, minimum: 1)
        let down = try r.optionalInteger("step_size_down", minimum: 0) ?? up
        totalSize = Double(up) + Double(down)
        stepRatio = Double(up) / totalSize
        mode = Mode(rawValue: try r.choice("mode", Mode.allCases.map(\.rawValue), default: "triangular"))!
        gamma = try r.number("gamma", default: 1)
        cycleMomentum = try r.flag("cycle_momentum", default: true)
        baseMomentum = try r.number("base_momentum", default: 0.8)
        maxMomentum = try r.number("max_momentum", default: 0.9)
    }

    var stepsPerBatch: Bool { true }
    var ratesSetFrom: String? { "base_lr and max_lr" }
    var cycledMomentum: (base: Double, max: Double)? { cycleMomentum ? (baseMomentum, maxMomentum) : nil }

    /// torch's constructor: the rates become base_lr, `initial_lr` is set to them unless a
    /// schedule constructed before set it, and the initial step, taken before the constructor
    /// puts its own base_lr in base_lrs, sets the rates to `initial_lr` (so base_lr, unless a
    /// composite constructed another schedule first).
    mutating func start(_ values: inout ScheduledValues) {
        lastEpoch = 0
        for i in values.learningRates.indices { values.learningRates[i] = baseLR }
        values.initialLRs = values.initialLRs ?? values.learningRates
        setValues(&values)
        values.learningRates = values.initialLRs!
        if cycleMomentum { values.momentumRange = (baseMomentum, maxMomentum) }
    }

    /// Inside a composite, its initial step comes after its constructor: from base_lr.
    mutating func initialStep(_ values: inout ScheduledValues) { restart(&values) }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) {
        lastEpoch += 1
        setValues(&values)
    }

    /// torch's `_update_lr(0)` (no closed form): get_lr at last_epoch 0.
    mutating func restart(_ values: inout ScheduledValues) {
        lastEpoch = 0
        setValues(&values)
    }

    private func setValues(_ values: inout ScheduledValues) {
        let t = Double(lastEpoch)
        let cycle = (1 + t / totalSize).rounded(.down)
        let x = 1.0 + t / totalSize - cycle
        let height = x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1)
        let scale: Double
        switch mode {
        case .triangular: scale = 1.0
        case .triangular2: scale = 1 / pow(2.0, cycle - 1)
        case .expRange: scale = pow(gamma, t)
        }
        for i in values.learningRates.indices {
            values.learningRates[i] = baseLR + (maxLR - baseLR) * height * scale
        }
        if cycleMomentum { values.momentum = maxMomentum - (maxMomentum - baseMomentum) * height * scale }
    }
}
