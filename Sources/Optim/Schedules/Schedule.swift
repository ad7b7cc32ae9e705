/// What a schedule sets in the optimizer, as torch's schedulers write it into the parameter
/// groups: every group's `lr` and, for onecycle and cyclic, the momentum (SGD, RMSprop) or β₁
/// (Adam family).
struct ScheduledValues {
    /// torch's `group["lr"]`, one per group (one per parameter in a learning-rate sweep).
    var learningRates: [Double]
    /// torch's `base_lrs` of the schedule stepping: the groups' `initial_lr` when it was
    /// constructed (the optimizer's rates, unless a onecycle or cyclic inside a composite was
    /// constructed before it). Composites set each child's before stepping it.
    var baseLRs: [Double]
    /// torch's `group["initial_lr"]`: nil until a schedule's constructor sets it (most with the
    /// rate they find, onecycle with max_lr/div_factor, cyclic with base_lr).
    var initialLRs: [Double]?
    /// What the next optimizer step uses as momentum or β₁; nil while no schedule sets it.
    var momentum: Double?
    /// torch's `group["base_momentum"]` and `group["max_momentum"]`, written by the constructors
    /// of onecycle and cyclic; onecycle reads its momentum range from here, as torch does.
    var momentumRange: (base: Double, max: Double)?
}

/// One torch.optim.lr_scheduler class as a value: its options, read from a spec with torch's
/// keywords, defaults and checks, and its state. Each file in this folder holds one, computing
/// in torch's operation order: most step "chainably" from the previous rate, which differs from
/// torch's closed forms in the last bits, so parity needs the same form torch's `step()` takes.
protocol Schedule: Sendable {
    /// The spec name: torch's class name minus "LR", in snake_case.
    static var name: String { get }
    /// Its keywords and defaults, for `--help`.
    static var usage: String { get }
    /// A spec of it that parses, its required keys filled in for a run of about 100 steps: what
    /// a form adds when the schedule is chosen.
    static var example: String { get }
    init(_ r: inout ArgumentReader) throws
    /// torch's constructor: what it (and its initial step, to last_epoch 0) sets.
    mutating func start(_ values: inout ScheduledValues) throws
    /// torch's `scheduler.step()`; plateau's `step(metrics)` takes the loss.
    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws
    /// Advances after every optimizer step on a network too (onecycle, cyclic: curves over
    /// batches); others advance once per epoch there.
    var stepsPerBatch: Bool { get }
    /// The options it sets every rate from (onecycle's max_lr, cyclic's base_lr and max_lr),
    /// overwriting the optimizer's lr and rates per parameter; nil if it scales the optimizer's rates.
    var ratesSetFrom: String? { get }
    /// The momentum range it cycles (onecycle's and cyclic's cycle_momentum), else nil.
    var cycledMomentum: (base: Double, max: Double)? { get }
}

extension Schedule {
    var stepsPerBatch: Bool { false }
    var ratesSetFrom: String? { nil }
    var cycledMomentum: (base: Double, max: Double)? { nil }
}

/// A schedule whose `step` needs the loss (plateau). It is not a function of its step count, so a
/// checkpoint keeps its state; every other schedule is restored by replaying its steps.
protocol LossDrivenSchedule: Schedule {
    /// Its state under torch's state_dict names, given the values it set.
    func state(_ values: ScheduledValues) -> [(name: String, values: [Double])]
    /// Restores `state` into a freshly started schedule and the values it sets.
    mutating func restore(_ state: [String: [Double]], _ values: inout ScheduledValues) throws
}

/// A schedule that sequential and chained can hold: every one but plateau (torch's SequentialLR
/// and ChainedScheduler refuse ReduceLROnPlateau, whose step needs the loss).
protocol ComposableSchedule: Schedule {
    /// What SequentialLR's constructor does to its first child, already constructed: torch undoes
    /// the child's initial step and takes it again (`_initial_step()`) on the rates as they are
    /// now. For most single schedules that is `start` again.
    mutating func initialStep(_ values: inout ScheduledValues) throws
    /// The same for the children of a composite that is itself a child: torch undoes their steps
    /// too, but steps them with a plain `step()` from last_epoch −1, outside `_initial_step`.
    mutating func undoneStep(_ values: inout ScheduledValues) throws
}

extension ComposableSchedule {
    mutating func initialStep(_ values: inout ScheduledValues) throws { try start(&values) }
    mutating func undoneStep(_ values: inout ScheduledValues) throws { try initialStep(&values) }
}

/// A schedule SequentialLR can switch to at a milestone: torch calls its `_update_lr(0)`, which
/// composites lack (torch raises NotImplementedError there), so they can only come first.
protocol RestartableSchedule: ComposableSchedule {
    /// torch's `_update_lr(0)`: the closed form at last_epoch 0 where torch has one, else get_lr
    /// at last_epoch 0.
    mutating func restart(_ values: inout ScheduledValues)
}

