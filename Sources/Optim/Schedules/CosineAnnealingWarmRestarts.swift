import Foundation

/// torch's CosineAnnealingWarmRestarts (SGDR): cosine annealing from the base rate to eta_min
/// over Tᵢ steps, then a restart at the base rate with Tᵢ₊₁ = Tᵢ·T_mult (T₀ = T_0):
///
///     γ = η_min + (base − η_min)·(1 + cos(π·T_cur/Tᵢ))/2
struct CosineAnnealingWarmRestarts: RestartableSchedule {
    static let name = "cosine_warm_restarts"
    static let usage = "cosine_warm_restarts(T_0, T_mult=1, eta_min=0)"
    static let example = "cosine_warm_restarts(T_0=25)"
    let t0, tMult: Int
    let etaMin: Double
    /// torch's T_cur (steps since the last restart) and T_i (the current cycle's length).
    private var tCur = 0, tI: Int

    init(_ r: inout ArgumentReader) throws {
        t0 = try r.integer("T_0", default: nil, minimum: 1)
        tMult = try r.integer("T_mult", default: 1, minimum: 1)
        etaMin = try r.number("eta_min", default: 0)
        tI = t0
    }

    mutating func start(_ values: inout ScheduledValues) {
        (tCur, tI) = (0, t0)
        setRates(&values)
    }

    mutating func step(_ values: inout ScheduledValues, loss: Double?) {
        tCur += 1
        if tCur >= tI {
            tCur %= tI
            tI *= tMult
        }
        setRates(&values)
    }

    /// torch's `_update_lr(0)`: get_lr at the cycle position the constructor left.
    mutating func restart(_ values: inout ScheduledValues) { setRates(&values) }

    private func setRates(_ values: inout ScheduledValues) {
        for i in values.learningRates.indices {
            values.learningRates[i] = etaMin + (values.baseLRs[i] - etaMin) * (1 + cos(Double.pi * Double(tCur) / Double(tI))) / 2
        }
    }
}
