import Figures
import Foundation
import Optim
import Plot
import Surfaces
import SurfaceLab

/// What an endpoint answers: a status, a media type and the bytes.
public struct Reply: Sendable {
    public var status = 200
    public var contentType: String
    public var body: [UInt8]
    /// Set for downloads: the file name the browser saves under.
    public var fileName: String?

    static func json<T: Encodable>(_ value: T) throws -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Reply(contentType: "application/json", body: Array(try encoder.encode(value)))
    }

    static func text(_ text: String, contentType: String, fileName: String? = nil) -> Reply {
        Reply(contentType: contentType, body: Array(text.utf8), fileName: fileName)
    }

    static func failure(_ message: String, status: Int) -> Reply {
        var reply = (try? json(["error": message])) ?? text(message, contentType: "text/plain")
        reply.status = status
        return reply
    }
}

/// The playground's endpoints: surfaces with their contour image, and optimizer paths computed by
/// the same `Trajectories` the CLI runs. Caps keep one request from taking the machine.
public struct Playground: Sendable {
    public static let maxSteps = 10_000
    public static let maxOptimizers = 12
    public static let maxFormulaLength = 500
    /// Noisy paths per optimizer in one request (the CLI allows 1000).
    public static let maxSeeds = 50
    /// Points of every path together in one request: 12 exact paths of 10,000 steps fit, 50
    /// seeds of 12 optimizers only for 400 steps.
    public static let maxPoints = 250_000
    /// An animation's frames × pixels in one request: 400 frames at the default 80 dpi fit.
    public static let maxAnimationPixels = 200_000_000
    /// Resolution of the contour background (a larger page scales it).
    static let backgroundDPI = 110.0

    private let backgrounds = BackgroundCache(capacity: 32)
    /// One animation is encoded at a time; others wait their turn rather than take every core.
    private let animating = NSLock()

    public init() {}

    /// `GET /api/surfaces`: the built-in surfaces.
    func surfaces() throws -> Reply {
        try .json(Surface.builtins.map { SurfaceName(name: $0.name, formula: $0.formula) })
    }

    /// `GET /api/optimizers`: every optimizer name (presets too) with its keywords, the values a
    /// bare spec gets and torch's ranges, and every schedule with an example: what the page
    /// builds its menus and sliders from.
    func optimizers() throws -> Reply {
        try .json(Catalog(
            optimizers: OptimizerSpec.names.map {
                CatalogOptimizer(name: $0, example: OptimizerSpec.example(of: $0) ?? $0, keywords: OptimizerSpec.keywords(of: $0) ?? [])
            },
            schedules: ScheduleSpec.catalog.map { CatalogSchedule(name: $0.name, usage: $0.usage, example: $0.example) }))
    }

    /// `GET /api/surface?fn=&levels=`: the window, start and minima, and where in the contour
    /// image (`/api/contours.png` with the same query) the plot area lies.
    func surface(_ query: Query) throws -> Reply {
        let (surface, levels) = try surfaceAndLevels(query)
        let background = try self.background(surface, levels: levels)
        let w = surface.window
        return try .json(SurfaceInfo(
            name: surface.name, formula: surface.formula, window: [w.x.lowerBound, w.x.upperBound, w.y.lowerBound, w.y.upperBound],
            start: [surface.start.x, surface.start.y], minima: surface.minima.map { [$0.x, $0.y] }, plotArea: background.plotArea,
            imageSize: [background.width, background.height]))
    }

    /// `GET /api/contours.png?fn=&levels=`: the surface drawn as `optlab trajectories` draws it.
    func contours(_ query: Query) throws -> Reply {
        let (surface, levels) = try surfaceAndLevels(query)
        return Reply(contentType: "image/png", body: try background(surface, levels: levels).png)
    }

