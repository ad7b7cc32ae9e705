/// Limited-memory BFGS: torch.optim.LBFGS, with its strong-Wolfe line search. One step is up to
/// max_iter iterations, each evaluating the loss through the closure (line search: several times).
/// The parameters are one flat vector (parameter after parameter), so LBFGS is not separable.
///
///     g: flat gradient;  s = t·d, y = g − g_prev kept (history_size pairs) when yᵀs > 1e-10
///     d = −H·g  by the two-loop recursion, H₀ = (yᵀs / yᵀy)·I from the newest pair
///     t = min(1, 1/‖g‖₁)·γ at the first iteration ever, then γ; or the strong-Wolfe line search's t
///     θ ← θ + t·d
///     stop when max|g| ≤ tolerance_grad, gᵀd > −tolerance_change, max|t·d| ≤ tolerance_change,
///     |Δloss| < tolerance_change, max_iter iterations or max_eval evaluations
struct LBFGSOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["lbfgs"]) { _, r in try LBFGSOptions(&r) }

    var lr, toleranceGrad, toleranceChange: Double
    var maxIter, maxEval, historySize: Int
    var strongWolfe, maximize: Bool

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1)
        maxIter = try r.integer("max_iter", default: 20, minimum: 1)
        maxEval = try r.optionalInteger("max_eval", minimum: 1) ?? maxIter * 5 / 4
        toleranceGrad = try r.number("tolerance_grad", default: 1e-7, .any)
        toleranceChange = try r.number("tolerance_change", default: 1e-9, .any)
        historySize = try r.integer("history_size", default: 100, minimum: 1)
        strongWolfe = try r.choice("line_search_fn", ["none", "strong_wolfe"], default: "none") == "strong_wolfe"
        maximize = try r.flag("maximize", default: false)
    }
}

extension LBFGSOptions {
    func rule(_ parameters: [Parameter<Float>]) -> AnyRule<Float> { AnyRule(LBFGS(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) -> AnyRule<Double> { AnyRule(LBFGS(self, parameters)) }
    var isSeparable: Bool { false }
    var needsClosure: Bool { true }
}

final class LBFGS<Scalar: BinaryFloatingPoint>: UpdateRule {
    typealias Vector = [UnsafeMutableBufferPointer<Scalar>]
    let o: LBFGSOptions
    let sizes: [Int]
    /// Saved state (parameter i's slice of each flat vector): d, prev_flat_grad, and the history
    /// pairs, slot k of parameter i at [k·nᵢ, (k+1)·nᵢ) of old_dirs/old_stps; ro on parameter 0.
    let direction, previousGradient, oldDirs, oldSteps, ro: StateBuffers<Scalar>
    /// Scratch: the flat gradient, the two-loop's q/r, the line search's x and its gradients.
    let gradient, work, start, lsPrevious, lsBracket0, lsBracket1, lsTrial: StateBuffers<Scalar>
    var count = 0, first = 0, iterations = 0, evaluations = 0
    var t = 0.0, hDiag = 1.0, previousLoss = 0.0
    var al: [Double]

    init(_ o: LBFGSOptions, _ parameters: [Parameter<Scalar>]) {
        self.o = o
        sizes = parameters.map(\.value.count)
        direction = StateBuffers("d", sizes: sizes)
        previousGradient = StateBuffers("prev_flat_grad", sizes: sizes)
        oldDirs = StateBuffers("old_dirs", sizes: sizes.map { $0 * o.historySize })
        oldSteps = StateBuffers("old_stps", sizes: sizes.map { $0 * o.historySize })
        ro = StateBuffers("ro", sizes: sizes.indices.map { $0 == 0 ? o.historySize : 0 })
        (gradient, work, start) = (StateBuffers("", sizes: sizes), StateBuffers("", sizes: sizes), StateBuffers("", sizes: sizes))
        (lsPrevious, lsBracket0, lsBracket1, lsTrial) = (StateBuffers("", sizes: sizes), StateBuffers("", sizes: sizes),
                                                         StateBuffers("", sizes: sizes), StateBuffers("", sizes: sizes))
        al = Array(repeating: 0, count: o.historySize)
    }

    var buffers: [StateBuffers<Scalar>] { [direction, previousGradient, oldDirs, oldSteps, ro] }

    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] {
        guard i == 0 else { return [] }
        return [("n_iter", Scalar(iterations)), ("func_evals", Scalar(evaluations)), ("t", Scalar(t)),
                ("H_diag", Scalar(hDiag)), ("prev_loss", Scalar(previousLoss)), ("history", Scalar(count)), ("history_first", Scalar(first))]
    }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        guard let s = scalars.first else { return }
        iterations = Int(s["n_iter"] ?? 0)
        evaluations = Int(s["func_evals"] ?? 0)
        self.t = Double(s["t"] ?? 0)
        hDiag = Double(s["H_diag"] ?? 1)
        previousLoss = Double(s["prev_loss"] ?? 0)
        count = Int(s["history"] ?? 0)
        first = Int(s["history_first"] ?? 0)
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        preconditionFailure("lbfgs evaluates the loss several times per step: Optimizer.step(closure:)")
    }

