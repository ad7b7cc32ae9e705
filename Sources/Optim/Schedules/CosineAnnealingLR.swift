import Foundation

/// torch's CosineAnnealingLR, stepped chainably as torch's `step()` does:
///
///     γₜ = η_min + (γₜ₋₁ − η_min)·(1 + cos(πt/T_max)) / (1 + cos(π(t−1)/T_max))
///
/// except where the cosine restarts (t − 1 − T_max a multiple of 2·T_max), where it adds
/// (base − η_min)(1 − cos(π/T_max))/2.
struct CosineAnnealingLR: ChainableSchedule {
    static let name = "cosine"
    static let usage = "cosine(T_max, eta_min=0)"
    static let example = "cosine(T_max=100)"
    let tMax: Int
    let etaMin: Double
    var lastEpoch = 0
    static let initialByFlag = true

    init(_ r: inout ArgumentReader) throws {
        tMax = try r.integer("T_max", default: nil, minimum: 1)
        etaMin = try r.number("eta_min", default: 0)
    }

    func next(_ lr: Double, base: Double) -> Double {
        let t = Double(tMax), e = Double(lastEpoch)
        if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
            return lr + (base - etaMin) * (1 - cos(Double.pi / t)) / 2
        }
        return (1 + cos(Double.pi * e / t)) / (1 + cos(Double.pi * (e - 1) / t)) * (lr - etaMin) + etaMin
    }

    func closedFormAtZero(base: Double) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * 0 / Double(tMax))) / 2
    }
}
