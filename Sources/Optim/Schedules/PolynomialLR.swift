import Foundation

/// torch's PolynomialLR: the rate decays as (1 − t/T)^power to 0 at total_iters, stepped
/// chainably as torch's `step()` does: γₜ = γₜ₋₁·((1 − t/T) / (1 − (t−1)/T))^power for t ≤ T.
struct PolynomialLR: ChainableSchedule {
    static let name = "polynomial"
    static let usage = "polynomial(total_iters=5, power=1)"
    static let example = "polynomial(total_iters=100,power=2)"
    let totalIters: Int
    let power: Double
    var lastEpoch = 0
    static let initialByFlag = true

    init(_ r: inout ArgumentReader) throws {
        // torch's closed form (used where sequential starts it at a milestone) divides by it.
        totalIters = try r.integer("total_iters", default: 5, minimum: 1)
        power = try r.number("power", default: 1)
    }

    func next(_ lr: Double, base: Double) -> Double {
        guard lastEpoch <= totalIters else { return lr }
        let t = Double(totalIters), e = Double(lastEpoch)
        return lr * pow((1.0 - e / t) / (1.0 - (e - 1) / t), power)
    }

    func closedFormAtZero(base: Double) -> Double { base }  // base·(1 − 0/T)^power
}
