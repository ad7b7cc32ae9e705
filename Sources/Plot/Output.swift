import CCairo
import Foundation
import Support

/// A one-line, user-facing reason a figure could not be written.
public struct PlotError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// Output formats, chosen by the file extension.
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    /// The format named by the path's extension, or an error naming the valid ones.
    public init(path: String) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        guard let format = ImageFormat(rawValue: ext) else {
            throw PlotError("cannot write '\(path)': unknown image format '\(ext.isEmpty ? "(none)" : "." + ext)' (use .png, .svg or .pdf)")
        }
        self = format
    }
}

/// Pixels of a rendered figure (tests look at these instead of comparing whole images).
public struct Raster: Equatable {
    public let width: Int, height: Int
    /// Pixels per point (dpi / 72).
    public let scale: Double
    let pixels: [UInt32]  // Cairo ARGB32, opaque: 0xAARRGGBB

    public func color(x: Int, y: Int) -> Color {
        let p = pixels[y * width + x]
        return Color(red: Double((p >> 16) & 0xFF) / 255, green: Double((p >> 8) & 0xFF) / 255, blue: Double(p & 0xFF) / 255)
    }

    /// The pixel under a figure point (as returned by `Axes.point(x:y:)`).
    public func color(at p: PagePoint) -> Color {
        color(x: min(max(Int(p.x * scale), 0), width - 1), y: min(max(Int(p.y * scale), 0), height - 1))
    }
}

extension Raster {
    /// Copies the pixels of a Cairo image surface.
    init(_ surface: OpaquePointer, scale: Double) {
        cairo_surface_flush(surface)
        let w = Int(cairo_image_surface_get_width(surface)), h = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface)) / 4
        let data = cairo_image_surface_get_data(surface)!.withMemoryRebound(to: UInt32.self, capacity: stride * h) { $0 }
        var pixels = [UInt32](repeating: 0, count: w * h)
        for y in 0..<h { for x in 0..<w { pixels[y * w + x] = data[y * stride + x] } }
        self.init(width: w, height: h, scale: scale, pixels: pixels)
    }
}

extension Figure {
    /// PNG size in pixels at `dpi`.
    public func pixelSize(dpi: Double) -> (width: Int, height: Int) {
        (Int((width * dpi).rounded()), Int((height * dpi).rounded()))
    }

    /// Renders into an in-memory image.
    public func rasterize(dpi: Double = 100) -> Raster {
        let (w, h) = pixelSize(dpi: dpi)
        let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(w), Int32(h))!
        defer { cairo_surface_destroy(surface) }
        render(on: surface, scale: dpi / 72)
        return Raster(surface, scale: dpi / 72)
    }

    private func render(on surface: OpaquePointer, scale: Double) {
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        cairo_scale(cr, scale, scale)
        draw(cr)
    }

    /// Writes the figure as PNG (at `dpi`), SVG or PDF (vector; `dpi` unused), chosen by the
    /// extension. The file appears complete or not at all, and durably (`AtomicFile`).
    public func save(to path: String, dpi: Double = 150) throws {
        let format = try ImageFormat(path: path)
        if format == .png { try checkPixelSize(dpi: dpi) }
        try AtomicFile.write(Foundation.Data(try encoded(format, dpi: dpi, reportingAs: path)), to: path)
    }

    /// Refuses a dpi whose image is over the pixel budget or more than Cairo can hold.
    func checkPixelSize(dpi: Double) throws {
        try Self.checkPixels(width: width, height: height, dpi: dpi)
    }

    /// Refuses, before anything is computed or drawn, a figure of `width` × `height` inches at
    /// `dpi` (or `frames` of it, an animation) over the pixel budget (`Budget`) or more than
    /// Cairo's 32767 pixels a side.
    public static func checkPixels(width: Double, height: Double, dpi: Double, frames: Int? = nil) throws {
        let (pw, ph) = ((width * dpi).rounded(), (height * dpi).rounded())
        guard dpi > 0, pw >= 1, ph >= 1 else { throw PlotError("dpi \(dpi) gives an image of no pixels") }
        try Budget.checkPixels(width: pw, height: ph, frames: frames, advice: frames == nil ? "lower --dpi" : "lower --dpi or --frames")
        guard pw <= 32767 && ph <= 32767 else {
            throw PlotError("dpi \(dpi) gives a \(Int(pw))×\(Int(ph)) image (at most 32767 pixels a side)")
        }
    }

    /// The figure as the bytes of a PNG (at `dpi`), SVG or PDF file, rendered in memory: what
    /// `save` writes, for a server to send without touching the disk.
    public func encoded(_ format: ImageFormat, dpi: Double = 150) throws -> [UInt8] {
        try encoded(format, dpi: dpi, reportingAs: "the \(format.rawValue) image")
    }

    private func encoded(_ format: ImageFormat, dpi: Double, reportingAs path: String) throws -> [UInt8] {
        let sink = ByteSink()
        let closure = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer
        switch format {
        case .png:
            let (w, h) = pixelSize(dpi: dpi)
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(w), Int32(h))
        case .svg: surface = cairo_svg_surface_create_for_stream(ByteSink.append, closure, width * 72, height * 72)
        case .pdf: surface = cairo_pdf_surface_create_for_stream(ByteSink.append, closure, width * 72, height * 72)
        }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), path)
        render(on: surface, scale: format == .png ? dpi / 72 : 1)
        if format == .png { try check(cairo_surface_write_to_png_stream(surface, ByteSink.append, closure), path) }
        cairo_surface_finish(surface)
        try check(cairo_surface_status(surface), path)
        return withExtendedLifetime(sink) { sink.bytes }
    }

    private func check(_ status: cairo_status_t, _ path: String) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw PlotError("cannot write '\(path)': \(String(cString: cairo_status_to_string(status)))")
        }
    }
}

/// Collects what Cairo's stream writers emit.
private final class ByteSink {
    var bytes: [UInt8] = []

    static let append: cairo_write_func_t = { closure, data, length in
        let sink = Unmanaged<ByteSink>.fromOpaque(closure!).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
    }
}
