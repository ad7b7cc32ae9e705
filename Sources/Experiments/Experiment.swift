import Figures
import Foundation
import Optim
import Support
import SurfaceLab
import Surfaces
import Yams

/// A declarative experiment: a YAML file in `experiments/` that `optlab run` turns into
/// `plots/<name>.png` and `plots/<name>.csv`. Two kinds, with the keys of the matching command:
///
///     kind: trajectories          # optlab trajectories
///     fn: bowl                    # built-in surface or formula (default bowl)
///     optimizers: [adam(lr=0.1), sgd(lr=0.04)]   # or one comma-separated string; default: the classic nine
///     steps: 100
///     start: [-1, 1.5]            # default: the surface's
///     layout: grid                # grid | overlay
///     levels: 14
///     noise: 2                    # Gaussian gradient noise σ (default none) ...
///     seeds: 20                   # ... with this many paths per optimizer (default 1)
///     outputs: [png, gif]         # any of png, svg, pdf, gif, mp4 (default png): plots/<name>.<ext> each
///     view: 3d                    # 2d (contours, default) or 3d (a shaded surface) ...
///     azimuth: -60                # ... seen from this angle around z (degrees) ...
///     elevation: 30               # ... and above the x-y plane ...
///     rotate: 90                  # ... the camera turning this far over an animation
///
///     kind: lr-sweep              # optlab lr-sweep
///     fn: bowl
///     range: 0...5                # learning rates A...B
///     log: false                  # log-spaced (needs A > 0)
///     points: 101
///     steps: 100
///     tol: 0.0245                 # default 1e-3 × start loss
///     optimizers: [sgd, momentum, adagrad, rmsprop, adam, adamw]
///
///     kind: phase-map             # optlab phase-map
///     optimizers: sgd             # exactly one spec
///     x: lr=0.001...0.2           # keyword=A...B across ...
///     y: momentum=0...0.99        # ... and up
///     log-x: false                # log-spaced (needs A > 0); log-y likewise
///     points: 101x100
///     tol: 0.0245
///
/// An lr-sweep takes `outputs` too, of the image formats. `description:` is free text for the reader. Unknown keys are errors, so a typo cannot silently
/// fall back to a default. Every value is checked when the file is read, by the code that uses
/// it (its `SettingError` names the key), so a bad file fails before anything runs.
public struct Experiment: Sendable {
    public let name: String
    public let surface: Surface
    /// nil: the kind's default optimizers.
    public let specs: [OptimizerSpec]?
    public let steps: Int
    /// nil: the surface's start.
    public let start: Surfaces.Point?
    public let kind: Kind
    /// The file extensions written, each as `<folder>/<name>.<ext>`; animations (gif, mp4) for
    /// trajectories only.
    public let outputs: [String]

    /// What the experiment does, with the settings only that kind has.
    public enum Kind: Sendable {
        /// nil layout: grid for the default optimizers, overlay for named ones.
        case trajectories(layout: TrajectoryLayout?, levels: Int, noise: GradientNoise?, view: TrajectoryView)
        /// nil tolerance: 10⁻³ × the start loss.
        case lrSweep(learningRates: [Double], logarithmic: Bool, tolerance: Double?)
        case phaseMap(x: PhaseMap.Axis, y: PhaseMap.Axis, tolerance: Double?)
    }

    static let commonKeys: Set = ["kind", "description", "fn", "optimizers", "steps", "start", "outputs"]
    static let keys: [String: Set<String>] = [
        "trajectories": commonKeys.union(["layout", "levels", "noise", "seeds", "view", "azimuth", "elevation", "rotate"]),
        "lr-sweep": commonKeys.union(["range", "log", "points", "tol"]),
        "phase-map": commonKeys.union(["x", "y", "log-x", "log-y", "points", "tol"]),
    ]

