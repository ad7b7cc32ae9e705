import CCairo
import Foundation
import Support

/// Animation formats, chosen by the file extension like `ImageFormat`.
public enum AnimationFormat: String, CaseIterable, Sendable {
    /// Looping GIF (giflib) with one palette made for the figure.
    case gif
    /// H.264 in MP4, yuv420p, for browsers (FFmpeg's libavcodec and libavformat).
    case mp4

    /// The animation format named by the path's extension, nil for any other file.
    public init?(path: String) {
        self.init(rawValue: (path as NSString).pathExtension.lowercased())
    }

    func begin(file: String, width: Int, height: Int, fps: Int, samples: [Raster]) throws -> AnimationWriter {
        switch self {
        case .gif: return try GIFWriter(file: file, width: width, height: height, fps: fps, samples: samples)
        case .mp4: return try MP4Writer(file: file, width: width, height: height, fps: fps)
        }
    }
}

/// One writer per format (matplotlib's `MovieWriter`): made by `AnimationFormat.begin`, which
/// opens the file; then frames in order; then `finish`, which completes the file.
protocol AnimationWriter: AnyObject {
    /// Appends a frame shown for `duration` frame periods (a hold on the last frame is one long frame).
    func add(_ frame: Raster, duration: Int) throws
    func finish() throws
}

/// A figure turned into frames. The figure is built in its final state (the still figure),
/// its layout frozen, and everything but the animated artists rendered once as the background;
/// each frame is that background with the animated artists, as `update` left them, drawn on top.
///
///     let path = figure.axes.plot(x: xs, y: ys, style: style).animated()
///     try Animation(figure, dpi: 100, fps: 20).save(to: "race.gif", frames: xs.count) { k in
///         path.setData(x: Array(xs[...k]), y: Array(ys[...k]))
///     }
public final class Animation {
    public let figure: Figure
    public let dpi: Double
    public let fps: Int
    private let width: Int, height: Int
    private let background: OpaquePointer

    public init(_ figure: Figure, dpi: Double, fps: Int) throws {
        guard (1...50).contains(fps) else { throw PlotError("--fps must be in 1...50 (GIF frame delays are whole hundredths of a second), got \(fps)") }
        try figure.checkPixelSize(dpi: dpi)
        self.figure = figure; self.dpi = dpi; self.fps = fps
        (width, height) = figure.pixelSize(dpi: dpi)
        figure.freezeLayout()
        background = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))
        let cr = cairo_create(background)!
        cairo_scale(cr, dpi / 72, dpi / 72)
        figure.draw(cr, .background)
        cairo_destroy(cr)
        cairo_surface_flush(background)
    }

    deinit { cairo_surface_destroy(background) }

    /// The current frame: the background with the animated artists drawn over it.
    public func render() -> Raster {
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height))!
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        cairo_set_source_surface(cr, background, 0, 0)
        cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE)
        cairo_paint(cr)
        cairo_set_operator(cr, CAIRO_OPERATOR_OVER)
        cairo_scale(cr, dpi / 72, dpi / 72)
        figure.draw(cr, .foreground)
        cairo_destroy(cr)
        return Raster(surface, scale: dpi / 72)
    }

    /// Writes `frames` frames, `update(k)` setting the artists for frame k (it must depend on k
    /// alone: frames are also drawn out of order to choose a GIF's palette), the last one held
    /// for `hold` seconds. The format follows the extension; the file appears whole or not at all,
    /// also when `update` or `progress` (called after each frame) throws to stop.
    public func save(to path: String, frames: Int, hold: Double = 1.5, progress: (Int) throws -> Void = { _ in },
                     update: (Int) throws -> Void) throws {
        guard let format = AnimationFormat(path: path) else {
            throw PlotError("cannot write '\(path)': not an animation format (use .gif or .mp4)")
        }
        guard frames >= 1 else { throw PlotError("an animation needs at least one frame, got \(frames)") }
        // Refused before any work: beyond the budget a render takes many minutes and gigabytes of file.
        try Figure.checkPixels(width: figure.width, height: figure.height, dpi: dpi, frames: frames)
        try AtomicFile.write(to: path) { file in
            // The colours of the full picture and of one mid-run (the bright tails) make the palette.
            var samples: [Raster] = []
            for k in Set([frames - 1, frames / 2]).sorted() { try update(k); samples.append(render()) }
            let writer = try format.begin(file: file, width: width, height: height, fps: fps, samples: samples)
            let holdFrames = max(1, Int((hold * Double(fps)).rounded()))
            for k in 0..<frames {
                try update(k)
                try writer.add(render(), duration: k == frames - 1 ? holdFrames : 1)
                try progress(k + 1)
            }
            try writer.finish()
        }
    }
}
