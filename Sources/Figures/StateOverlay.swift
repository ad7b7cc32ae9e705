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
    /// The colour its marks are drawn in.
    public var color: Color { Self.colors[self]! }

    /// What the subtitle says a mark means.
    var key: String {
        switch self {
        case .step: return "→ step"
        case .velocity: return "red → velocity"
        case .scale: return "◯ step size per coordinate"
        }
    }
}

/// The `--show` marks of one path for one view, in data coordinates: the steps they sit at, and
/// per step where the mark starts and ends (for `scale`, the ellipse's centre and its radii).
/// What the figures draw and `optlab serve`'s page is sent.
public struct StateMarks: Sendable {
    public let view: StateView
    public let steps: [Int]
    public let from: [(Double, Double)], to: [(Double, Double)]

    /// About ten marks along the path, read from the recorded state (`Trajectories.compare(...,
    /// recordsState: true)`); views whose buffer this optimizer lacks give none.
    public static func of(_ result: TrajectoryResult, _ views: [StateView], window: Window) -> [StateMarks] {
        let points = result.points, last = points.count - 1
        guard last >= 1 else { return [] }
        let every = max(1, (last + 9) / 10)
        let steps = Array(stride(from: every, through: last, by: every))
        let at = { (k: Int) in (points[k].x, points[k].y) }
        // Arrows and ellipses scaled so the largest reaches a quarter of the window's smaller side.
        let reach = 0.25 * min(window.x.upperBound - window.x.lowerBound, window.y.upperBound - window.y.lowerBound)
        let lr = result.spec.learningRate, eps = eps(result.spec)
        return views.compactMap { view in
            switch view {
            case .step:
                return StateMarks(view: view, steps: steps, from: steps.map { at($0 - 1) }, to: steps.map(at))
            case .velocity:
                guard let buffer = StateView.velocityBuffers.lazy.compactMap({ result.state[$0] }).first else { return nil }
                let pushes = steps.map { (-lr * buffer[$0 - 1].x, -lr * buffer[$0 - 1].y) }
                let longest = pushes.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }.max() ?? 0
                let s = longest > 0 ? reach / longest : 0
                let from = steps.map(at)
                return StateMarks(view: view, steps: steps, from: from, to: zip(from, pushes).map { ($0.0 + s * $1.0, $0.1 + s * $1.1) })
            case .scale:
                guard let (name, buffer) = StateView.scaleBuffers.lazy.compactMap({ name in result.state[name].map { (name, $0) } }).first else { return nil }
                let root = name == "exp_inf" ? { (v: Double) in v } : { (v: Double) in v.squareRoot() }
                let sizes = steps.map { (lr / (root(buffer[$0 - 1].x) + eps), lr / (root(buffer[$0 - 1].y) + eps)) }
                let radii = sizes.map { size -> (Double, Double) in
                    let larger = max(size.0, size.1)
                    return larger > 0 && larger.isFinite ? (0.3 * reach * size.0 / larger, 0.3 * reach * size.1 / larger) : (0, 0)
                }
                return StateMarks(view: view, steps: steps, from: steps.map(at), to: radii)
            }
        }
    }

    /// The spec's eps, or torch's default (Adagrad 1e-10, the others 1e-8).
    static func eps(_ spec: OptimizerSpec) -> Double {
        if case .number(let e)? = spec.arguments.last(where: { $0.key == "eps" })?.value { return e }
        return spec.name == "adagrad" ? 1e-10 : 1e-8
    }
}

/// The state marks of one path drawn on its axes, per view, so an animation shows the marks of
/// the steps reached so far.
struct StateOverlay {
    struct Marks {
        var marks: StateMarks
        var arrows: ArrowsHandle?
        var ellipses: EllipsesHandle?

        /// Shows the marks of steps ≤ k (all for nil).
        func show(upTo k: Int?) {
            let n = k.map { k in marks.steps.filter { $0 <= k }.count } ?? marks.steps.count
            arrows?.setArrows(from: Array(marks.from.prefix(n)), to: Array(marks.to.prefix(n)))
            ellipses?.setEllipses(centers: Array(marks.from.prefix(n)), radii: Array(marks.to.prefix(n)))
        }
    }

    var marks: [Marks] = []

    init() {}

    init(_ axes: Axes, _ result: TrajectoryResult, _ views: [StateView], window: Window) {
        marks = StateMarks.of(result, views, window: window).map { m in
            let color = m.view.color
            switch m.view {
            case .step: return Marks(marks: m, arrows: axes.arrows(from: m.from, to: m.to, color: color))
            case .velocity: return Marks(marks: m, arrows: axes.arrows(from: m.from, to: m.to, color: color, width: 1.6))
            case .scale: return Marks(marks: m, ellipses: axes.ellipses(centers: m.from, radii: m.to, color: color))
            }
        }
    }

    func animated() { for m in marks { m.arrows?.animated(); m.ellipses?.animated() } }
    func show(upTo k: Int?) { for m in marks { m.show(upTo: k) } }
}
