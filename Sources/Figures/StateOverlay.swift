import Foundation
import Optim
import Plot
import SurfaceLab
import Surfaces

/// What `--show` draws of an optimizer's state on its path.
public enum StateView: String, CaseIterable, Sendable {
    /// The step just taken, as an arrow from the previous point (true length).
    case step
    /// The momentum buffer (`momentum_buffer` of sgd and rmsprop, `exp_avg` of the Adam family),
    /// as an arrow along −lr·buffer, the direction it pushes; lengths scaled to the panel.
    case velocity
    /// The per-coordinate step size lr/(√v + ε) of adaptive methods (v: Adagrad's `sum`, RMSprop's
    /// `square_avg`, the Adam family's `exp_avg_sq`; Adamax: lr/(u + ε), u its `exp_inf`), as an
    /// axis-aligned ellipse whose radii are in that ratio, the larger a fixed size: its shape is how
    /// much larger a step the optimizer takes in one coordinate than in the other.
    case scale

    static let velocityBuffers = ["momentum_buffer", "exp_avg"]
    static let scaleBuffers = ["exp_avg_sq", "square_avg", "sum", "exp_inf"]
    static let colors: [StateView: Color] = [.step: .text, .velocity: Color(hex: 0xE41A1C), .scale: .white]

    /// What the subtitle says a mark means.
    var key: String {
        switch self {
        case .step: return "→ step"
        case .velocity: return "red → velocity"
        case .scale: return "◯ step size per coordinate"
        }
    }
}

/// The state marks of one path: per view, the steps they sit at and the artist drawing them, so an
/// animation shows the marks of the steps reached so far.
struct StateOverlay {
    struct Marks {
        var steps: [Int]
        var from: [(Double, Double)], to: [(Double, Double)]
        var arrows: ArrowsHandle?
        var ellipses: EllipsesHandle?

        /// Shows the marks of steps ≤ k (all for nil).
        func show(upTo k: Int?) {
            let n = k.map { k in steps.filter { $0 <= k }.count } ?? steps.count
            arrows?.setArrows(from: Array(from.prefix(n)), to: Array(to.prefix(n)))
            ellipses?.setEllipses(centers: Array(from.prefix(n)), radii: Array(to.prefix(n)))
        }
    }

    var marks: [Marks] = []

    init() {}

    /// About ten marks along the path, read from the recorded state (`Trajectories.compare(...,
    /// recordsState: true)`); views whose buffer this optimizer lacks draw nothing.
    init(_ axes: Axes, _ result: TrajectoryResult, _ views: [StateView], window: Window) {
        let points = result.points, last = points.count - 1
        guard last >= 1 else { return }
        let every = max(1, (last + 9) / 10)
        let steps = Array(stride(from: every, through: last, by: every))
        let at = { (k: Int) in (points[k].x, points[k].y) }
        // Arrows and ellipses scaled so the largest reaches a quarter of the window's smaller side.
        let reach = 0.25 * min(window.x.upperBound - window.x.lowerBound, window.y.upperBound - window.y.lowerBound)
        let lr = result.spec.learningRate, eps = Self.eps(result.spec)
        for view in views {
            switch view {
            case .step:
                let from = steps.map { at($0 - 1) }, to = steps.map(at)
                marks.append(Marks(steps: steps, from: from, to: to, arrows: axes.arrows(from: from, to: to, color: StateView.colors[view]!)))
            case .velocity:
                guard let buffer = StateView.velocityBuffers.lazy.compactMap({ result.state[$0] }).first else { continue }
                let pushes = steps.map { (-lr * buffer[$0 - 1].x, -lr * buffer[$0 - 1].y) }
                let longest = pushes.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }.max() ?? 0
                let s = longest > 0 ? reach / longest : 0
                let from = steps.map(at), to = zip(from, pushes).map { ($0.0 + s * $1.0, $0.1 + s * $1.1) }
                marks.append(Marks(steps: steps, from: from, to: to,
                                   arrows: axes.arrows(from: from, to: to, color: StateView.colors[view]!, width: 1.6)))
            case .scale:
                guard let (name, buffer) = StateView.scaleBuffers.lazy.compactMap({ name in result.state[name].map { (name, $0) } }).first else { continue }
                let root = name == "exp_inf" ? { (v: Double) in v } : { (v: Double) in v.squareRoot() }
                let sizes = steps.map { (lr / (root(buffer[$0 - 1].x) + eps), lr / (root(buffer[$0 - 1].y) + eps)) }
                let radii = sizes.map { size -> (Double, Double) in
                    let larger = max(size.0, size.1)
                    return larger > 0 && larger.isFinite ? (0.3 * reach * size.0 / larger, 0.3 * reach * size.1 / larger) : (0, 0)
                }
                marks.append(Marks(steps: steps, from: steps.map(at), to: radii,
                                   ellipses: axes.ellipses(centers: steps.map(at), radii: radii, color: StateView.colors[view]!)))
            }
        }
    }

    /// The spec's eps, or torch's default (Adagrad 1e-10, the others 1e-8).
    static func eps(_ spec: OptimizerSpec) -> Double {
        if case .number(let e)? = spec.arguments.last(where: { $0.key == "eps" })?.value { return e }
        return spec.name == "adagrad" ? 1e-10 : 1e-8
    }

    func animated() { for m in marks { m.arrows?.animated(); m.ellipses?.animated() } }
    func show(upTo k: Int?) { for m in marks { m.show(upTo: k) } }
}
