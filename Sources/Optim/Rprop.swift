/// Resilient backpropagation: torch.optim.Rprop. Only the gradient's sign is used; each
/// coordinate's step size grows while the sign holds and shrinks when it flips.
///
///     s ← sign(g · g_prev)                         (g_prev: prev, the last gradient used)
///     η ← η₊ if s > 0, η₋ if s < 0, 1 if s = 0      etas = (η₋, η₊)
///     δ ← clamp(δ·η, δ_min, δ_max)                  δ: step_size, γ at t = 1
///     g ← 0 where η = η₋
///     θ ← θ − sign(g)·δ
///     g_prev ← g
/// γ sets the initial step size only, as in torch (a schedule changes nothing after step 1).
struct RpropOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["rprop"]) { _, r in try RpropOptions(&r) }

    var lr, etaMinus, etaPlus, stepSizeMin, stepSizeMax: Double
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-2)
        (etaMinus, etaPlus) = try r.pair("etas", default: (0.5, 1.2), .any)
        (stepSizeMin, stepSizeMax) = try r.pair("step_sizes", default: (1e-6, 50), .any)
        maximize = try r.flag("maximize", default: false)
        guard 0 < etaMinus, etaMinus < 1, 1 < etaPlus else {
            throw OptimError("\(r.owner): etas=(\(SpecValue.format(etaMinus)),\(SpecValue.format(etaPlus))) must satisfy 0 < etas[0] < 1 < etas[1]")
        }
    }
}

extension RpropOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Rprop(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Rprop(self, parameters)) }
}

final class Rprop<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: RpropOptions
    let prev, stepSize: StateBuffers<Scalar>

    init(_ o: RpropOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        prev = StateBuffers("prev", like: parameters)
        stepSize = StateBuffers("step_size", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [prev, stepSize] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let (maximize, etaMinus, etaPlus) = (o.maximize, Scalar(o.etaMinus), Scalar(o.etaPlus))
        let (low, high) = (Scalar(o.stepSizeMin), Scalar(o.stepSizeMax))
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, previous = prev[i], delta = stepSize[i]
            if t == 1 { delta.update(repeating: Scalar(lr[i])) }
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                let s = g * previous[j]
                let eta: Scalar = s > 0 ? etaPlus : s < 0 ? etaMinus : s == 0 ? 1 : s
                let scaled = delta[j] * eta
                // torch's clamp: NaN stays NaN.
                delta[j] = scaled.isNaN ? scaled : min(max(scaled, low), high)
                if eta == etaMinus { g = 0 }
                theta[j] = theta[j].addingProduct(-(g > 0 ? 1 : g < 0 ? -1 : g), delta[j])
                previous[j] = g
            }
        }
    }
}
