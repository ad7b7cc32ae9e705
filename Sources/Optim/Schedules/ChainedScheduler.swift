/// torch's ChainedScheduler: every scheduler steps in turn on the same rates, so their factors
/// multiply: `chained(schedulers=(constant(factor=0.5,total_iters=10),exponential(gamma=0.95)))`.
/// Any schedule but plateau may be a member (onecycle and cyclic set the rates the ones after
/// them scale), composites included.
struct ChainedScheduler: ComposableSchedule {
    static let name = "chained"
    static let usage = "chained(schedulers=(...))"
    static let example = "chained(schedulers=(linear(start_factor=0.1,total_iters=10),exponential(gamma=0.98)))"
    private var schedulers: [ScheduleChild]

    init(_ r: inout ArgumentReader) throws {
        schedulers = try r.composableSchedules()
    }

    var stepsPerBatch: Bool { schedulers.stepsPerBatch }
    var ratesSetFrom: String? { schedulers.ratesSetFrom }
    var cycledMomentum: (base: Double, max: Double)? { schedulers.cycledMomentum }

    /// As torch, where each scheduler was constructed (and so took its initial step) in turn.
    mutating func start(_ values: inout ScheduledValues) throws {
        for i in schedulers.indices { try schedulers[i].construct(&values) }
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        for i in schedulers.indices { try schedulers[i].with(&values) { try $0.step(&$1, loss: loss) } }
    }

    /// torch's `_initial_step()` is its `step()`: every child, undone, steps to last_epoch 0.
    mutating func initialStep(_ values: inout ScheduledValues) throws {
        for i in schedulers.indices { try schedulers[i].with(&values) { try $0.undoneStep(&$1) } }
    }

    mutating func undoneStep(_ values: inout ScheduledValues) throws { try initialStep(&values) }
}
