/// torch's ReduceLROnPlateau: steps with the loss and multiplies every rate by factor (down to
/// min_lr) once the loss has not improved for more than patience steps, then waits cooldown
/// steps before counting again. "Improved" means below best·(1 − threshold) (rel) or
/// best − threshold (abs); with mode=max, above best·(1 + threshold) or best + threshold.
/// A reduction smaller than eps is skipped.
struct ReduceLROnPlateau: LossDrivenSchedule {
    static let name = "plateau"
    static let usage = "plateau(mode=min|max, factor=0.1, patience=10, threshold=1e-4, threshold_mode=rel|abs, cooldown=0, min_lr=0, eps=1e-8)"
    static let example = "plateau(patience=5)"
    let maximize: Bool
    let factor: Double
    let patience: Int
    let threshold: Double
    let relative: Bool
    let cooldown: Int
    let minLR, eps: Double
    /// torch's best, num_bad_epochs and cooldown_counter.
    private var best: Double
    private var badEpochs = 0, cooldownCounter = 0

    init(_ r: inout ArgumentReader) throws {
        maximize = try r.choice("mode", ["min", "max"], default: "min") == "max"
        factor = try r.number("factor", default: 0.1)
        guard factor < 1 else { throw OptimError("\(r.owner): factor=\(SpecValue.format(factor)) must be < 1") }
        patience = try r.integer("patience", default: 10, minimum: 0)
        threshold = try r.number("threshold", default: 1e-4)
        relative = try r.choice("threshold_mode", ["rel", "abs"], default: "rel") == "rel"
        cooldown = try r.integer("cooldown", default: 0, minimum: 0)
        minLR = try r.number("min_lr", default: 0)
        eps = try r.number("eps", default: 1e-8)
        best = maximize ? -.infinity : .infinity
    }

    /// Leaves the rates as they are, as torch's constructor does.
    mutating func start(_ values: inout ScheduledValues) {}

    mutating func step(_ values: inout ScheduledValues, loss: Double?) throws {
        guard let current = loss else { throw OptimError("schedule plateau: needs the loss at every step") }
        if isBetter(current) {
            best = current
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEpochs = 0
        }
        if badEpochs > patience {
            for i in values.learningRates.indices {
                let old = values.learningRates[i], reduced = old * factor
                let new = minLR > reduced ? minLR : reduced  // Python's max(reduced, min_lr)
                if old - new > eps { values.learningRates[i] = new }
            }
            cooldownCounter = cooldown
            badEpochs = 0
        }
    }

    private func isBetter(_ a: Double) -> Bool {
        switch (maximize, relative) {
        case (false, true): a < best * (1.0 - threshold)
        case (false, false): a < best - threshold
        case (true, true): a > best * (threshold + 1.0)
        case (true, false): a > best + threshold
        }
    }

    func state(_ values: ScheduledValues) -> [(name: String, values: [Double])] {
        [("best", [best]), ("num_bad_epochs", [Double(badEpochs)]), ("cooldown_counter", [Double(cooldownCounter)]),
         ("lr", values.learningRates)]
    }

    /// The counters and best loss, and the rates it has reduced to (torch's param groups' lr).
    mutating func restore(_ state: [String: [Double]], _ values: inout ScheduledValues) throws {
        func one(_ name: String) throws -> Double {
            guard let v = state[name], v.count == 1 else { throw OptimError("optimizer state: plateau needs one value '\(name)'") }
            return v[0]
        }
        func count(_ name: String) throws -> Int {
            let x = try one(name)
            guard let n = Int(exactly: x), n >= 0 else { throw OptimError("optimizer state: plateau's '\(name)' = \(x) is not a count") }
            return n
        }
        guard let rates = state["lr"], rates.count == values.learningRates.count, rates.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw OptimError("optimizer state: plateau needs 'lr' with \(values.learningRates.count) rates ≥ 0")
        }
        if let stray = state.keys.sorted().first(where: { !["best", "num_bad_epochs", "cooldown_counter", "lr"].contains($0) }) {
            throw OptimError("optimizer state: unexpected schedule state '\(stray)' for plateau")
        }
        (best, badEpochs, cooldownCounter) = (try one("best"), try count("num_bad_epochs"), try count("cooldown_counter"))
        values.learningRates = rates
    }
}
