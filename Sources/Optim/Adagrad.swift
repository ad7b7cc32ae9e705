/// Adagrad: torch.optim.Adagrad.
///
///     g ← g + λθ                     if λ ≠ 0
///     γₜ = γ / (1 + (t−1)·lr_decay)
///     s ← s + g²                     s = sum, starting at initial_accumulator_value
///     θ ← θ − γₜ · g / (√s + ε)
struct AdagradOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["adagrad"]) { _, r in try AdagradOptions(&r) }

    var lr, lrDecay, weightDecay, initialAccumulatorValue, eps: Double
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-2)
        lrDecay = try r.number("lr_decay", default: 0)
        weightDecay = try r.number("weight_decay", default: 0)
        initialAccumulatorValue = try r.number("initial_accumulator_value", default: 0)
        eps = try r.number("eps", default: 1e-10)
        maximize = try r.flag("maximize", default: false)
    }
}

extension AdagradOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Adagrad(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Adagrad(self, parameters)) }
}

final class Adagrad<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: AdagradOptions
    let sum: StateBuffers<Scalar>

    init(_ o: AdagradOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        sum = StateBuffers("sum", like: parameters, initialValue: Scalar(o.initialAccumulatorValue))
    }

    var buffers: [StateBuffers<Scalar>] { [sum] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, s = sum[i]
            let negCLR = Scalar(-(lr[i] / (1 + Double(t - 1) * o.lrDecay)))
            for j in theta.indices {
                var g = o.maximize ? -grad[j] : grad[j]
                if o.weightDecay != 0 { g = g.addingProduct(lambda, theta[j]) }
                s[j] = s[j].addingProduct(g, g)
                theta[j] += negCLR * g / (s[j].squareRoot() + eps)
            }
        }
    }
}
