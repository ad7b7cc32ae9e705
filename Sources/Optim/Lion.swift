/// Lion, evolved sign momentum: lion-pytorch's `Lion` (Chen et al., 2023).
///
///     θ ← θ(1 − γλ)
///     u ← sign(β₁m + (1−β₁)g)
///     θ ← θ − γu
///     m ← β₂m + (1−β₂)g
struct LionOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["lion"]) { _, r in try LionOptions(&r) }

    var lr, beta1, beta2, weightDecay: Double

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-4, .positive)
        (beta1, beta2) = try r.pair("betas", default: (0.9, 0.99), .unitClosed)
        weightDecay = try r.number("weight_decay", default: 0, .any)
    }
}

extension LionOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Lion(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Lion(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .beta1 }
    mutating func setMomentum(_ m: Double) { beta1 = m }
}

final class Lion<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { beta1 = m }
    let o: LionOptions
    let expAvg: StateBuffers<Scalar>
    /// β₁: the spec's, or what a onecycle schedule set for this step.
    @exclusivity(unchecked) var beta1: Double

    init(_ o: LionOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        beta1 = o.beta1
        expAvg = StateBuffers("exp_avg", like: parameters)
    }

    var buffers: [StateBuffers<Scalar>] { [expAvg] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let b1 = Scalar(beta1), w1 = Scalar(1 - beta1), b2 = Scalar(o.beta2), w2 = Scalar(1 - o.beta2)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, m = expAvg[i]
            let decay = Scalar(1 - lr[i] * o.weightDecay), negLR = Scalar(-lr[i])
            for j in theta.indices {
                let g = grad[j]
                theta[j] *= decay
                let u = (m[j] * b1).addingProduct(w1, g)
                theta[j] = theta[j].addingProduct(negLR, u > 0 ? 1 : u < 0 ? -1 : u)
                m[j] = (m[j] * b2).addingProduct(w2, g)
            }
        }
    }
}