    // MARK: flat-vector arithmetic, parameter after parameter

    private func vector(_ b: StateBuffers<Scalar>) -> Vector { sizes.indices.map { b[$0] } }
    private func slot(_ b: StateBuffers<Scalar>, _ k: Int) -> Vector {
        sizes.indices.map { i in UnsafeMutableBufferPointer(rebasing: b[i][(k * sizes[i])..<((k + 1) * sizes[i])]) }
    }
    /// A 0-dimensional tensor of the parameters' dtype, as torch's dot returns it.
    private func dot(_ a: Vector, _ b: Vector) -> Double {
        var s = 0.0
        for (x, y) in zip(a, b) { for j in x.indices { s += Double(x[j]) * Double(y[j]) } }
        return Double(Scalar(s))
    }
    private func maxAbs(_ a: Vector) -> Double { Double(a.reduce(Scalar(0)) { m, x in x.reduce(m) { max($0, abs($1)) } }) }
    private func copy(_ a: Vector, into b: Vector) { for (x, y) in zip(a, b) { _ = y.update(from: x) } }
    /// a ← a + α·b (torch's add_ with alpha, fused)
    private func add(_ a: Vector, _ alpha: Double, _ b: Vector) {
        let s = Scalar(alpha)
        for (x, y) in zip(a, b) { for j in x.indices { x[j] = x[j].addingProduct(s, y[j]) } }
    }

    private func gather(_ parameters: [Parameter<Scalar>]) {
        for (i, p) in parameters.enumerated() {
            for j in p.grad.indices { gradient[i][j] = o.maximize ? -p.grad[j] : p.grad[j] }
        }
    }

    private func evaluate(_ parameters: [Parameter<Scalar>], _ closure: () throws -> Double) throws -> Double {
        let loss = try closure()
        gather(parameters)
        return o.maximize ? -loss : loss
    }

