import Foundation

/// The 1cycle policy (Smith & Topin): torch.optim.lr_scheduler.OneCycleLR, stepped after every
/// optimizer step. With T = total_steps, γ₀ = max_lr/div_factor, γ_min = γ₀/final_div_factor:
///
///     two phases (default)     steps 0 … pct_start·T−1        γ: γ₀ → max_lr    μ: max_momentum → base_momentum
///                              … T−1                          γ: max_lr → γ_min μ: base_momentum → max_momentum
///     three_phase=true         steps 0 … pct_start·T−1        γ: γ₀ → max_lr    μ: max → base
///                              … 2·pct_start·T−2              γ: max_lr → γ₀    μ: base → max
///                              … T−1                          γ: γ₀ → γ_min     μ: max
///
/// Within a phase from step a to b the fraction p = (t−a)/(b−a) anneals start → end as
/// `end + (start−end)/2·(cos(πp)+1)` (anneal_strategy=cos) or `(end−start)·p + start` (linear).
/// It overwrites the optimizer's lr from step 0 on (so the spec's lr is ignored) and, with
/// cycle_momentum, its momentum (SGD, RMSprop) or β₁ (Adam family) every step, inversely to the lr.
struct OneCycleLR: RestartableSchedule {
    static let name = "onecycle"
    static let usage = "onecycle(max_lr, total_steps=the run's steps, pct_start=0.3, anneal_strategy=cos|linear, ...)"
    static let example = "onecycle(max_lr=0.1,cycle_momentum=false)"
    var maxLR: Double
    /// nil until the run fills it in (`ScheduleSpec.filling(totalSteps:)`).
    var totalSteps: Int?
    var pctStart: Double
    var linearAnneal: Bool
    var divFactor, finalDivFactor: Double
    var threePhase: Bool
    var cycleMomentum: Bool
    var baseMomentum, maxMomentum: Double

    init(_ r: inout ArgumentReader) throws {
        maxLR = try r.number("max_lr", default: nil)
        let total = try r.optionalInteger("total_steps", minimum: 1)
        let epochs = try r.optionalInteger("epochs", minimum: 1)
        let stepsPerEpoch = try r.optionalInteger("steps_per_epoch", minimum: 1)
        if let total {
            totalSteps = total
        } else if let epochs, let stepsPerEpoch {
            totalSteps = epochs * stepsPerEpoch
        } else if epochs != nil || stepsPerEpoch != nil {
            throw OptimError("\(r.owner): give total_steps, or both epochs and steps_per_epoch (or neither, to take the run's length)")
        }
        pctStart = try r.number("pct_start", default: 0.3, .unitClosed)
        linearAnneal = try r.choice("anneal_strategy", ["cos", "linear"], default: "cos") == "linear"
        divFactor = try r.number("div_factor", default: 25, .positive)
        finalDivFactor = try r.number("final_div_factor", default: 1e4, .positive)
        threePhase = try r.flag("three_phase", default: false)
        cycleMomentum = try r.flag("cycle_momentum", default: true)
        baseMomentum = try r.number("base_momentum", default: 0.85)
        maxMomentum = try r.number("max_momentum", default: 0.95)
        if totalSteps != nil { try checkPhases() }
    }

    private var curve: OneCycleCurve?
    private var lastEpoch = 0

    var stepsPerBatch: Bool { true }
    var ratesSetFrom: String? { "max_lr" }
    var cycledMomentum: (base: Double, max: Double)? { cycleMomentum ? (baseMomentum, maxMomentum) : nil }

    mutating func start(_ values: inout ScheduledValues) throws {
        guard let totalSteps else {
            throw OptimError("schedule onecycle: missing total_steps=... (or epochs=... and steps_per_epoch=...); it is filled in only where the run's length is known")
        }
        // Validated by checkPhases when total_steps was set.
        curve = OneCycleCurve(self, totalSteps: totalSteps)
        lastEpoch = 0
        // torch's constructor writes initial_lr, which a sequential restarts the rates from.
        values.initialLRs = Array(repeating: maxLR / divFactor, count: values.learningRates.count)
        if cycleMomentum { values.momentumRange = (baseMomentum, maxMomentum) }
        setValues(&values)
    }

    /// Inside a composite: get_lr at step 0 with what the parameter group holds by then.
    mutating func initialStep(_ values: inout ScheduledValues) { restart(&values) }

    /// torch's `_update_lr(0)` (no closed form): get_lr at last_epoch 0.
    mutating func restart(_ values: inout ScheduledValues) {
        lastEpoch = 0
        setValues(&values)
    }

