/// torch's ConstantLR: the rate times factor for the first total_iters steps, then the rate
/// (torch multiplies by 1/factor at step total_iters).
struct ConstantLR: ChainableSchedule {
    static let name = "constant"
    static let usage = "constant(factor=1/3, total_iters=5)"
    static let example = "constant(factor=0.5,total_iters=20)"
    let factor: Double
    let totalIters: Int
    var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        factor = try r.number("factor", default: 1.0 / 3, .unitClosed)
        // torch accepts 0 but then divides by it at step total_iters.
        guard factor > 0 else { throw OptimError("\(r.owner): factor=0 must be > 0 (torch divides by it at step total_iters)") }
        totalIters = try r.integer("total_iters", default: 5, minimum: 0)
    }

    func initial(_ lr: Double) -> Double { lr * factor }

    func next(_ lr: Double, base: Double) -> Double {
        lastEpoch == totalIters ? lr * (1.0 / factor) : lr
    }

    func closedFormAtZero(base: Double) -> Double {
        base * (factor + (0 >= totalIters ? 1 : 0) * (1 - factor))
    }
}