/// A child of a composite with the `base_lrs` it took when torch constructed it.
struct ScheduleChild {
    var schedule: any ComposableSchedule
    var baseLRs: [Double] = []

    /// Runs `body` on the schedule with its own base_lrs in `values`.
    mutating func with(_ values: inout ScheduledValues, _ body: (inout any ComposableSchedule, inout ScheduledValues) throws -> Void) rethrows {
        values.baseLRs = baseLRs
        try body(&schedule, &values)
    }

    /// torch's constructor of the child: a scheduler sets `initial_lr` to the rates it finds if
    /// nothing has (setdefault; cyclic first sets the rates to its base_lr, onecycle then sets
    /// `initial_lr` outright; a composite's children were constructed before it), takes
    /// `base_lrs` from it and steps to last_epoch 0.
    mutating func construct(_ values: inout ScheduledValues) throws {
        let composite = schedule is SequentialLR || schedule is ChainedScheduler
        if !composite && !(schedule is CyclicLR) { values.initialLRs = values.initialLRs ?? values.learningRates }
        baseLRs = values.initialLRs ?? values.learningRates
        values.baseLRs = baseLRs
        try schedule.start(&values)
    }
}

extension ArgumentReader {
    /// The schedules of sequential and chained, each read as a schedule spec of its own.
    mutating func composableSchedules() throws -> [ScheduleChild] {
        let calls = try calls("schedulers", example: "(linear(total_iters=5),cosine(T_max=95))")
        let valid = ScheduleSpec.kinds.filter { $0 is any ComposableSchedule.Type }.map { $0.name }
        return try calls.map { call in
            guard let schedule = try ScheduleSpec(call).schedule as? any ComposableSchedule else {
                throw OptimError("\(owner): \(call.name) cannot be one of its schedulers (torch refuses it: its step needs the loss); valid: \(valid.joined(separator: ", "))")
            }
            if let cycle = schedule as? OneCycleLR, cycle.totalSteps == nil {
                throw OptimError("\(owner): onecycle inside it needs total_steps=... (or epochs=... and steps_per_epoch=...), its length within the schedule")
            }
            return ScheduleChild(schedule: schedule)
        }
    }
}

extension [ScheduleChild] {
    /// A composite holds what its children set: the first rates-setting or momentum-cycling one.
    var stepsPerBatch: Bool { contains { $0.schedule.stepsPerBatch } }
    var ratesSetFrom: String? { lazy.compactMap { $0.schedule.ratesSetFrom }.first }
    var cycledMomentum: (base: Double, max: Double)? { lazy.compactMap { $0.schedule.cycledMomentum }.first }
}

/// The schedules whose rate follows from the previous one, group by group.
protocol ChainableSchedule: RestartableSchedule {
    /// torch's `last_epoch`.
    var lastEpoch: Int { get set }
    /// The rate the constructor's initial step sets (get_lr at last_epoch 0).
    func initial(_ lr: Double) -> Double
    /// torch's `get_lr()` for one group at `lastEpoch` ≥ 1, from the group's rate before.
    func next(_ lr: Double, base: Double) -> Double
    /// torch's `_get_closed_form_lr()` at last_epoch 0.
    func closedFormAtZero(base: Double) -> Double
    /// Whether torch's get_lr tells its initial step by `_is_initial` rather than by
    /// last_epoch 0 (exponential, polynomial, cosine), so that a plain step to last_epoch 0 takes
    /// the general formula.
    static var initialByFlag: Bool { get }
}

extension ChainableSchedule {
    func initial(_ lr: Double) -> Double { lr }
    static var initialByFlag: Bool { false }

    mutating func undoneStep(_ values: inout ScheduledValues) {
        lastEpoch = 0
        for i in values.learningRates.indices {
            let lr = values.learningRates[i]
            values.learningRates[i] = Self.initialByFlag ? next(lr, base: values.baseLRs[i]) : initial(lr)
        }
    }

    mutating func start(_ values: inout ScheduledValues) {
        lastEpoch = 0
        for i in values.learningRates.indices { values.learningRates[i] = initial(values.learningRates[i]) }
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) {
        lastEpoch += 1
        for i in values.learningRates.indices {
            values.learningRates[i] = next(values.learningRates[i], base: values.baseLRs[i])
        }
    }

    mutating func restart(_ values: inout ScheduledValues) {
        lastEpoch = 0
        for i in values.learningRates.indices { values.learningRates[i] = closedFormAtZero(base: values.baseLRs[i]) }
    }
}

