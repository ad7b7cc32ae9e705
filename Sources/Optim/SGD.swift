/// Stochastic gradient descent with optional (Nesterov) momentum: torch.optim.SGD.
///
///     g ← g + λθ                     if λ ≠ 0
///     b ← g                          at t = 1 (the first momentum step is not dampened)
///     b ← μb + (1−τ)g                at t > 1            } only if μ ≠ 0
///     g ← g + μb if nesterov, else b                     }
///     θ ← θ − γg
struct SGDOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["sgd"]) { _, r in try SGDOptions(&r) }

    var lr, momentum, dampening, weightDecay: Double
    var nesterov, maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-3)
        momentum = try r.number("momentum", default: 0)
        dampening = try r.number("dampening", default: 0, .any)
        weightDecay = try r.number("weight_decay", default: 0)
        nesterov = try r.flag("nesterov", default: false)
        maximize = try r.flag("maximize", default: false)
        if nesterov, momentum <= 0 || dampening != 0 {
            throw OptimError("\(r.owner): nesterov=true needs momentum > 0 and dampening=0 (got momentum=\(SpecValue.format(momentum)), dampening=\(SpecValue.format(dampening)))")
        }
    }
}

extension SGDOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(SGD(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(SGD(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .momentum }
    mutating func setMomentum(_ m: Double) { momentum = m }
}

final class SGD<Scalar: BinaryFloatingPoint>: UpdateRule {
    func setMomentum(_ m: Double) { momentum = m }
    let o: SGDOptions
    let momentumBuffer: StateBuffers<Scalar>?
    /// μ: the spec's, or what a onecycle schedule set for this step.
    @exclusivity(unchecked) var momentum: Double

    init(_ o: SGDOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        momentum = o.momentum
        momentumBuffer = o.momentum != 0 ? StateBuffers("momentum_buffer", like: parameters) : nil
    }

    var buffers: [StateBuffers<Scalar>] { momentumBuffer.map { [$0] } ?? [] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let lambda = Scalar(o.weightDecay), mu = Scalar(momentum)
        let undamped = Scalar(1 - o.dampening)
        // The options as local constants, so the compiler takes the branches out of the loops and
        // vectorises them (read through `o` every element, they kept SGD at one float per
        // instruction: a fifth of the tutorial net's step at batch 4).
        let (maximize, decays, nesterov, first) = (o.maximize, o.weightDecay != 0, o.nesterov, t == 1)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, grad = p.grad, negLR = Scalar(-lr[i])
            // A loop of its own with momentum: one loop with `if let b` inside stayed half scalar.
            guard let b = momentumBuffer?[i] else {
                for j in theta.indices {
                    var g = maximize ? -grad[j] : grad[j]
                    if decays { g = g.addingProduct(lambda, theta[j]) }
                    theta[j] = theta[j].addingProduct(negLR, g)
                }
                continue
            }
            for j in theta.indices {
                var g = maximize ? -grad[j] : grad[j]
                if decays { g = g.addingProduct(lambda, theta[j]) }
                b[j] = first ? g : (b[j] * mu).addingProduct(undamped, g)
                g = nesterov ? g.addingProduct(mu, b[j]) : b[j]
                theta[j] = theta[j].addingProduct(negLR, g)
            }
        }
    }
}
