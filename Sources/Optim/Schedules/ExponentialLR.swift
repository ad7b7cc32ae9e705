/// torch's ExponentialLR: γ ← γ·gamma every step.
struct ExponentialLR: ChainableSchedule {
    static let name = "exponential"
    static let usage = "exponential(gamma)"
    static let example = "exponential(gamma=0.98)"
    let gamma: Double
    var lastEpoch = 0
    static let initialByFlag = true

    init(_ r: inout ArgumentReader) throws {
        gamma = try r.number("gamma", default: nil)
    }

    func next(_ lr: Double, base: Double) -> Double { lr * gamma }
    func closedFormAtZero(base: Double) -> Double { base }  // base·gamma⁰
}
