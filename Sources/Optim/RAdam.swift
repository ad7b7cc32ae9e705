/// RAdam, Adam with a rectified adaptive step: torch.optim.RAdam.
///
///     θ ← θ(1 − γλ) if decoupled_weight_decay, else g ← g + λθ     (λ ≠ 0)
///     m ← m + (1−β₁)(g − m)
///     v ← β₂v + (1−β₂)g²
///     ρ∞ = 2/(1−β₂) − 1,   ρₜ = ρ∞ − 2tβ₂ᵗ/(1−β₂ᵗ)
///     r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))
///     θ ← θ − γ · m/(1−β₁ᵗ) · r·√(1−β₂ᵗ)/(√v + ε)    if ρₜ > 5
///     θ ← θ − γ · m/(1−β₁ᵗ)                          otherwise (variance not yet tractable)
struct RAdamOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["radam"]) { _, r in try RAdamOptions(&r) }

    var lr, beta1, beta2, eps, weightDecay: Double
    var decoupledWeightDecay, maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-3)
        (beta1, beta2) = try r.pair("betas", default: (0.9, 0.999))
        eps = try r.number("eps", default: 1e-8)
        weightDecay = try r.number("weight_decay", default: 0)
        decoupledWeightDecay = try r.flag("decoupled_weight_decay", default: false)
        maximize = try r.flag("maximize", default: false)
    }
}

extension RAdamOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(RAdam(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(RAdam(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .beta1 }
    mutating func setMomentum(_ m: Double) { beta1 = m }
}

final class RAdam<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { beta1.set(m) }
    let o: RAdamOptions
    let expAvg, expAvgSq: StateBuffers<Scalar>
    /// β₁ (set per step by a onecycle schedule) and β₁ᵗ; β₂ᵗ.
    @exclusivity(unchecked) var beta1: Beta1
    @exclusivity(unchecked) var beta2Power = 1.0

    init(_ o: RAdamOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        beta1 = Beta1(o.beta1)
        expAvg = StateBuffers("exp_avg", like: parameters)
        expAvgSq = StateBuffers("exp_avg_sq", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [expAvg, expAvgSq] }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        beta1.restore(t: t)
        beta2Power = 1
        for _ in 0..<t { beta2Power *= o.beta2 }
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        beta1.advance(to: t)
        beta2Power *= o.beta2
        let bc1 = 1 - beta1.power, bc2 = 1 - beta2Power
        let rhoInf = 2 / (1 - o.beta2) - 1
        let rhoT = rhoInf - 2 * Double(t) * beta2Power / bc2
        let rectified = rhoT > 5
        let rect = Scalar(((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)).squareRoot())
        let bc1S = Scalar(bc1), bc2Sqrt = Scalar(bc2.squareRoot())
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay)
        // Options as local constants, as in SGD: the loop then tests registers, not memory.
        let (maximize, decays, decoupled) = (o.maximize, o.weightDecay != 0, o.decoupledWeightDecay)
        let w1 = Scalar(1 - beta1.value), beta2 = Scalar(o.beta2), w2 = Scalar(1 - o.beta2)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, m = expAvg[i], v = expAvgSq[i]
            let lrS = Scalar(lr[i]), decay = Scalar(1 - lr[i] * o.weightDecay)
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                if decays {
                    if decoupled { theta[j] *= decay } else { g = g.addingProduct(lambda, theta[j]) }
                }
                m[j] = m[j].lerp(to: g, weight: w1)
                v[j] = (v[j] * beta2).addingProduct(w2 * g, g)
                // torch evaluates `scalar / tensor` as reciprocal() * scalar.
                let update = rectified
                    ? m[j] / bc1S * lrS * (1 / (v[j].squareRoot() + eps) * bc2Sqrt) * rect
                    : m[j] / bc1S * lrS
                theta[j] -= update
            }
        }
    }
}