    func step(_ parameters: [Parameter<Scalar>], lr lrs: [Double], t _: Int, closure: () throws -> Double) throws {
        let lr = lrs.first ?? 0
        let x = parameters.map(\.value), g = vector(gradient), d = vector(direction), prev = vector(previousGradient)
        var loss = try evaluate(parameters, closure)
        var currentEvals = 1
        evaluations += 1
        if maxAbs(g) <= o.toleranceGrad { return }
        var n = 0
        while n < o.maxIter {
            n += 1
            iterations += 1
            if iterations == 1 {
                for (di, gi) in zip(d, g) { for j in di.indices { di[j] = -gi[j] } }
                (count, first, hDiag) = (0, 0, 1)
            } else {
                // y = g − g_prev and s = d·t go into the next history slot (the oldest if full).
                let y = vector(lsBracket0), s = vector(lsBracket1), tScalar = Scalar(t)
                for i in sizes.indices {
                    for j in 0..<sizes[i] {
                        y[i][j] = g[i][j] - prev[i][j]
                        s[i][j] = d[i][j] * tScalar
                    }
                }
                let ys = dot(y, s)
                if ys > 1e-10 {
                    let k = (first + count) % o.historySize
                    if count == o.historySize { first = (first + 1) % o.historySize } else { count += 1 }
                    copy(y, into: slot(oldDirs, k))
                    copy(s, into: slot(oldSteps, k))
                    ro[0][k] = Scalar(1 / ys)
                    hDiag = Double(Scalar(ys / dot(y, y)))
                }
                let q = vector(work)
                for (qi, gi) in zip(q, g) { for j in qi.indices { qi[j] = -gi[j] } }
                for m in stride(from: count - 1, through: 0, by: -1) {
                    let k = (first + m) % o.historySize
                    al[m] = Double(Scalar(dot(slot(oldSteps, k), q) * Double(ro[0][k])))
                    add(q, -al[m], slot(oldDirs, k))
                }
                let h = Scalar(hDiag)
                for (di, qi) in zip(d, q) { for j in di.indices { di[j] = qi[j] * h } }
                for m in 0..<count {
                    let k = (first + m) % o.historySize
                    let be = Double(Scalar(dot(slot(oldDirs, k), d) * Double(ro[0][k])))
                    add(d, al[m] - be, slot(oldSteps, k))
                }
            }
            copy(g, into: prev)
            previousLoss = loss
            if iterations == 1 {
                let l1 = Double(g.reduce(Scalar(0)) { s, v in v.reduce(s) { $0 + abs($1) } })
                let reciprocal = Double(Scalar(1 / l1))
                t = Double(Scalar((reciprocal < 1 ? reciprocal : 1) * lr))
            } else {
                t = Double(Scalar(lr))  // t is saved in the parameters' dtype: use what a resume reads back
            }
            let gtd = dot(g, d)
            if gtd > -o.toleranceChange { break }
            var lsEvals = 0
            var optimal = false
            if o.strongWolfe {
                copy(x, into: vector(start))
                (loss, t, lsEvals) = try strongWolfe(parameters, closure, t: t, f: loss, gtd: gtd, maxLS: o.maxEval - currentEvals)
                t = Double(Scalar(t))
                add(x, t, d)
                optimal = maxAbs(g) <= o.toleranceGrad
            } else {
                add(x, t, d)
                if n != o.maxIter {
                    loss = try evaluate(parameters, closure)
                    optimal = maxAbs(g) <= o.toleranceGrad
                    lsEvals = 1
                }
            }
            currentEvals += lsEvals
            evaluations += lsEvals
            if n == o.maxIter || currentEvals >= o.maxEval || optimal { break }
            if dMaxTimes(d, t) <= o.toleranceChange { break }
            if abs(loss - previousLoss) < o.toleranceChange { break }
        }
    }

    /// max|d·t| as torch computes it (the product rounded in the parameters' dtype).
    private func dMaxTimes(_ d: Vector, _ t: Double) -> Double {
        let s = Scalar(t)
        return Double(d.reduce(Scalar(0)) { m, x in x.reduce(m) { max($0, abs($1 * s)) } })
    }

    /// f and the flat gradient (into `gradient`) at x + t·d; the parameters are put back to x.
    private func directional(_ parameters: [Parameter<Scalar>], _ closure: () throws -> Double, _ t: Double) throws -> Double {
        let x = parameters.map(\.value)
        add(x, t, vector(direction))
        let loss = try evaluate(parameters, closure)
        copy(vector(start), into: x)
        return loss
    }

