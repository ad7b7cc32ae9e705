/// torch's ChainedScheduler: every scheduler steps in turn on the same rates, so their factors
/// multiply: `chained(schedulers=(constant(factor=0.5,total_iters=10),exponential(gamma=0.95)))`.
struct ChainedScheduler: Schedule {
    static let name = "chained"
    static let usage = "chained(schedulers=(...))"
    static let example = "chained(schedulers=(linear(start_factor=0.1,total_iters=10),exponential(gamma=0.98)))"
    private var schedulers: [any ComposableSchedule]

    init(_ r: inout ArgumentReader) throws {
        schedulers = try r.composableSchedules()
    }

    /// As torch, where each scheduler was constructed (and so took its initial step) in turn.
    mutating func start(_ values: inout ScheduledValues) throws {
        for i in schedulers.indices { try schedulers[i].start(&values) }
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        for i in schedulers.indices { try schedulers[i].step(&values, loss: loss) }
    }
}