    /// `GET /api/trajectories?fn=&start=&steps=&optimizers=`: every path's points and losses.
    /// Under noise, each optimizer's path is its seeds' pointwise median (what the CLI draws
    /// bold) with the seeds' paths as its fan; with `show=`, the state marks the CLI draws.
    func trajectories(_ query: Query) throws -> Reply {
        let comparison = try compare(query)
        let views = try stateViews(query)
        let groups = comparison.groups
        let paths = groups.map { $0.count == 1 ? $0[0] : TrajectoryResult.median(of: $0, on: comparison.surface) }
        let styles = OptimizerStyle.styles(paths.map(\.spec))
        return try .json(TrajectoriesReply(
            steps: comparison.steps, start: [comparison.start.x, comparison.start.y],
            paths: paths.indices.map { k in
                // The CLI draws state marks on single paths only, not on a fan's median.
                let marks = groups[k].count == 1 ? StateMarks.of(paths[k], views, window: comparison.surface.window) : []
                return PathReply(paths[k], styles[k], fan: groups[k].count > 1 ? groups[k] : [], state: marks)
            },
            command: try command(query, comparison)))
    }

    /// `GET /api/trajectories.csv`: what `optlab trajectories --csv` writes for the same query.
    func csv(_ query: Query) throws -> Reply {
        let comparison = try compare(query)
        return .text(comparison.csv, contentType: "text/csv", fileName: "trajectories-\(FigureOutput.stem(comparison.surface)).csv")
    }

    /// `GET /api/trajectories.png` (`.svg`, `.pdf`), `layout=`, `levels=`, `dpi=`: the CLI's figure.
    func figure(_ query: Query, format: ImageFormat) throws -> Reply {
        let comparison = try compare(query)
        let layout = try query.choice("layout", default: TrajectoryLayout.overlay)
        let levels = try query.integer("levels", default: 14, in: 3...100)
        let dpi = try query.number("dpi", default: 150, in: 30...300)
        let figure = try TrajectoryFigure.make(comparison, layout: layout, levels: levels, show: try stateViews(query))
        let types: [ImageFormat: String] = [.png: "image/png", .svg: "image/svg+xml", .pdf: "application/pdf"]
        return Reply(contentType: types[format]!, body: try figure.encoded(format, dpi: dpi),
                     fileName: "trajectories-\(FigureOutput.stem(comparison.surface)).\(format.rawValue)")
    }

    /// `GET /api/trajectories.gif` (`.mp4`), `layout=`, `levels=`, `fps=`, `frames=`, `dpi=`: the
    /// file `optlab trajectories --out race.gif` writes, refused up front beyond `maxAnimationPixels`.
    func animation(_ query: Query, format: AnimationFormat) throws -> Reply {
        let comparison = try compare(query)
        let layout = try query.choice("layout", default: TrajectoryLayout.overlay)
        let levels = try query.integer("levels", default: 14, in: 3...100)
        let fps = try query.integer("fps", default: 20, in: 1...60)
        let frames = try query.integer("frames", default: TrajectoryAnimation.defaultFrames(steps: comparison.steps, fps: fps),
                                       in: 1...(comparison.steps + 1))
        let dpi = try query.number("dpi", default: 80, in: 30...150)
        let views = try stateViews(query)
        let (width, height) = try TrajectoryFigure.make(comparison, layout: layout, levels: levels, show: views).pixelSize(dpi: dpi)
        let pixels = Double(frames) * Double(width) * Double(height)
        guard pixels <= Double(Self.maxAnimationPixels) else {
            throw RequestError("the animation would be \(frames) frames of \(width)×\(height) pixels (\(Int(pixels / 1e6)) megapixels); "
                + "at most \(Self.maxAnimationPixels / 1_000_000) in one request: use fewer frames or a lower dpi")
        }
        // The writers write files: a private temporary one, never under the served folder.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-serve-\(UUID()).\(format.rawValue)")
        defer { try? FileManager.default.removeItem(at: file) }
        try animating.withLock {
            try TrajectoryAnimation.save(comparison, layout: layout, levels: levels, show: views, to: file.path, fps: fps,
                                         frames: frames, dpi: dpi)
        }
        return Reply(contentType: format == .gif ? "image/gif" : "video/mp4", body: Array(try Foundation.Data(contentsOf: file)),
                     fileName: "trajectories-\(FigureOutput.stem(comparison.surface)).\(format.rawValue)")
    }

