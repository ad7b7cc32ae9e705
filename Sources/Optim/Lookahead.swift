/// Lookahead: pytorch-optimizer's `Lookahead` (Zhang et al., 2019; pullback_momentum none) over
/// any base spec. The base optimizer takes k fast steps; then the weights move a fraction α back
/// towards the slow weights, which become the new point.
///
///     w ← base step                         every step
///     w ← w + (1−α)(w_slow − w);  w_slow ← w      every k-th step
struct LookaheadOptions: WrapperOptions, Equatable {
    static let algorithm = Algorithm(names: ["lookahead"], read: { _, r in try LookaheadOptions(&r) }, wraps: true)

    var k: Int
    var alpha: Double
    var base: OptimizerSpec

    init(_ r: inout ArgumentReader) throws {
        k = try r.integer("k", default: 5, minimum: 1)
        alpha = try r.number("alpha", default: 0.5, .unitClosed)
        base = try r.base()
    }
}

extension LookaheadOptions {
    func rule(_ parameters: [Parameter<Float>]) throws -> AnyRule<Float> {
        AnyRule(Lookahead(self, parameters, base: try base.options.rule(parameters)))
    }
    func rule(_ parameters: [Parameter<Double>]) throws -> AnyRule<Double> {
        AnyRule(Lookahead(self, parameters, base: try base.options.rule(parameters)))
    }
    var isSeparable: Bool { base.options.isSeparable }
    var needsClosure: Bool { base.options.needsClosure }
    var hasEvaluationPoint: Bool { base.options.hasEvaluationPoint }
}

final class Lookahead<Scalar: BinaryFloatingPoint>: WrapperRule {
    let o: LookaheadOptions
    let base: AnyRule<Scalar>
    let slow: StateBuffers<Scalar>

    /// The slow weights start as the parameters' values, as the package copies them when built.
    init(_ o: LookaheadOptions, _ parameters: [Parameter<Scalar>], base: AnyRule<Scalar>) {
        self.o = o
        self.base = base
        slow = StateBuffers("slow_params", like: parameters)
        for (i, p) in parameters.enumerated() { _ = slow[i].update(from: p.value) }
    }

    var ownBuffers: [StateBuffers<Scalar>] { [slow] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        base.step(parameters, lr, t)
        synchronize(parameters, t: t)
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int, closure: () throws -> Double) throws {
        try base.closureStep(parameters, lr, t, closure)
        synchronize(parameters, t: t)
    }

    /// The package's counter reaches k on every k-th step.
    private func synchronize(_ parameters: [Parameter<Scalar>], t: Int) {
        guard t % o.k == 0 else { return }
        let w = Scalar(1 - o.alpha)
        for (i, p) in parameters.enumerated() {
            let fast = p.value, s = slow[i]
            for j in fast.indices {
                fast[j] = fast[j].lerp(to: s[j], weight: w)
                s[j] = fast[j]
            }
        }
    }
}
