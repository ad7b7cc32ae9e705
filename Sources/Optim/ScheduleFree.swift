import Foundation

/// Schedule-free AdamW and SGD: the `schedulefree` package's AdamWScheduleFree and
/// SGDScheduleFree (Defazio et al., 2024). Gradients are taken at y, an interpolation between the
/// averaged iterate x (where the model is evaluated: `optimizer.eval()`) and the base iterate z.
///
///     γₜ = γ · min(1, t/warmup_steps)              γ_max = maxₛ≤ₜ γₛ
///     wₜ = t^r · γ_max^p                           p: weight_lr_power
///     cₜ = wₜ / Σₛ≤ₜ wₛ                            (0 while the sum is 0)
///     AdamW:  v ← β₂v + (1−β₂)g²;  g ← g / (√(v/(1−β₂ᵗ)) + ε)
///     g ← g + λy                                   if weight_decay ≠ 0
///     y ← y + cₜ(z − y)
///     y ← y + γₜ(β(1 − cₜ) − 1)·g                   β: β₁ (AdamW) or momentum (SGD)
///     z ← z − γₜg
///     x = y + (1 − 1/β)(z − y)                     the evaluation point
struct ScheduleFreeOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["adamw_schedulefree", "sgd_schedulefree"]) { name, r in
        try ScheduleFreeOptions(&r, adamW: name == "adamw_schedulefree")
    }

    /// AdamW's (or, for SGD, nil: no second moment).
    var adamW: (beta2: Double, eps: Double)?
    var lr, beta, weightDecay, r, weightLRPower: Double
    var warmupSteps: Int

    init(_ r: inout ArgumentReader, adamW: Bool) throws {
        if adamW {
            lr = try r.number("lr", default: 0.0025)
            let (beta1, beta2) = try r.pair("betas", default: (0.9, 0.999))
            beta = beta1
            self.adamW = (beta2, try r.number("eps", default: 1e-8))
        } else {
            lr = try r.number("lr", default: 1.0)
            beta = try r.number("momentum", default: 0.9)
            guard beta > 0, beta < 1 else {
                throw OptimError("\(r.owner): momentum=\(SpecValue.format(beta)) must be between 0 and 1 exclusive")
            }
        }
        weightDecay = try r.number("weight_decay", default: 0)
        warmupSteps = try r.integer("warmup_steps", default: 0, minimum: 0)
        self.r = try r.number("r", default: 0, .any)
        weightLRPower = try r.number("weight_lr_power", default: 2, .any)
    }

    static func == (a: Self, b: Self) -> Bool {
        a.adamW?.beta2 == b.adamW?.beta2 && a.adamW?.eps == b.adamW?.eps && a.lr == b.lr && a.beta == b.beta
            && a.weightDecay == b.weightDecay && a.r == b.r && a.weightLRPower == b.weightLRPower && a.warmupSteps == b.warmupSteps
    }
}

extension ScheduleFreeOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(ScheduleFree(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(ScheduleFree(self, parameters)) }
    var hasEvaluationPoint: Bool { true }
}

final class ScheduleFree<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: ScheduleFreeOptions
    let z: StateBuffers<Scalar>
    let expAvgSq: StateBuffers<Scalar>?
    /// The package keeps these per parameter group; here per parameter, so each path of a sweep
    /// (its own learning rate) has its own. Rounded to Scalar after every update, so that a
    /// checkpoint (saved in the parameters' dtype) resumes exactly; in double this changes nothing.
    var lrMax: [Double], weightSum: [Double]

    init(_ o: ScheduleFreeOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        z = StateBuffers("z", like: parameters)
        expAvgSq = o.adamW == nil ? nil : StateBuffers("exp_avg_sq", like: parameters)
        lrMax = Array(repeating: -1, count: parameters.count)
        weightSum = Array(repeating: 0, count: parameters.count)
    }

    var buffers: [StateBuffers<Scalar>] { [z] + (expAvgSq.map { [$0] } ?? []) }

    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] {
        [("lr_max", Scalar(lrMax[i])), ("weight_sum", Scalar(weightSum[i]))]
    }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        for i in scalars.indices {
            lrMax[i] = Double(scalars[i]["lr_max"] ?? -1)
            weightSum[i] = Double(scalars[i]["weight_sum"] ?? 0)
        }
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let k = t - 1
        let bc2 = o.adamW.map { Scalar(1 - pow($0.beta2, Double(k + 1))) } ?? 1
        let beta2 = Scalar(o.adamW?.beta2 ?? 0), w2 = Scalar(1 - (o.adamW?.beta2 ?? 0)), eps = Scalar(o.adamW?.eps ?? 0)
        let (decays, decay) = (o.weightDecay != 0, Scalar(o.weightDecay))
        for (i, p) in parameters.enumerated() {
            let scheduled = lr[i] * (k < o.warmupSteps ? Double(k + 1) / Double(o.warmupSteps) : 1)
            lrMax[i] = Double(Scalar(max(scheduled, lrMax[i])))
            let weight = pow(Double(k + 1), o.r) * pow(lrMax[i], o.weightLRPower)
            weightSum[i] = Double(Scalar(weightSum[i] + weight))
            let c = weightSum[i] == 0 ? 0 : weight / weightSum[i]
            let y = p.value, grad = p.grad, zi = z[i]
            if t == 1 { _ = zi.update(from: y) }
            let ckp1 = Scalar(c), yStep = Scalar(scheduled * (o.beta * (1 - c) - 1)), zStep = Scalar(-scheduled)
            if let v = expAvgSq?[i] {
                for j in y.indices {
                    var g = grad[j]
                    v[j] = (v[j] * beta2).addingProduct(w2 * g, g)
                    g = g / ((v[j] / bc2).squareRoot() + eps)
                    if decays { g = g.addingProduct(decay, y[j]) }
                    y[j] = y[j].lerp(to: zi[j], weight: ckp1).addingProduct(yStep, g)
                    zi[j] = zi[j].addingProduct(zStep, g)
                }
            } else {
                for j in y.indices {
                    var g = grad[j]
                    if decays { g = g.addingProduct(decay, y[j]) }
                    y[j] = y[j].lerp(to: zi[j], weight: ckp1).addingProduct(yStep, g)
                    zi[j] = zi[j].addingProduct(zStep, g)
                }
            }
        }
    }

    var hasEvaluationPoint: Bool { true }

    /// x = lerp(y, z, 1 − 1/β), as the package's `eval()` computes it (y itself before any step).
    func setEvaluationValues(_ parameters: [Parameter<Scalar>]) {
        guard weightSum.contains(where: { $0 != 0 }) || lrMax.contains(where: { $0 >= 0 }) else { return }
        let w = Scalar(1 - 1 / o.beta)
        for (i, p) in parameters.enumerated() {
            for j in p.value.indices { p.value[j] = p.value[j].lerp(to: z[i][j], weight: w) }
        }
    }
}
