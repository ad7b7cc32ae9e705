/// torch's SequentialLR: schedulers[0] until milestones[0], then schedulers[1] (started afresh,
/// torch's `_update_lr(0)`) until milestones[1], and so on. Warm-up then decay:
/// `sequential(schedulers=(linear(start_factor=0.1,total_iters=5),cosine(T_max=95)),milestones=(5))`.
/// Any schedule but plateau may be a member, onecycle and cyclic included (with torch's
/// consequences: their constructors set `initial_lr`, which every rate restarts from); a
/// composite only first, since torch cannot restart one at a milestone.
struct SequentialLR: ComposableSchedule {
    static let name = "sequential"
    static let usage = "sequential(schedulers=(...), milestones=(...))"
    static let example = "sequential(schedulers=(linear(start_factor=0.1,total_iters=10),cosine(T_max=90)),milestones=(10))"
    private var schedulers: [ScheduleChild]
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
        if let later = schedulers.dropFirst().first(where: { !($0.schedule is any RestartableSchedule) }) {
            throw OptimError("\(r.owner): \(type(of: later.schedule).name) can only be its first scheduler (torch restarts the others at their milestone with _update_lr(0), which sequential and chained lack)")
        }
    }

    var stepsPerBatch: Bool { schedulers.stepsPerBatch }
    var ratesSetFrom: String? { schedulers.ratesSetFrom }
    var cycledMomentum: (base: Double, max: Double)? { schedulers.cycledMomentum }

    /// As torch's constructor: every scheduler is constructed in turn (each setting the rates),
    /// then the rates go back to `initial_lr` and the one in force at step 0 takes its initial
    /// step again.
    mutating func start(_ values: inout ScheduledValues) throws {
        for i in schedulers.indices { try schedulers[i].construct(&values) }
        values.learningRates = values.initialLRs ?? values.learningRates
        lastEpoch = 0
        try schedulers[current].with(&values) { try $0.initialStep(&$1) }
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        try advance(&values, loss: loss, initial: false)
    }

    /// Inside another sequential, its initial step is its `step()`, from the children its
    /// constructor left (torch undoes their steps, so the current child steps from last_epoch −1).
    mutating func initialStep(_ values: inout ScheduledValues) throws {
        try advance(&values, loss: nil, initial: true)
    }

    mutating func undoneStep(_ values: inout ScheduledValues) throws { try initialStep(&values) }

    private mutating func advance(_ values: inout ScheduledValues, loss: Double?, initial: Bool) throws {
        lastEpoch += 1
        let i = current
        if i > 0, milestones[i - 1] == lastEpoch {
            schedulers[i].with(&values) { schedule, values in
                var restartable = schedule as! any RestartableSchedule  // checked in init
                restartable.restart(&values)
                schedule = restartable
            }
        } else if initial {
            try schedulers[i].with(&values) { try $0.undoneStep(&$1) }
        } else {
            try schedulers[i].with(&values) { try $0.step(&$1, loss: loss) }
        }
    }

    /// Python's bisect_right(milestones, last_epoch): how many milestones have been reached.
    private var current: Int { milestones.firstIndex { $0 > lastEpoch } ?? milestones.count }
}