    /// Fails beyond total_steps, as torch does.
    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        lastEpoch += 1
        guard lastEpoch <= curve!.totalSteps else {
            throw OptimError("schedule onecycle: tried to step \(lastEpoch) times; total_steps is \(curve!.totalSteps)")
        }
        setValues(&values)
    }

    /// The rate (the same for every group: one max_lr) and momentum at `lastEpoch`.
    private func setValues(_ values: inout ScheduledValues) {
        var (lr, momentum) = curve!.values(at: lastEpoch)
        for i in values.learningRates.indices { values.learningRates[i] = lr }
        guard cycleMomentum else { return }
        // torch reads the momentum range from the parameter group, where a cyclic constructed
        // after this one (inside a composite) wrote its own.
        if let range = values.momentumRange, range != (baseMomentum, maxMomentum) {
            var group = self
            (group.baseMomentum, group.maxMomentum) = range
            momentum = OneCycleCurve(group, totalSteps: curve!.totalSteps).values(at: lastEpoch).momentum
        }
        values.momentum = momentum
    }

    /// torch divides by a phase's length and fails (ZeroDivisionError) at the first step that
    /// falls into a phase of length 0 (pct_start=1 makes the last one empty); say so up front.
    func checkPhases() throws {
        let curve = OneCycleCurve(self, totalSteps: totalSteps!)
        // Every phase's steps form one run of whole numbers that starts at 0 or just after
        // another phase's end, so these steps reach every phase that is ever used.
        let firsts = [0] + curve.phases.map { Int(min(Double(curve.totalSteps), ($0.end + 1).rounded(.down))) }
        for step in firsts where step >= 0 {
            let (phase, start) = curve.phase(at: step)
            if curve.phases[phase].end - start == 0 {
                throw OptimError("schedule onecycle: with pct_start=\(SpecValue.format(pctStart)), total_steps=\(curve.totalSteps)\(threePhase ? ", three_phase=true" : "") phase \(phase + 1) has length 0 (torch divides by zero at step \(step)); change pct_start or total_steps")
            }
        }
    }
}

/// OneCycleLR's phases for a known total_steps and the rate and momentum at each step, computed
/// with torch's formulas operation by operation (bit-identical to torch in float64).
struct OneCycleCurve {
    struct Phase {
        /// torch's `end_step`, a float.
        var end: Double
        var lr, momentum: (start: Double, end: Double)
    }

    let totalSteps: Int
    let phases: [Phase]
    let linearAnneal: Bool
    let cyclesMomentum: Bool

    init(_ o: OneCycleLR, totalSteps: Int) {
        self.totalSteps = totalSteps
        linearAnneal = o.linearAnneal
        cyclesMomentum = o.cycleMomentum
        let initial = o.maxLR / o.divFactor, minimum = initial / o.finalDivFactor
        let (base, max) = (o.baseMomentum, o.maxMomentum), t = Double(totalSteps)
        if o.threePhase {
            phases = [Phase(end: o.pctStart * t - 1, lr: (initial, o.maxLR), momentum: (max, base)),
                      Phase(end: 2 * o.pctStart * t - 2, lr: (o.maxLR, initial), momentum: (base, max)),
                      Phase(end: t - 1, lr: (initial, minimum), momentum: (max, max))]
        } else {
            phases = [Phase(end: o.pctStart * t - 1, lr: (initial, o.maxLR), momentum: (max, base)),
                      Phase(end: t - 1, lr: (o.maxLR, minimum), momentum: (base, max))]
        }
    }

    /// The phase torch picks for `step` (the first whose end is not before it, else the last) and
    /// where it starts (the previous phase's end, 0 for the first).
    func phase(at step: Int) -> (index: Int, start: Double) {
        var start = 0.0
        for (i, p) in phases.enumerated() {
            if Double(step) <= p.end || i == phases.count - 1 { return (i, start) }
            start = p.end
        }
        preconditionFailure("unreachable: the last phase takes every later step")
    }

    /// The learning rate and momentum for the optimizer step after `step` scheduler steps.
    func values(at step: Int) -> (lr: Double, momentum: Double) {
        let (i, start) = phase(at: step)
        let p = phases[i]
        let pct = (Double(step) - start) / (p.end - start)
        return (anneal(p.lr.start, p.lr.end, pct), anneal(p.momentum.start, p.momentum.end, pct))
    }

    private func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        if linearAnneal { return (end - start) * pct + start }
        let cosOut = cos(Double.pi * pct) + 1
        return end + (start - end) / 2.0 * cosOut
    }
}

extension ScheduleSpec {
    /// onecycle's total_steps, if given or filled in; nil for other schedules.
    public var totalSteps: Int? { (schedule as? OneCycleLR)?.totalSteps }

    /// The schedule with onecycle's `total_steps=` filled in when the spec left it (and `epochs`,
    /// `steps_per_epoch`) out: the run knows how many steps it takes. Other schedules are unchanged.
    func filling(totalSteps: Int) throws -> ScheduleSpec {
        guard var cycle = schedule as? OneCycleLR, cycle.totalSteps == nil else { return self }
        guard totalSteps >= 1 else { throw OptimError("schedule onecycle: the run has \(totalSteps) steps; total_steps must be ≥ 1") }
        cycle.totalSteps = totalSteps
        try cycle.checkPhases()
        var copy = self
        copy.schedule = cycle
        copy.call.arguments.insert(SpecArgument(key: "total_steps", value: .number(Double(totalSteps))),
                                   at: (call.arguments.firstIndex { $0.key == "max_lr" } ?? -1) + 1)
        return copy
    }
}
