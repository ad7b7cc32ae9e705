/// torch's LinearLR: the rate's factor moves linearly from start_factor to end_factor over
/// total_iters steps, stepped chainably as torch's `step()` does:
///
///     γ₀ = base·s      γₜ = γₜ₋₁·(1 + (e − s) / (T·s + (t − 1)(e − s)))   for 1 ≤ t ≤ T
struct LinearLR: ChainableSchedule {
    static let name = "linear"
    static let usage = "linear(start_factor=1/3, end_factor=1, total_iters=5)"
    static let example = "linear(start_factor=0.1,total_iters=20)"
    let startFactor, endFactor: Double
    let totalIters: Int
    var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        startFactor = try r.number("start_factor", default: 1.0 / 3)
        guard startFactor > 0, startFactor <= 1 else {
            throw OptimError("\(r.owner): start_factor=\(SpecValue.format(startFactor)) must be in (0, 1]")
        }
        endFactor = try r.number("end_factor", default: 1, .unitClosed)
        // torch's closed form (used where sequential starts it at a milestone) divides by it.
        totalIters = try r.integer("total_iters", default: 5, minimum: 1)
    }

    func initial(_ lr: Double) -> Double { lr * startFactor }

    func next(_ lr: Double, base: Double) -> Double {
        guard lastEpoch <= totalIters else { return lr }
        let slope = endFactor - startFactor
        return lr * (1.0 + slope / (Double(totalIters) * startFactor + Double(lastEpoch - 1) * slope))
    }

    func closedFormAtZero(base: Double) -> Double {
        base * (startFactor + (endFactor - startFactor) * Double(min(totalIters, 0)) / Double(totalIters))
    }
}
