import Foundation

/// Adafactor: torch.optim.Adafactor. Parameters of two or more dimensions keep factored second
/// moments, one per row and one per column of their last two dimensions, instead of one per element.
///
///     β̂ₜ = t^c                        c: beta2_decay (so 1 − β₂ₜ = t^c)
///     ρₜ = min(γ, 1/√t)
///     α = max(ε₂, ‖θ‖/√n) · ρₜ        n: elements, ε = (ε₁, ε₂), ε₁ = the dtype's eps if none
///     θ ← θ(1 − γλ)
///     factored:  R ← R + β̂ₜ(mean_cols(g²) − R),  C ← C + β̂ₜ(mean_rows(g²) − C)
///                v̂ = R·C / max(mean_rows(R), ε₁)
///     otherwise: v ← v + β̂ₜ(g² − v),  v̂ = v
///     u = g / √max(v̂, ε₁²)
///     θ ← θ − α / max(1, ‖u‖/(√n·d)) · u
struct AdafactorOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["adafactor"]) { _, r in try AdafactorOptions(&r) }

    var lr, beta2Decay, eps2, d, weightDecay: Double
    var eps1: Double?
    var maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-2)
        beta2Decay = try r.number("beta2_decay", default: -0.8, .any)
        let eps = try r.numbers("eps", default: [nil, 1e-3], optional: [true, false], .nonNegative)
        (eps1, eps2) = (eps[0], eps[1]!)
        d = try r.number("d", default: 1)
        weightDecay = try r.number("weight_decay", default: 0)
        maximize = try r.flag("maximize", default: false)
        guard beta2Decay <= 0 else { throw OptimError("\(r.owner): beta2_decay=\(SpecValue.format(beta2Decay)) must be ≤ 0") }
        guard d >= 1 else { throw OptimError("\(r.owner): d=\(SpecValue.format(d)) must be ≥ 1 (the clipping threshold)") }
    }
}

extension AdafactorOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(Adafactor(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(Adafactor(self, parameters)) }
}

final class Adafactor<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: AdafactorOptions
    /// Factored parameters: [batch, rows, cols] of their shape; nil for vectors.
    let factors: [(batch: Int, rows: Int, cols: Int)?]
    let rowVar, colVar, variance: StateBuffers<Scalar>
    /// The update u of the largest parameter, reused every step.
    let update: UnsafeMutableBufferPointer<Scalar>

    init(_ o: AdafactorOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        factors = parameters.map { p in
            guard p.shape.count >= 2 else { return nil }
            return (p.shape.dropLast(2).reduce(1, *), p.shape[p.shape.count - 2], p.shape[p.shape.count - 1])
        }
        rowVar = StateBuffers("row_var", sizes: factors.map { $0.map { $0.batch * $0.rows } ?? 0 })
        colVar = StateBuffers("col_var", sizes: factors.map { $0.map { $0.batch * $0.cols } ?? 0 })
        variance = StateBuffers("variance", sizes: zip(parameters, factors).map { $1 == nil ? $0.value.count : 0 })
        update = .allocate(capacity: parameters.map(\.value.count).max() ?? 0)
    }

    deinit { update.deallocate() }

    var buffers: [StateBuffers<Scalar>] { [rowVar, colVar, variance] }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let step = Double(t)
        let eps1 = o.eps1 ?? (Scalar.self == Float.self ? Double(Float.ulpOfOne) : Double.ulpOfOne)
        let w = Scalar(pow(step, o.beta2Decay)), floor = Scalar(eps1 * eps1)
        for (i, p) in parameters.enumerated() {
            let theta = p.value, n = theta.count
            let g = UnsafeMutableBufferPointer(rebasing: update[0..<n])
            for j in 0..<n { g[j] = o.maximize ? -p.grad[j] : p.grad[j] }
            let rho = min(lr[i], 1 / pow(step, 0.5))
            let alpha = max(o.eps2, norm(theta) / pow(Double(n), 0.5)) * rho
            if o.weightDecay != 0 {
                let decay = Scalar(1 - lr[i] * o.weightDecay)
                for j in 0..<n { theta[j] *= decay }
            }
            // g becomes the update u in place: every element is read before it is overwritten.
            if let f = factors[i] {
                let row = rowVar[i], col = colVar[i]
                for b in 0..<f.batch {
                    let base = b * f.rows * f.cols
                    for r in 0..<f.rows {
                        var s = 0.0
                        for c in 0..<f.cols { s += square(g[base + r * f.cols + c]) }
                        let mean = Scalar(s.squareRoot()) * Scalar(s.squareRoot()) / Scalar(f.cols)
                        row[b * f.rows + r] = row[b * f.rows + r].lerp(to: mean, weight: w)
                    }
                    for c in 0..<f.cols {
                        var s = 0.0
                        for r in 0..<f.rows { s += square(g[base + r * f.cols + c]) }
                        let mean = Scalar(s.squareRoot()) * Scalar(s.squareRoot()) / Scalar(f.rows)
                        col[b * f.cols + c] = col[b * f.cols + c].lerp(to: mean, weight: w)
                    }
                    var rowSum: Scalar = 0
                    for r in 0..<f.rows { rowSum += row[b * f.rows + r] }
                    let rowMean = max(rowSum / Scalar(f.rows), Scalar(eps1))
                    for r in 0..<f.rows {
                        for c in 0..<f.cols {
                            let v = row[b * f.rows + r] * col[b * f.cols + c] / rowMean
                            g[base + r * f.cols + c] *= 1 / max(v, floor).squareRoot()
                        }
                    }
                }
            } else {
                let v = variance[i]
                for j in 0..<n {
                    v[j] = v[j].lerp(to: g[j] * g[j], weight: w)
                    g[j] *= 1 / max(v[j], floor).squareRoot()
                }
            }
            let denom = max(1, norm(g) / (pow(Double(n), 0.5) * o.d))
            let scale = Scalar(-alpha / denom)
            for j in 0..<n { theta[j] = theta[j].addingProduct(scale, g[j]) }
        }
    }

    @inline(__always)
    private func square(_ x: Scalar) -> Double { Double(x) * Double(x) }

    /// ‖x‖₂ in the parameters' precision, as torch's norm returns it, accumulated in double.
    private func norm(_ x: UnsafeMutableBufferPointer<Scalar>) -> Double {
        var s = 0.0
        for v in x { s += square(v) }
        return Double(Scalar(s.squareRoot()))
    }
}