    // MARK: Reading a request

    private func surfaceAndLevels(_ query: Query) throws -> (Surface, Int) {
        let fn = try query.string("fn", default: "bowl", maxLength: Self.maxFormulaLength)
        return (try Surface.named(fn), try query.integer("levels", default: 14, in: 3...100))
    }

    private func compare(_ query: Query) throws -> TrajectoryComparison {
        let (surface, _) = try surfaceAndLevels(query)
        let steps = try query.integer("steps", default: 100, in: 1...Self.maxSteps)
        let specs = try OptimizerSpec.parseList(try query.string("optimizers", default: "sgd(lr=0.04)"))
        guard (1...Self.maxOptimizers).contains(specs.count) else {
            throw RequestError("optimizers: give 1 to \(Self.maxOptimizers) specs, got \(specs.count)")
        }
        let noise = try gradientNoise(query)
        let paths = specs.count * (noise?.seeds ?? 1), points = paths * (steps + 1)
        guard points <= Self.maxPoints else {
            throw RequestError("\(paths) paths × \(steps + 1) points = \(points) points; at most \(Self.maxPoints) in one request: use fewer steps, seeds or optimizers")
        }
        return try Trajectories.compare(specs, on: surface, from: try query.point("start"), steps: steps, noise: noise,
                                        recordsState: !(try stateViews(query)).isEmpty)
    }

    /// `noise=σ` and `seeds=N` as the CLI's --noise and --seeds; nil without noise.
    private func gradientNoise(_ query: Query) throws -> GradientNoise? {
        guard query.values["noise"] != nil || query.values["seeds"] != nil else { return nil }
        guard query.values["noise"] != nil else { throw RequestError("seeds needs noise=σ") }
        return try GradientNoise(sigma: try query.number("noise", default: 0, in: 0...1e6),
                                 seeds: try query.integer("seeds", default: 1, in: 1...Self.maxSeeds))
    }

    /// `show=step,velocity,scale` as the CLI's --show.
    private func stateViews(_ query: Query) throws -> [StateView] {
        guard let text = query.values["show"], !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { name in
            guard let view = StateView(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw RequestError("show takes step, velocity or scale, got '\(name)'")
            }
            return view
        }
    }

    /// The `optlab trajectories` line that reproduces the view and writes the same CSV: the specs
    /// as typed, so the labels are the page's.
    private func command(_ query: Query, _ comparison: TrajectoryComparison) throws -> String {
        let fn = try query.string("fn", default: "bowl")
        let optimizers = try query.string("optimizers", default: "sgd(lr=0.04)")
        var words = ["optlab", "trajectories", "--fn", shellQuoted(fn), "--start=\(comparison.start.x),\(comparison.start.y)",
                     "--steps", "\(comparison.steps)", "--optimizers", shellQuoted(optimizers)]
        if let noise = comparison.noise { words += ["--noise", "\(noise.sigma)", "--seeds", "\(noise.seeds)"] }
        let views = try stateViews(query)
        if !views.isEmpty { words += ["--show", views.map(\.rawValue).joined(separator: ",")] }
        return (words + ["--csv", "trajectories.csv", "--out", "trajectories.png"]).joined(separator: " ")
    }

    private func background(_ surface: Surface, levels: Int) throws -> Background {
        let key = "\(surface.formula)|\(surface.name)|\(levels)"
        if let cached = backgrounds[key] { return cached }
        let figure = try TrajectoryFigure.surfaceFigure(surface, levels: levels)
        let png = try figure.encoded(.png, dpi: Self.backgroundDPI)
        // The axes' frame is laid out by the render above; the page maps clicks through it.
        let frame = figure.axes.frame, width = figure.width * 72, height = figure.height * 72
        let (pw, ph) = figure.pixelSize(dpi: Self.backgroundDPI)
        let background = Background(png: png, width: pw, height: ph, plotArea: [
            frame.x / width, frame.y / height, (frame.x + frame.width) / width, (frame.y + frame.height) / height,
        ])
        backgrounds[key] = background
        return background
    }
}

