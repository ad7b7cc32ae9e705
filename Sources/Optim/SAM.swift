/// Sharpness-aware minimization: pytorch-optimizer's `SAM` (Foret et al., 2021) over any base
/// spec. Each step takes the gradient at w, climbs to the worst nearby point w + e and steps the
/// base optimizer from w with the gradient found there: two evaluations per step.
///
///     g = ∇f(w)
///     ‖g‖ = √(Σ over parameters of ‖g_p‖², or ‖g_p·|w_p|‖² if adaptive) + 1e-12   (float32, as the package)
///     e = ρ/‖g‖ · g                        (adaptive: ρ/‖g‖ · w²·g)
///     g ← ∇f(w + e);  w ← base step from w with g
/// The global norm couples the parameters, so SAM is not separable.
struct SAMOptions: WrapperOptions, Equatable {
    static let algorithm = Algorithm(names: ["sam"], read: { _, r in try SAMOptions(&r) }, wraps: true)
    static let perturbEps = 1e-12

    var rho: Double
    var adaptive: Bool
    var base: OptimizerSpec

    init(_ r: inout ArgumentReader) throws {
        rho = try r.number("rho", default: 0.05)
        adaptive = try r.flag("adaptive", default: false)
        base = try r.base()
        guard !base.options.needsClosure else {
            throw OptimError("\(r.owner): base=\(base.name) evaluates the loss itself; the base of sam must take one gradient per step")
        }
    }
}

extension SAMOptions {
    func rule(_ parameters: [Parameter<Float>]) throws -> AnyRule<Float> {
        AnyRule(SAM(self, parameters, base: try base.options.rule(parameters)))
    }
    func rule(_ parameters: [Parameter<Double>]) throws -> AnyRule<Double> {
        AnyRule(SAM(self, parameters, base: try base.options.rule(parameters)))
    }
    var isSeparable: Bool { false }
    var needsClosure: Bool { true }
}

final class SAM<Scalar: BinaryFloatingPoint>: WrapperRule {
    let o: SAMOptions
    let base: AnyRule<Scalar>
    /// w while the parameters hold w + e (the package's transient old_p).
    let saved: StateBuffers<Scalar>

    init(_ o: SAMOptions, _ parameters: [Parameter<Scalar>], base: AnyRule<Scalar>) {
        self.o = o
        self.base = base
        saved = StateBuffers("old_p", like: parameters)
    }

    var ownBuffers: [StateBuffers<Scalar>] { [] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        preconditionFailure("sam evaluates the loss twice per step: Optimizer.step(closure:)")
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int, closure: () throws -> Double) throws {
        _ = try closure()
        // The package sums the squared per-parameter norms in float32.
        var squares: Float = 0
        for p in parameters {
            var s = 0.0
            for j in p.value.indices {
                let g = o.adaptive ? p.grad[j] * abs(p.value[j]) : p.grad[j]
                s += Double(g) * Double(g)
            }
            let norm = Float(Scalar(s.squareRoot()))
            squares += norm * norm
        }
        let gradNorm = squares.squareRoot() + Float(SAMOptions.perturbEps)
        let scale = Scalar((1 / gradNorm) * Float(o.rho))  // ρ / tensor is tensor.reciprocal() * ρ in torch
        for (i, p) in parameters.enumerated() {
            let w = p.value, g = p.grad, old = saved[i]
            for j in w.indices {
                old[j] = w[j]
                w[j] += (o.adaptive ? w[j] * w[j] * g[j] : g[j]) * scale
            }
        }
        _ = try closure()
        for (i, p) in parameters.enumerated() { _ = p.value.update(from: saved[i]) }
        base.step(parameters, lr, t)
    }
}
