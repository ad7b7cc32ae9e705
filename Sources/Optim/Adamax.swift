/// Adamax, Adam with the infinity norm: torch.optim.Adamax.
///
///     g ← g + λθ                     if λ ≠ 0
///     m ← m + (1−β₁)(g − m)
///     u ← max(β₂u, |g| + ε)          u = exp_inf
///     θ ← θ − γ/(1−β₁ᵗ) · m/u
struct AdamaxOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["adamax"]) { _, r in try AdamaxOptions(&r) }

    var lr, beta1, beta2, eps, weightDecay: Double
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 2e-3)
        (beta1, beta2) = try r.pair("betas", default: (0.9, 0.999))
        eps = try r.number("eps", default: 1e-8)
        weightDecay = try r.number("weight_decay", default: 0)
        maximize = try r.flag("maximize", default: false)
    }
}

extension AdamaxOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Adamax(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Adamax(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .beta1 }
    mutating func setMomentum(_ m: Double) { beta1 = m }
}

final class Adamax<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { beta1.set(m) }
    let o: AdamaxOptions
    let expAvg, expInf: StateBuffers<Scalar>
    /// β₁ (set per step by a onecycle schedule) and β₁ᵗ.
    @exclusivity(unchecked) var beta1: Beta1

    init(_ o: AdamaxOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        beta1 = Beta1(o.beta1)
        expAvg = StateBuffers("exp_avg", like: parameters)
        expInf = StateBuffers("exp_inf", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [expAvg, expInf] }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        beta1.restore(t: t)
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        beta1.advance(to: t)
        let bc1 = 1 - beta1.power
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay), w1 = Scalar(1 - beta1.value), beta2 = Scalar(o.beta2)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, m = expAvg[i], u = expInf[i], negCLR = Scalar(-(lr[i] / bc1))
            for j in theta.indices {
                var g = o.maximize ? -grad[j] : grad[j]
                if o.weightDecay != 0 { g = g.addingProduct(lambda, theta[j]) }
                m[j] = m[j].lerp(to: g, weight: w1)
                u[j] = (u[j] * beta2).maximum(abs(g) + eps)
                theta[j] += negCLR * m[j] / u[j]
            }
        }
    }
}