/// Single-quoted for a POSIX shell.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// A rendered contour image and where its plot area lies, as fractions of the image (left, top,
/// right, bottom).
struct Background: Sendable {
    let png: [UInt8]
    let width: Int, height: Int
    let plotArea: [Double]
}

/// The most recently used backgrounds; a slider never re-renders the contours.
final class BackgroundCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(key: String, value: Background)] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    subscript(key: String) -> Background? {
        get { lock.withLock { entries.first { $0.key == key }?.value } }
        set {
            lock.withLock {
                entries.removeAll { $0.key == key }
                if let newValue { entries.insert((key, newValue), at: 0) }
                if entries.count > capacity { entries.removeLast() }
            }
        }
    }
}

struct SurfaceName: Encodable { let name: String, formula: String }

struct Catalog: Encodable {
    let optimizers: [CatalogOptimizer]
    let schedules: [CatalogSchedule]
}

struct CatalogOptimizer: Encodable {
    let name: String
    /// A spec of it that parses (a wrapper needs a base).
    let example: String
    let keywords: [SpecKeyword]
}

struct CatalogSchedule: Encodable { let name: String, usage: String, example: String }

struct SurfaceInfo: Encodable {
    let name: String, formula: String
    /// xmin, xmax, ymin, ymax.
    let window: [Double]
    let start: [Double]
    let minima: [[Double]]
    /// left, top, right, bottom as fractions of the image.
    let plotArea: [Double]
    let imageSize: [Int]
}

struct TrajectoriesReply: Encodable {
    let steps: Int
    let start: [Double]
    let paths: [PathReply]
    let command: String
}

struct PathReply: Encodable {
    /// Under noise with several seeds, their pointwise median (the CLI's bold path).
    let label: String
    let spec: String
    /// The optimizer's colour in every optlab figure, as #rrggbb.
    let color: String
    /// Dash lengths in points, as the figures draw this path (empty: solid).
    let dash: [Double]
    let points: [[Double]]
    let losses: [Double]
    let divergedAt: Int?
    /// Under noise, every seed's path (the CLI's thin fan); empty otherwise.
    let fan: [[[Double]]]
    /// The `--show` marks along the path, as the CLI computes and draws them.
    let state: [StateMarksReply]

    init(_ result: TrajectoryResult, _ style: OptimizerStyle, fan: [TrajectoryResult], state: [StateMarks]) {
        label = result.label
        spec = result.spec.description
        color = style.color.hexString
        dash = style.dash
        points = result.points.map { [$0.x, $0.y] }
        losses = result.losses
        divergedAt = result.divergedAt
        self.fan = fan.map { $0.points.map { [$0.x, $0.y] } }
        self.state = state.map(StateMarksReply.init)
    }
}

struct StateMarksReply: Encodable {
    /// step, velocity or scale.
    let view: String
    /// The step each mark belongs to (shown once the path gets there).
    let steps: [Int]
    /// Per mark: an arrow from → to, or (scale) an ellipse's centre and radii.
    let from: [[Double]], to: [[Double]]
    /// As the figures draw it, #rrggbb.
    let color: String

    init(_ marks: StateMarks) {
        view = marks.view.rawValue
        steps = marks.steps
        from = marks.from.map { [$0.0, $0.1] }
        to = marks.to.map { [$0.0, $0.1] }
        color = marks.view.color.hexString
    }
}

extension Color {
    /// #rrggbb, for the page.
    var hexString: String {
        String(format: "#%02x%02x%02x", Int((red * 255).rounded()), Int((green * 255).rounded()), Int((blue * 255).rounded()))
    }
}
