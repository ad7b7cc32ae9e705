import Foundation

/// Prodigy, Adam that estimates its own step size d: prodigyopt's `Prodigy` (Mishchenko &
/// Defazio, 2023). d is global: it comes from sums over all parameters, so Prodigy is not separable.
///
///     γ̂ = d·γ·(√(1−β₂ᵗ)/(1−β₁ᵗ) if use_bias_correction else 1)
///     g ← g + λθ                                   if weight_decay ≠ 0 and not decouple
///     r ← β₃r + (d/d₀)·γ̂·⟨g, θ₀ − θ⟩               β₃ = √β₂ unless given; θ₀: p0
///     m ← β₁m + d(1−β₁)g;  v ← β₂v + d²(1−β₂)g²
///     s ← β₃s + (d/d₀)·(d if safeguard_warmup else γ̂)·g
///     d̂ = d_coef · r / Σ|s|;  d ← max(d, d̂) while d = d₀;  d_max ← max(d_max, d̂);  d ← min(d_max, d·growth_rate)
///     θ ← θ − λγ̂θ                                  if decouple
///     θ ← θ − γ̂·m / (√v + dε)                      (β₁ = 0: θ ← θ − γ̂d·g / (√v + dε))
/// A step whose Σ|s| is 0 changes nothing, as in the package.
struct ProdigyOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["prodigy"]) { _, r in try ProdigyOptions(&r) }

    var lr, beta1, beta2, eps, weightDecay, d0, dCoef, growthRate: Double
    var beta3: Double?
    var decouple, useBiasCorrection, safeguardWarmup: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1.0, .positive)
        (beta1, beta2) = try r.pair("betas", default: (0.9, 0.999))
        beta3 = try r.optionalNumber("beta3", default: nil, .any)
        eps = try r.number("eps", default: 1e-8, .positive)
        weightDecay = try r.number("weight_decay", default: 0, .any)
        decouple = try r.flag("decouple", default: true)
        useBiasCorrection = try r.flag("use_bias_correction", default: false)
        safeguardWarmup = try r.flag("safeguard_warmup", default: false)
        d0 = try r.number("d0", default: 1e-6, .positive)
        dCoef = try r.number("d_coef", default: 1, .any)
        growthRate = try r.optionalNumber("growth_rate", default: .infinity, .any, allowsInfinity: true) ?? .infinity
    }
}

extension ProdigyOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Prodigy(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Prodigy(self, parameters)) }
    var cycledMomentum: CycledMomentum? { nil }
    var isSeparable: Bool { false }
}

final class Prodigy<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: ProdigyOptions
    let s, p0, expAvgSq: StateBuffers<Scalar>
    let expAvg: StateBuffers<Scalar>?
    /// The package's group state: d, d_max, d_numerator and k (its own step count, which a step
    /// with Σ|s| = 0 does not advance). Rounded to Scalar after every update, so that a checkpoint
    /// in the parameters' dtype resumes exactly; in double this changes nothing.
    var d, dMax, dNumerator: Double
    var k = 0

    init(_ o: ProdigyOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        s = StateBuffers("s", like: parameters)
        p0 = StateBuffers("p0", like: parameters)
        expAvgSq = StateBuffers("exp_avg_sq", like: parameters)
        expAvg = o.beta1 > 0 ? StateBuffers("exp_avg", like: parameters) : nil
        (d, dMax, dNumerator) = (o.d0, o.d0, 0)
    }

    var buffers: [StateBuffers<Scalar>] { [s, p0, expAvgSq] + (expAvg.map { [$0] } ?? []) }

    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] {
        [("d", Scalar(d)), ("d_max", Scalar(dMax)), ("d_numerator", Scalar(dNumerator)), ("k", Scalar(k))]
    }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        guard let first = scalars.first else { return }
        d = Double(first["d"] ?? Scalar(o.d0))
        dMax = Double(first["d_max"] ?? Scalar(o.d0))
        dNumerator = Double(first["d_numerator"] ?? 0)
        k = Int(first["k"] ?? 0)
    }

    func step(_ parameters: [Parameter<Scalar>], lr lrs: [Double], t: Int) {
        if t == 1 { for (i, p) in parameters.enumerated() { _ = p0[i].update(from: p.value) } }
        let (beta1, beta2) = (o.beta1, o.beta2)
        let beta3 = o.beta3 ?? beta2.squareRoot()
        let lr = lrs.max() ?? 0
        let biasCorrection = o.useBiasCorrection ? pow(1 - pow(beta2, Double(k + 1)), 0.5) / (1 - pow(beta1, Double(k + 1))) : 1
        let dlr = d * lr * biasCorrection
        let coupledDecay = o.weightDecay != 0 && !o.decouple, lambda = Scalar(o.weightDecay)
        var deltaNumerator = 0.0, dDenom = 0.0
        let m1 = Scalar(d * (1 - beta1)), m2 = Scalar(d * d * (1 - beta2)), b1 = Scalar(beta1), b2 = Scalar(beta2), b3 = Scalar(beta3)
        let sStep = Scalar(o.safeguardWarmup ? (d / o.d0) * d : (d / o.d0) * dlr)
        for (i, p) in parameters.enumerated() where lrs[i] > 0 {
            let theta = p.value, grad = p.grad, v = expAvgSq[i], si = s[i], start = p0[i], m = expAvg?[i]
            var dot: Scalar = 0, sum: Scalar = 0
            for j in theta.indices {
                let g = coupledDecay ? grad[j].addingProduct(lambda, theta[j]) : grad[j]
                dot = dot.addingProduct(g, start[j] - theta[j])
                if let m { m[j] = (m[j] * b1).addingProduct(m1, g) }
                v[j] = (v[j] * b2).addingProduct(m2 * g, g)
                si[j] = (si[j] * b3).addingProduct(sStep, g)
                sum += abs(si[j])
            }
            deltaNumerator += (d / o.d0) * dlr * Double(dot)
            dDenom += Double(sum)
        }
        if dDenom == 0 { return }
        dNumerator = Double(Scalar(dNumerator * beta3 + deltaNumerator))
        let dHat = o.dCoef * dNumerator / dDenom
        if d == o.d0 { d = max(d, dHat) }
        dMax = Double(Scalar(max(dMax, dHat)))
        d = Double(Scalar(min(dMax, d * o.growthRate)))
        let epsD = Scalar(d * o.eps), decay = Scalar(-o.weightDecay * dlr)
        let decouples = o.weightDecay != 0 && o.decouple
        let negStep = Scalar(expAvg == nil ? -dlr * d : -dlr)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, v = expAvgSq[i], m = expAvg?[i]
            for j in theta.indices {
                let denom = v[j].squareRoot() + epsD
                if decouples { theta[j] = theta[j].addingProduct(decay, theta[j]) }
                let direction = m?[j] ?? (coupledDecay ? grad[j].addingProduct(lambda, theta[j]) : grad[j])
                theta[j] += negStep * direction / denom
            }
        }
        k += 1
    }
}
