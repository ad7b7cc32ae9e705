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
    /// Resolution of the contour background (a larger page scales it).
    static let backgroundDPI = 110.0

    private let backgrounds = BackgroundCache(capacity: 32)

    public init() {}

    /// `GET /api/surfaces`: the built-in surfaces.
    func surfaces() throws -> Reply {
        try .json(Surface.builtins.map { SurfaceName(name: $0.name, formula: $0.formula) })
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
    func trajectories(_ query: Query) throws -> Reply {
        let comparison = try compare(query)
        let styles = OptimizerStyle.styles(comparison.results.map(\.spec))
        return try .json(TrajectoriesReply(
            steps: comparison.steps, start: [comparison.start.x, comparison.start.y],
            paths: zip(comparison.results, styles).map(PathReply.init), command: try command(query, comparison)))
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
        let figure = try TrajectoryFigure.make(comparison, layout: layout, levels: levels)
        let types: [ImageFormat: String] = [.png: "image/png", .svg: "image/svg+xml", .pdf: "application/pdf"]
        return Reply(contentType: types[format]!, body: try figure.encoded(format, dpi: dpi),
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
        return try Trajectories.compare(specs, on: surface, from: try query.point("start"), steps: steps)
    }

    /// The `optlab trajectories` line that reproduces the view and writes the same CSV: the specs
    /// as typed, so the labels are the page's.
    private func command(_ query: Query, _ comparison: TrajectoryComparison) throws -> String {
        let fn = try query.string("fn", default: "bowl")
        let optimizers = try query.string("optimizers", default: "sgd(lr=0.04)")
        return ["optlab", "trajectories", "--fn", shellQuoted(fn), "--start=\(comparison.start.x),\(comparison.start.y)",
                "--steps", "\(comparison.steps)", "--optimizers", shellQuoted(optimizers),
                "--csv", "trajectories.csv", "--out", "trajectories.png"].joined(separator: " ")
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
    let label: String
    let spec: String
    /// The optimizer's colour in every optlab figure, as #rrggbb.
    let color: String
    /// Dash lengths in points, as the figures draw this path (empty: solid).
    let dash: [Double]
    let points: [[Double]]
    let losses: [Double]
    let divergedAt: Int?

    init(_ result: TrajectoryResult, _ style: OptimizerStyle) {
        label = result.label
        spec = result.spec.description
        color = style.color.hexString
        dash = style.dash
        points = result.points.map { [$0.x, $0.y] }
        losses = result.losses
        divergedAt = result.divergedAt
    }
}

extension Color {
    /// #rrggbb, for the page.
    var hexString: String {
        String(format: "#%02x%02x%02x", Int((red * 255).rounded()), Int((green * 255).rounded()), Int((blue * 255).rounded()))
    }
}
