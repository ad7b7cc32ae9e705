/// Adadelta: torch.optim.Adadelta.
///
///     g ← g + λθ                     if λ ≠ 0
///     v ← ρv + (1−ρ)g²               v = square_avg
///     Δ = √(u + ε) / √(v + ε) · g    u = acc_delta; ε sits inside both roots
///     u ← ρu + (1−ρ)Δ²
///     θ ← θ − γΔ
struct AdadeltaOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["adadelta"]) { _, r in try AdadeltaOptions(&r) }

    var lr, rho, eps, weightDecay: Double
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1.0)
        rho = try r.number("rho", default: 0.9, .unitClosed)
        eps = try r.number("eps", default: 1e-6)
        weightDecay = try r.number("weight_decay", default: 0)
        maximize = try r.flag("maximize", default: false)
    }
}

extension AdadeltaOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Adadelta(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Adadelta(self, parameters)) }
}

final class Adadelta<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: AdadeltaOptions
    let squareAvg, accDelta: StateBuffers<Scalar>

    init(_ o: AdadeltaOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        squareAvg = StateBuffers("square_avg", like: parameters)
        accDelta = StateBuffers("acc_delta", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [squareAvg, accDelta] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay)
        let rho = Scalar(o.rho), w = Scalar(1 - o.rho)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, v = squareAvg[i], u = accDelta[i], negLR = Scalar(-lr[i])
            for j in theta.indices {
                var g = o.maximize ? -grad[j] : grad[j]
                if o.weightDecay != 0 { g = g.addingProduct(lambda, theta[j]) }
                v[j] = (v[j] * rho).addingProduct(w * g, g)
                let delta = (u[j] + eps).squareRoot() / (v[j] + eps).squareRoot() * g
                u[j] = (u[j] * rho).addingProduct(w * delta, delta)
                theta[j] = theta[j].addingProduct(negLR, delta)
            }
        }
    }
}
