/// RMSprop: torch.optim.RMSprop.
///
///     g ← g + λθ                     if λ ≠ 0
///     v ← αv + (1−α)g²               v = square_avg
///     ḡ ← ḡ + (1−α)(g − ḡ)           centered only: ḡ = grad_avg
///     d = √(v − ḡ²) + ε if centered, else √v + ε
///     b ← μb + g/d,  θ ← θ − γb      if μ > 0
///     θ ← θ − γ · g/d                otherwise
struct RMSpropOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["rmsprop"]) { _, r in try RMSpropOptions(&r) }

    var lr, alpha, eps, weightDecay, momentum: Double
    var centered, maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-2)
        alpha = try r.number("alpha", default: 0.99)
        eps = try r.number("eps", default: 1e-8)
        weightDecay = try r.number("weight_decay", default: 0)
        momentum = try r.number("momentum", default: 0)
        centered = try r.flag("centered", default: false)
        maximize = try r.flag("maximize", default: false)
    }
}

extension RMSpropOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(RMSprop(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(RMSprop(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .momentum }
    mutating func setMomentum(_ m: Double) { momentum = m }
}

final class RMSprop<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { momentum = m }
    let o: RMSpropOptions
    let squareAvg: StateBuffers<Scalar>
    let momentumBuffer, gradAvg: StateBuffers<Scalar>?
    /// μ: the spec's, or what a onecycle schedule set for this step.
    @exclusivity(unchecked) var momentum: Double

    init(_ o: RMSpropOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        momentum = o.momentum
        squareAvg = StateBuffers("square_avg", like: parameters)
        momentumBuffer = o.momentum > 0 ? StateBuffers("momentum_buffer", like: parameters) : nil
        gradAvg = o.centered ? StateBuffers("grad_avg", like: parameters) : nil
    }

    var buffers: [StateBuffers<Scalar>] { [squareAvg] + [momentumBuffer, gradAvg].compactMap { $0 } }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let eps = Scalar(o.eps), lambda = Scalar(o.weightDecay)
        // Options as local constants, as in SGD: the loop then tests registers, not memory.
        let (maximize, decays) = (o.maximize, o.weightDecay != 0)
        let alpha = Scalar(o.alpha), w = Scalar(1 - o.alpha), mu = Scalar(momentum)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, v = squareAvg[i], b = momentumBuffer?[i], gAvg = gradAvg?[i]
            let negLR = Scalar(-lr[i])
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                if decays { g = g.addingProduct(lambda, theta[j]) }
                v[j] = (v[j] * alpha).addingProduct(w * g, g)
                var d: Scalar
                if let gAvg {
                    gAvg[j] = gAvg[j].lerp(to: g, weight: w)
                    d = v[j].addingProduct(-gAvg[j], gAvg[j]).squareRoot()
                } else {
                    d = v[j].squareRoot()
                }
                d += eps
                if let b {
                    b[j] = b[j] * mu + g / d
                    theta[j] = theta[j].addingProduct(negLR, b[j])
                } else {
                    theta[j] += negLR * g / d
                }
            }
        }
    }
}
