/// torch's SequentialLR: schedulers[0] until milestones[0], then schedulers[1] (started afresh
/// from the optimizer's rates, torch's `_update_lr(0)`) until milestones[1], and so on. Warm-up
/// then decay: `sequential(schedulers=(linear(start_factor=0.1,total_iters=5),cosine(T_max=95)),milestones=(5))`.
struct SequentialLR: Schedule {
    static let name = "sequential"
    static let usage = "sequential(schedulers=(...), milestones=(...))"
    static let example = "sequential(schedulers=(linear(start_factor=0.1,total_iters=10),cosine(T_max=90)),milestones=(10))"
    private var schedulers: [any ComposableSchedule]
    let milestones: [Int]
    private var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        schedulers = try r.composableSchedules()
        milestones = try r.integers("milestones", minimum: 0)
        guard milestones.count == schedulers.count - 1 else {
            throw OptimError("\(r.owner): \(schedulers.count) schedulers need \(schedulers.count - 1) milestone\(schedulers.count == 2 ? "" : "s") (the steps where the next one takes over), got \(milestones.count)")
        }
        guard zip(milestones, milestones.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw OptimError("\(r.owner): milestones=\(milestones.map(String.init).joined(separator: ",")) must not decrease")
        }
    }

    /// As torch's constructor: every scheduler is constructed in turn (each setting the rates),
    /// then the rates go back to the optimizer's and the one in force at step 0 starts again.
    mutating func start(_ values: inout ScheduledValues) throws {
        for i in schedulers.indices { try schedulers[i].start(&values) }
        values.learningRates = values.baseLRs
        lastEpoch = 0
        try schedulers[current].start(&values)
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        lastEpoch += 1
        let i = current
        if i > 0, milestones[i - 1] == lastEpoch {
            schedulers[i].restart(&values)
        } else {
            try schedulers[i].step(&values, loss: loss)
        }
    }

    /// Python's bisect_right(milestones, last_epoch): how many milestones have been reached.
    private var current: Int { milestones.firstIndex { $0 > lastEpoch } ?? milestones.count }
}