    /// Reads and checks an experiment file; the name is the file's name without its extension.
    public static func load(_ path: String) throws -> Experiment {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw FileError("cannot read experiment '\(path)'")
        }
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            return try parse(text, name: name)
        } catch let error as YamlError {
            throw ExperimentError("\(path): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        } catch {
            throw ExperimentError("\(path): \(error)")
        }
    }

    public static func parse(_ text: String, name: String) throws -> Experiment {
        guard let node = try Yams.compose(yaml: text), let map = try plainValue(node) as? [String: Any] else {
            throw ExperimentError("expected a mapping of keys to values")
        }
        guard let kindText = map["kind"] as? String, let allowed = keys[kindText] else {
            throw ExperimentError("'kind' must be trajectories, lr-sweep or phase-map")
        }
        if let unknown = map.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ExperimentError("unknown key '\(unknown)' for kind \(kindText); valid: \(allowed.sorted().joined(separator: ", "))")
        }
        let surface = try Surface.named(try string(map, "fn") ?? "bowl")
        let specs: [OptimizerSpec]?
        switch map["optimizers"] {
        case nil: specs = nil
        case let list as [Any]: specs = try list.map { try OptimizerSpec.parse("\($0)") }
        case let text as String: specs = try OptimizerSpec.parseList(text)
        default: throw ExperimentError("'optimizers' must be a list of specs or one comma-separated string")
        }
        var start: Surfaces.Point?
        if let value = map["start"] {
            guard let pair = value as? [Any], pair.count == 2, let x = number(pair[0]), let y = number(pair[1]) else {
                throw ExperimentError("'start' must be [x, y]")
            }
            start = Surfaces.Point(x, y)
        }
        let steps = try integer(map, "steps") ?? 100
        guard steps >= 1 else { throw ExperimentError("'steps' must be ≥ 1") }
        let outputs: [String]
        switch map["outputs"] {
        case nil: outputs = ["png"]
        case let list as [Any]: outputs = list.map { "\($0)".lowercased() }
        case let text as String: outputs = [text.lowercased()]
        default: throw ExperimentError("'outputs' must be a list of formats such as [png, gif]")
        }
        let formats = kindText == "trajectories" ? ["png", "svg", "pdf", "gif", "mp4"] : ["png", "svg", "pdf"]
        if let bad = outputs.first(where: { !formats.contains($0) }) {
            throw ExperimentError("'outputs' of \(kindText) must be among \(formats.joined(separator: ", ")), got '\(bad)'")
        }
        guard !outputs.isEmpty, Set(outputs).count == outputs.count else { throw ExperimentError("'outputs' must name each format once") }
        do {
            let kind: Kind
            if kindText == "trajectories" {
                let layout = try string(map, "layout").map { text -> TrajectoryLayout in
                    guard let l = TrajectoryLayout(rawValue: text) else { throw ExperimentError("'layout' must be grid or overlay, got '\(text)'") }
                    return l
                }
                let levels = try integer(map, "levels") ?? 14
                try TrajectoryFigure.checkLevels(levels)
                let sigma = try map["noise"].map { guard let s = number($0) else { throw ExperimentError("'noise' must be a number") }; return s }
                let seeds = try integer(map, "seeds")
                guard sigma != nil || seeds == nil else { throw ExperimentError("'seeds' needs 'noise'") }
                let noise = try sigma.map { try GradientNoise(sigma: $0, seeds: seeds ?? 1) }
                if (noise?.seeds ?? 1) > 1 && outputs.contains(where: { ["gif", "mp4"].contains($0) }) {
                    throw ExperimentError("'seeds' must be 1 for animated outputs (they move one path per optimizer)")
                }
                let angle = { (key: String) throws -> Double? in
                    try map[key].map { guard let a = number($0) else { throw ExperimentError("'\(key)' must be a number of degrees") }; return a }
                }
                let view = try TrajectoryView(name: try string(map, "view"), azimuth: try angle("azimuth"), elevation: try angle("elevation"),
                                              rotate: try angle("rotate"), animated: outputs.contains(where: { ["gif", "mp4"].contains($0) }))
                kind = .trajectories(layout: layout, levels: levels, noise: noise, view: view)
            } else if kindText == "phase-map" {
                guard specs?.count == 1 else { throw ExperimentError("a phase-map needs exactly one spec in 'optimizers'") }
                let (n, m) = try PhaseMap.gridSize(try string(map, "points") ?? "101x100")
                let x = try PhaseMap.Axis(try string(map, "x") ?? "lr=0.001...0.2", count: n, logarithmic: try flag(map, "log-x") ?? false, setting: "x")
                let y = try PhaseMap.Axis(try string(map, "y") ?? "momentum=0...0.99", count: m, logarithmic: try flag(map, "log-y") ?? false, setting: "y")
                let tolerance = try map["tol"].map { guard let t = number($0) else { throw ExperimentError("'tol' must be a positive number") }; return t }
                try LRSweep.checkTolerance(tolerance)
                kind = .phaseMap(x: x, y: y, tolerance: tolerance)
            } else {
                guard let range = try string(map, "range").map(LRSweep.parseRange) else { throw ExperimentError("an lr-sweep needs 'range: A...B'") }
                let logarithmic = try flag(map, "log") ?? false
                let points = try integer(map, "points") ?? 101
                try LRSweep.checkBudget(points: points, optimizers: specs?.count ?? LRSweep.defaultOptimizers.count, steps: steps)
                let rates = try LRSweep.learningRates(range, count: points, logarithmic: logarithmic)
                let tolerance = try map["tol"].map { guard let t = number($0) else { throw ExperimentError("'tol' must be a positive number") }; return t }
                try LRSweep.checkTolerance(tolerance)
                kind = .lrSweep(learningRates: rates, logarithmic: logarithmic, tolerance: tolerance)
            }
            return Experiment(name: name, surface: surface, specs: specs, steps: steps, start: start, kind: kind, outputs: outputs)
        } catch let error as SettingError {
            throw ExperimentError("'\(error.setting)' \(error.problem)")
        }
    }

    /// Runs the experiment and writes `<folder>/<name>.<ext>` for each output (images at `dpi`,
    /// animations at their own default) and `<name>.csv`; returns the paths written.
    public func run(into folder: String, dpi: Double = 150) throws -> [String] {
        let (figurePaths, csvPath) = paths(in: folder)
        try checkOutputs(into: folder, dpi: dpi)
        let locks = try PathLock.outputs(figurePaths + [csvPath])
        defer { withExtendedLifetime(locks) {} }
        switch kind {
        case .trajectories(let layout, let levels, let noise, let view):
            let comparison = try Trajectories.compare(trajectorySpecs, on: surface, from: start, steps: steps, noise: noise)
            let layout = layout ?? defaultLayout
            for path in figurePaths {
                if FigureOutput.isAnimation(path) {
                    try TrajectoryAnimation.save(comparison, layout: layout, levels: levels, view: view, to: path, dpi: FigureOutput.animationDPI)
                } else {
                    try TrajectoryFigure.make(comparison, layout: layout, levels: levels, view: view).save(to: path, dpi: dpi)
                }
            }
            try AtomicFile.write(comparison.csv, to: csvPath)
        case .lrSweep(let rates, let logarithmic, let tolerance):
            let sweep = try LRSweep.run(specs ?? LRSweep.defaultOptimizers.map(OptimizerSpec.parse), on: surface, from: start,
                                        steps: steps, learningRates: rates, tolerance: tolerance)
            let figure = LRSweepFigure.make(sweep, logarithmic: logarithmic)
            for path in figurePaths { try figure.save(to: path, dpi: dpi) }
            try AtomicFile.write(sweep.csv, to: csvPath)
        case .phaseMap(let x, let y, let tolerance):
            let map = try PhaseMap.run(specs![0], x: x, y: y, on: surface, from: start, steps: steps, tolerance: tolerance)
            let figure = PhaseMapFigure.make(map)
            for path in figurePaths { try figure.save(to: path, dpi: dpi) }
            try AtomicFile.write(map.csv, to: csvPath)
        }
        return figurePaths + [csvPath]
    }

    /// Throws what writing the outputs into `folder` would: a bad extension, a missing folder, or
    /// pixels over the budget (images at `dpi`, animations at theirs); checked before any work.
    public func checkOutputs(into folder: String, dpi: Double) throws {
        for path in paths(in: folder).figures {
            try FigureOutput.check(path, animations: true)
            let animated = FigureOutput.isAnimation(path)
            try FigureOutput.checkPixels(path, inches: inches, dpi: animated ? FigureOutput.animationDPI : dpi,
                                         frames: animated ? TrajectoryAnimation.defaultFrames(steps: steps, fps: FigureOutput.defaultFPS) : nil)
        }
    }

    /// `<folder>/<name>.<ext>` for each output, and the CSV beside them.
    private func paths(in folder: String) -> (figures: [String], csv: String) {
        (outputs.map { (folder as NSString).appendingPathComponent("\(name).\($0)") },
         (folder as NSString).appendingPathComponent("\(name).csv"))
    }

    private var trajectorySpecs: [OptimizerSpec] { specs ?? Trajectories.classicSpecs(for: surface) }
    private var defaultLayout: TrajectoryLayout { specs == nil ? .grid : .overlay }

    /// The size of the figure this experiment draws.
    private var inches: (width: Double, height: Double) {
        switch kind {
        case .trajectories(let layout, _, _, _): TrajectoryFigure.inches(optimizers: trajectorySpecs.count, layout: layout ?? defaultLayout)
        case .lrSweep: LRSweepFigure.inches
        case .phaseMap: PhaseMapFigure.inches
        }
    }

    /// The YAML as strings, numbers, booleans, lists and maps with string keys. (Yams' own `load`
    /// traps on a key that is not a scalar, such as `? [a]: b`, and its integers on YAML 1.1's
    /// base-60 form with too many digits, such as `1111111111119111111:0`: both found by fuzzing.
    /// So a plain scalar is read here: a whole number, a number, true/false (yes/no, on/off), or text.)
    private static func plainValue(_ node: Node) throws -> Any {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            guard scalar.style == .plain else { return text }
            if let whole = Int(text) { return whole }
            if let number = Double(text), text.rangeOfCharacter(from: .decimalDigits) != nil { return number }
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return text
            }
        case .sequence(let items): return try items.map(plainValue)
        case .mapping(let pairs):
            var map: [String: Any] = [:]
            for (key, value) in pairs {
                guard let name = key.scalar?.string else { throw ExperimentError("a key must be a name, not \(key.sequence == nil ? "a mapping" : "a list")") }
                map[name] = try plainValue(value)
            }
            return map
        }
    }

    private static func string(_ map: [String: Any], _ key: String) throws -> String? {
        guard let value = map[key] else { return nil }
        guard let s = value as? String else { throw ExperimentError("'\(key)' must be text, got \(value)") }
        return s
    }

    private static func integer(_ map: [String: Any], _ key: String) throws -> Int? {
        guard let value = map[key] else { return nil }
        guard let i = value as? Int else { throw ExperimentError("'\(key)' must be a whole number, got \(value)") }
        return i
    }

    private static func flag(_ map: [String: Any], _ key: String) throws -> Bool? {
        guard let value = map[key] else { return nil }
        guard let b = value as? Bool else { throw ExperimentError("'\(key)' must be true or false, got \(value)") }
        return b
    }

    private static func number(_ value: Any) -> Double? {
        (value as? Double) ?? (value as? Int).map(Double.init)
    }
}

public struct ExperimentError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
