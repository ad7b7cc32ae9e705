import Foundation

/// NAdam, Adam with Nesterov momentum: torch.optim.NAdam.
///
///     θ ← θ(1 − γλ) if decoupled_weight_decay, else g ← g + λθ     (λ ≠ 0)
///     μₜ = β₁(1 − ½·0.96^(tψ))       ψ = momentum_decay
///     Πₜ = μ₁μ₂⋯μₜ                   mu_product
///     m ← m + (1−β₁)(g − m)
///     v ← β₂v + (1−β₂)g²
///     d = √(v / (1−β₂ᵗ)) + ε
///     θ ← θ − γ(1−μₜ)/(1−Πₜ) · g/d
///     θ ← θ − γμₜ₊₁/(1−Πₜμₜ₊₁) · m/d
struct NAdamOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["nadam"]) { _, r in try NAdamOptions(&r) }

    var lr, beta1, beta2, eps, weightDecay, momentumDecay: Double
    var decoupledWeightDecay, maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 2e-3)
        (beta1, beta2) = try r.pair("betas", default: (0.9, 0.999))
        eps = try r.number("eps", default: 1e-8)
        weightDecay = try r.number("weight_decay", default: 0)
        momentumDecay = try r.number("momentum_decay", default: 4e-3)
        decoupledWeightDecay = try r.flag("decoupled_weight_decay", default: false)
        maximize = try r.flag("maximize", default: false)
    }
}

extension NAdamOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(NAdam(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(NAdam(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .beta1 }
    mutating func setMomentum(_ m: Double) { beta1 = m }
}

final class NAdam<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { beta1 = m }
    let o: NAdamOptions
    let expAvg, expAvgSq: StateBuffers<Scalar>
    /// Πₜ, kept in the parameters' precision as torch keeps it in a tensor of that dtype.
    @exclusivity(unchecked) var muProduct: Scalar = 1
    /// β₂ᵗ and 0.96^(tψ) as running products; `decayBase` = 0.96^ψ.
    @exclusivity(unchecked) var beta2Power = 1.0
    @exclusivity(unchecked) var decayPower = 1.0
    let decayBase: Double
    /// β₁: the spec's, or what a onecycle schedule set for this step.
    @exclusivity(unchecked) var beta1: Double

    init(_ o: NAdamOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        beta1 = o.beta1
        decayBase = pow(0.96, o.momentumDecay)
        expAvg = StateBuffers("exp_avg", like: parameters)
        expAvgSq = StateBuffers("exp_avg_sq", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [expAvg, expAvgSq] }
    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] { [("mu_product", muProduct)] }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        (beta2Power, decayPower) = (1, 1)
        for _ in 0..<t {
            beta2Power *= o.beta2
            decayPower *= decayBase
        }
        muProduct = scalars.first?["mu_product"] ?? 1
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        beta2Power *= o.beta2
        decayPower *= decayBase
        let bc2 = Scalar(1 - beta2Power)
        let mu = beta1 * (1 - 0.5 * decayPower)
        let muNext = beta1 * (1 - 0.5 * (decayPower * decayBase))
        muProduct *= Scalar(mu)
        let muProductNext = Double(muProduct) * muNext
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay)
        // Options as local constants, as in SGD: the loop then tests registers, not memory.
        let (maximize, decays, decoupled) = (o.maximize, o.weightDecay != 0, o.decoupledWeightDecay)
        let w1 = Scalar(1 - beta1), beta2 = Scalar(o.beta2), w2 = Scalar(1 - o.beta2)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, m = expAvg[i], v = expAvgSq[i]
            let gradScale = Scalar(-lr[i] * (1 - mu) / (1 - Double(muProduct)))
            let avgScale = Scalar(-lr[i] * muNext / (1 - muProductNext))
            let decay = Scalar(1 - lr[i] * o.weightDecay)
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                if decays {
                    if decoupled { theta[j] *= decay } else { g = g.addingProduct(lambda, theta[j]) }
                }
                m[j] = m[j].lerp(to: g, weight: w1)
                v[j] = (v[j] * beta2).addingProduct(w2 * g, g)
                let d = (v[j] / bc2).squareRoot() + eps
                theta[j] += gradScale * g / d
                theta[j] += avgScale * m[j] / d
            }
        }
    }
}
