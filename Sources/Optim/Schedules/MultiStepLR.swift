import Foundation

/// torch's MultiStepLR: γ ← γ·gamma^k at a step named k times in milestones.
struct MultiStepLR: ChainableSchedule {
    static let name = "multistep"
    static let usage = "multistep(milestones=(30, 60), gamma=0.1)"
    static let example = "multistep(milestones=(30,60))"
    let milestones: [Int]
    let gamma: Double
    var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        milestones = try r.integers("milestones", minimum: 1)
        gamma = try r.number("gamma", default: 0.1)
    }

    func next(_ lr: Double, base: Double) -> Double {
        let hits = milestones.reduce(0) { $0 + ($1 == lastEpoch ? 1 : 0) }  // counted without an array per step
        return hits > 0 ? lr * pow(gamma, Double(hits)) : lr
    }

    /// Milestones are ≥ 1, so none lies at or before step 0: base·gamma⁰.
    func closedFormAtZero(base: Double) -> Double { base }
}
