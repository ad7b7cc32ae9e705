/// torch's StepLR: γ ← γ·gamma every step_size steps.
struct StepLR: ChainableSchedule {
    static let name = "step"
    static let usage = "step(step_size, gamma=0.1)"
    static let example = "step(step_size=25)"
    let stepSize: Int
    let gamma: Double
    var lastEpoch = 0

    init(_ r: inout ArgumentReader) throws {
        stepSize = try r.integer("step_size", default: nil, minimum: 1)
        gamma = try r.number("gamma", default: 0.1)
    }

    func next(_ lr: Double, base: Double) -> Double { lastEpoch % stepSize == 0 ? lr * gamma : lr }
    func closedFormAtZero(base: Double) -> Double { base }  // base·gamma⁰
}