    /// torch's `_cubic_interpolate`: the minimum of the cubic through two points with slopes.
    private func cubic(_ x1: Double, _ f1: Double, _ g1: Double, _ x2: Double, _ f2: Double, _ g2: Double,
                       bounds: (Double, Double)? = nil) -> Double {
        let (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1))
        let d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        let d2Square = d1 * d1 - g1 * g2
        guard d2Square >= 0 else { return (lo + hi) / 2 }
        let d2 = d2Square.squareRoot()
        let minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                              : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        let low = lo > minPos ? lo : minPos  // Python's max(min_pos, lo) and min(·, hi)
        return hi < low ? hi : low
    }

    /// torch's `_strong_wolfe` (c1 = 1e-4, c2 = 0.9). Returns the loss, the step t and the number
    /// of evaluations; leaves the gradient at the chosen point in `gradient`.
    private func strongWolfe(_ parameters: [Parameter<Scalar>], _ closure: () throws -> Double, t tInit: Double,
                             f: Double, gtd: Double, maxLS: Int) throws -> (Double, Double, Int) {
        let (c1, c2) = (1e-4, 0.9)
        let g = vector(gradient), d = vector(direction)
        let dNorm = maxAbs(d)
        // Gradients: the start's (g_prev at first), bracket ends', the trial's.
        let gStart = vector(lsPrevious), b0 = vector(lsBracket0), b1 = vector(lsBracket1), gNew = vector(lsTrial)
        copy(g, into: gStart)
        var evals = 0
        /// f and gᵀd at x + t·d, its gradient in gNew.
        func trial(_ t: Double) throws -> (Double, Double) {
            let f = try directional(parameters, closure, t)
            copy(g, into: gNew)
            evals += 1
            return (f, dot(gNew, d))
        }
        var t = tInit
        var (fNew, gtdNew) = try trial(t)
        var (tPrev, fPrev, gtdPrev) = (0.0, f, gtd)
        let gPrev = vector(work)
        copy(gStart, into: gPrev)
        var done = false, lsIter = 0
        var bracket: [Double] = [], bracketF: [Double] = [], bracketGtd: [Double] = []
        var bracketG: [Vector] = []
        while lsIter < maxLS {
            if fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev) {
                copy(gPrev, into: b0); copy(gNew, into: b1)
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [b0, b1], [gtdPrev, gtdNew])
                break
            }
            if abs(gtdNew) <= -c2 * gtd {
                copy(gNew, into: b0)
                (bracket, bracketF, bracketG) = ([t], [fNew], [b0])
                done = true
                break
            }
            if gtdNew >= 0 {
                copy(gPrev, into: b0); copy(gNew, into: b1)
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [b0, b1], [gtdPrev, gtdNew])
                break
            }
            let minStep = t + 0.01 * (t - tPrev), maxStep = t * 10
            let previousT = t
            t = cubic(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, bounds: (minStep, maxStep))
            tPrev = previousT
            fPrev = fNew
            copy(gNew, into: gPrev)
            gtdPrev = gtdNew
            (fNew, gtdNew) = try trial(t)
            lsIter += 1
        }
        if lsIter == maxLS {
            copy(gStart, into: b0); copy(gNew, into: b1)
            (bracket, bracketF, bracketG) = ([0, t], [f, fNew], [b0, b1])
        }
        var insufficientProgress = false
        var (low, high) = bracketF[0] <= bracketF[bracketF.count - 1] ? (0, 1) : (1, 0)
        while !done && lsIter < maxLS {
            if abs(bracket[1] - bracket[0]) * dNorm < o.toleranceChange { break }
            t = cubic(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1])
            let (top, bottom) = (bracket.max()!, bracket.min()!)
            let eps = 0.1 * (top - bottom)
            if min(top - t, t - bottom) < eps {
                if insufficientProgress || t >= top || t <= bottom {
                    t = abs(t - top) < abs(t - bottom) ? top - eps : bottom + eps
                    insufficientProgress = false
                } else {
                    insufficientProgress = true
                }
            } else {
                insufficientProgress = false
            }
            (fNew, gtdNew) = try trial(t)
            lsIter += 1
            if fNew > f + c1 * t * gtd || fNew >= bracketF[low] {
                (bracket[high], bracketF[high], bracketGtd[high]) = (t, fNew, gtdNew)
                copy(gNew, into: bracketG[high])
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0)
            } else {
                if abs(gtdNew) <= -c2 * gtd {
                    done = true
                } else if gtdNew * (bracket[high] - bracket[low]) >= 0 {
                    (bracket[high], bracketF[high], bracketGtd[high]) = (bracket[low], bracketF[low], bracketGtd[low])
                    copy(bracketG[low], into: bracketG[high])
                }
                (bracket[low], bracketF[low], bracketGtd[low]) = (t, fNew, gtdNew)
                copy(gNew, into: bracketG[low])
            }
        }
        copy(bracketG[low], into: g)
        return (bracketF[low], bracket[low], evals)
    }
}
