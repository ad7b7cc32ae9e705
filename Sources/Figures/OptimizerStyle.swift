import Optim
import Plot

/// How an optimizer looks, decided in this one place for every figure (trajectories, learning-rate
/// sweeps, CIFAR comparisons): its colour comes from its algorithm, so `sgd(momentum=0.9)` and
/// `momentum` are the same orange in all of them; its dash tells apart specs of one algorithm
/// drawn together (the plain run and the one with a schedule, or two learning rates).
public struct OptimizerStyle: Equatable, Sendable {
    public let color: Color
    /// Dash lengths in points; empty for a solid line.
    public let dash: [Double]

    /// Fixed colours (from Plot's colour-blind-safe `Palette`) for the algorithms optlab knows,
    /// by family, no two alike. A new algorithm gets a row in its family with a colour of its own.
    static let families: [(family: String, algorithms: [(name: String, color: Color)])] = [
        ("SGD", [("sgd", Color(hex: 0x0072B2)),  // blue
                 ("momentum", Color(hex: 0xE69F00)),  // orange
                 ("nesterov", Color(hex: 0x000000))]),  // black
        ("per-coordinate rates", [("adagrad", Color(hex: 0x009E73)),  // bluish green
                                  ("rmsprop", Color(hex: 0x56B4E9)),  // sky blue
                                  ("adadelta", Color(hex: 0x882255))]),  // wine
        ("Adam", [("adam", Color(hex: 0xD55E00)),  // vermillion
                  ("adamw", Color(hex: 0xCC79A7)),  // reddish purple
                  ("nadam", Color(hex: 0x999933)),  // olive
                  ("radam", Color(hex: 0x332288)),  // indigo
                  ("adamax", Color(hex: 0x44AA99))]),  // teal
        // Beyond the classic set: Paul Tol's remaining muted, vibrant and high-contrast colours,
        // which keep the palette's rule (distinct for the common colour-blindnesses, dark enough
        // on white). Wrappers (sam, lookahead) have no colour of their own: they are drawn in
        // their base's, dashed beside it.
        ("sign and step size", [("rprop", Color(hex: 0xEE3377)),  // magenta
                                ("lion", Color(hex: 0xCC6677))]),  // rose
        ("averaging", [("asgd", Color(hex: 0xBBBBBB)),  // grey
                       ("sgd_schedulefree", Color(hex: 0x88CCEE)),  // cyan
                       ("adamw_schedulefree", Color(hex: 0xAA4499))]),  // purple
        ("factored, orthogonalised, second-order", [("adafactor", Color(hex: 0xDDAA33)),  // ochre
                                                    ("muon", Color(hex: 0x117733)),  // green
                                                    ("lbfgs", Color(hex: 0x661100))]),  // brown
        ("learning-rate-free", [("prodigy", Color(hex: 0xDDCC77))]),  // sand
    ]

    private static let colors = Dictionary(uniqueKeysWithValues: families.flatMap(\.algorithms).map { ($0.name, $0.color) })

    /// The spec's colour: its algorithm's, or for an algorithm without a row a palette colour
    /// from a stable hash of its name.
    public static func color(_ spec: OptimizerSpec) -> Color {
        let key = colorKey(spec)
        return colors[key] ?? Palette.color(forKey: key)
    }

    /// The styles of specs drawn together in one figure, in their order: each in its colour, solid,
    /// except that a spec sharing its colour with earlier ones is dashed (the second) or dotted
    /// (the third on).
    public static func styles(_ specs: [OptimizerSpec]) -> [OptimizerStyle] {
        let keys = specs.map(colorKey)
        return specs.indices.map { i in
            let earlier = keys[..<i].filter { $0 == keys[i] }.count
            return OptimizerStyle(color: color(specs[i]), dash: [[], LineStyle.dashed, LineStyle.dotted][min(2, earlier)])
        }
    }

    /// The algorithm whose colour a spec takes: its torch algorithm (a wrapper's base's), with SGD's momentum and
    /// Nesterov variants told apart however they were written (`momentum` or `sgd(momentum=0.9)`).
    static func colorKey(_ spec: OptimizerSpec) -> String {
        if let base = spec.base { return colorKey(base) }
        guard spec.name == "sgd" else { return spec.name }
        func value(_ key: String) -> SpecValue? { spec.arguments.last { $0.key == key }?.value }
        if value("nesterov") == .boolean(true) { return "nesterov" }
        if let m = value("momentum"), m != .number(0) { return "momentum" }
        return "sgd"
    }
}