/// A learning-rate schedule as typed inside an optimizer spec: `schedule=step(step_size=10,gamma=0.5)`.
/// Names and keys follow torch.optim.lr_scheduler, class names minus "LR" in snake_case.
public struct ScheduleSpec: Equatable, Sendable, CustomStringConvertible {
    /// Every schedule, one registration each.
    static let kinds: [any Schedule.Type] = [
        StepLR.self, ExponentialLR.self, CosineAnnealingLR.self, MultiStepLR.self, OneCycleLR.self,
        LinearLR.self, ConstantLR.self, PolynomialLR.self, CyclicLR.self, CosineAnnealingWarmRestarts.self,
        ReduceLROnPlateau.self, SequentialLR.self, ChainedScheduler.self,
    ]
    public static let names = kinds.map { $0.name }
    /// Every schedule with its keywords and defaults, one per line, for `--help`.
    public static let usage = kinds.map { "  " + $0.usage }.joined(separator: "\n")

    /// Every schedule's name, `--help` line and example spec, for forms that offer them.
    public static let catalog: [(name: String, usage: String, example: String)] = kinds.map { ($0.name, $0.usage, $0.example) }

    var call: SpecCall
    /// The schedule as torch constructs it, before its first step.
    var schedule: any Schedule
    public var name: String { call.name }
    public var description: String { SpecValue.format(call) }

    init(_ call: SpecCall) throws {
        guard let kind = Self.kinds.first(where: { $0.name == call.name }) else {
            throw OptimError("unknown schedule '\(call.name)'; valid: \(Self.names.joined(separator: ", "))")
        }
        var r = ArgumentReader("schedule \(call.name)", call.arguments)
        schedule = try kind.init(&r)
        try r.finish()
        self.call = call
    }

    public static func == (a: ScheduleSpec, b: ScheduleSpec) -> Bool { a.call == b.call }

    /// onecycle and cyclic are curves over optimizer steps, so they advance after every optimizer
    /// step, on the CNN too (where torch users call `scheduler.step()` in the batch loop); the other
    /// schedules advance once per epoch there.
    public var advancesEveryStep: Bool { schedule.stepsPerBatch }

    /// plateau: each step takes the loss (on a network the epoch's held-out loss).
    public var needsLoss: Bool { schedule is any LossDrivenSchedule }

    var ratesSetFrom: String? { schedule.ratesSetFrom }
    /// Whether it sets every learning rate from its own options (onecycle, cyclic), so rates per
    /// parameter cannot differ.
    public var setsEveryRate: Bool { ratesSetFrom != nil }
    var cycledMomentum: (base: Double, max: Double)? { schedule.cycledMomentum }
}

/// The rates (and cycled momentum) over scheduler steps: a schedule started on the optimizer's
/// rates, advanced by `advance`, restorable from its step count (and, for plateau, its state).
struct LRSchedule {
    private let initial: (any Schedule)?
    /// The optimizer's rates, which a restore starts from again.
    private let optimizerLRs: [Double]
    private var schedule: (any Schedule)?
    private(set) var values: ScheduledValues
    /// torch's `last_epoch`: how many times the schedule has advanced.
    private(set) var lastEpoch = 0

    init(_ schedule: (any Schedule)?, baseLRs: [Double]) throws {
        initial = schedule
        optimizerLRs = baseLRs
        self.schedule = schedule
        values = ScheduledValues(learningRates: baseLRs, baseLRs: baseLRs, initialLRs: nil, momentum: nil)
        try self.schedule?.start(&values)
    }

    var learningRates: [Double] { values.learningRates }
    var momentum: Double? { values.momentum }

    /// torch's `scheduler.step()` (`step(loss)` for plateau).
    @inline(__always)
    mutating func advance(loss: Double?) throws {
        lastEpoch += 1
        try schedule?.step(&values, loss: loss)
    }

    /// What a checkpoint must keep besides `lastEpoch`: a loss-driven schedule's state.
    var state: [(name: String, values: [Double])] { (schedule as? any LossDrivenSchedule)?.state(values) ?? [] }

    /// The schedule after `lastEpoch` advances: recomputed step by step, so bit-identical, or
    /// for a schedule that depends on the losses it saw (plateau), restored from `state`.
    func restored(lastEpoch: Int, state: [String: [Double]]) throws -> LRSchedule {
        var s = try LRSchedule(initial, baseLRs: optimizerLRs)
        if var driven = s.schedule as? any LossDrivenSchedule {
            try driven.restore(state, &s.values)
            s.schedule = driven
            s.lastEpoch = lastEpoch
        } else {
            if let stray = state.keys.sorted().first {
                throw OptimError("optimizer state: unexpected schedule state '\(stray)'; only plateau keeps any")
            }
            for _ in 0..<lastEpoch { try s.advance(loss: nil) }
        }
        return s
    }
}
