import Foundation

/// Averaged stochastic gradient descent: torch.optim.ASGD. The path is the iterate θ; `ax`
/// averages the iterates from step t₀ on.
///
///     g ← g + λ_wd·θ                  if weight_decay ≠ 0
///     θ ← θ(1 − λη)                   λ: lambd, η: eta (γ at t = 1)
///     θ ← θ − ηg
///     ax ← ax + μ(θ − ax)             (ax ← θ while μ = 1)
///     η ← γ / (1 + λγt)^α             α: alpha
///     μ ← 1 / max(1, t − t₀)
struct ASGDOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["asgd"]) { _, r in try ASGDOptions(&r) }
    var learningRateFamily: LearningRateFamily { .gradient }

    var lr, lambd, alpha, t0, weightDecay: Double
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-2)
        lambd = try r.number("lambd", default: 1e-4)
        alpha = try r.number("alpha", default: 0.75)
        t0 = try r.number("t0", default: 1e6, .any)
        weightDecay = try r.number("weight_decay", default: 0)
        maximize = try r.flag("maximize", default: false)
    }
}

extension ASGDOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(ASGD(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(ASGD(self, parameters)) }
    var averagedPoint: String? { "ax" }
}

final class ASGD<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: ASGDOptions
    let ax: StateBuffers<Scalar>
    /// η and μ per parameter, in the parameters' precision as torch keeps them in tensors.
    var eta: [Scalar], mu: [Scalar]

    init(_ o: ASGDOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        ax = StateBuffers("ax", like: parameters)
        eta = Array(repeating: Scalar(o.lr), count: parameters.count)
        mu = Array(repeating: 1, count: parameters.count)
    }

    var buffers: [StateBuffers<Scalar>] { [ax] }

    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] { [("eta", eta[i]), ("mu", mu[i])] }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        for i in scalars.indices {
            eta[i] = scalars[i]["eta"] ?? eta[i]
            mu[i] = scalars[i]["mu"] ?? mu[i]
        }
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let (maximize, decays, lambda) = (o.maximize, o.weightDecay != 0, Scalar(o.weightDecay))
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, average = ax[i]
            // torch's first step uses the eta its state was created with: the lr of that step.
            if t == 1 { eta[i] = Scalar(lr[i]) }
            let etaValue = Double(eta[i]), weight = mu[i]
            let shrink = Scalar(1 - o.lambd * etaValue), negEta = Scalar(-etaValue)
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                if decays { g = g.addingProduct(lambda, theta[j]) }
                theta[j] *= shrink
                theta[j] = theta[j].addingProduct(negEta, g)
                average[j] = weight != 1 ? average[j] + (theta[j] - average[j]) * weight : theta[j]
            }
            eta[i] = Scalar(lr[i] / pow(1 + o.lambd * lr[i] * Double(t), o.alpha))
            mu[i] = Scalar(1 / max(1, Double(t) - o.t0))
        }
    }
}
