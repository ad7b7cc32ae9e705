import CCairo

/// A point or size in figure coordinates: points (1/72 inch), origin top left, y down.
public struct PagePoint: Equatable, Sendable {
    public var x, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

public struct Rect: Equatable, Sendable {
    public var x, y, width, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public func contains(_ p: PagePoint) -> Bool { p.x >= x && p.x <= maxX && p.y >= y && p.y <= maxY }
    func intersects(_ r: Rect) -> Bool { x < r.maxX && r.x < maxX && y < r.maxY && r.y < maxY }
}

/// Where a text's anchor point sits relative to the text.
enum Anchor { case left, center, right }
enum Baseline { case top, middle, bottom }

/// The drawing primitives every artist uses, over a Cairo context in figure points.
/// Text is DejaVu Sans through Cairo's toy font API, anti-aliased, with hinting off so text
/// measures the same in PNG, SVG and PDF.
final class Canvas {
    let cr: OpaquePointer

    init(_ cr: OpaquePointer) {
        self.cr = cr
        let options = cairo_font_options_create()
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_set_font_options(cr, options)
        cairo_font_options_destroy(options)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND)
    }

    func setColor(_ c: Color) { cairo_set_source_rgba(cr, c.red, c.green, c.blue, c.alpha) }

    func save() { cairo_save(cr) }
    func restore() { cairo_restore(cr) }

    func clip(to r: Rect) {
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
    }

    func fill(_ r: Rect, _ color: Color) {
        setColor(color)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    func strokeRect(_ r: Rect, _ color: Color, width: Double) {
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    /// An open polyline; `dash` is on/off lengths in points (empty = solid).
    func polyline(_ points: [PagePoint], _ color: Color, width: Double, dash: [Double] = []) {
        guard points.count >= 2 else { return }
        cairo_new_path(cr)
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, dash, Int32(dash.count), 0)
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func line(_ a: PagePoint, _ b: PagePoint, _ color: Color, width: Double) { polyline([a, b], color, width: width) }

    /// Filled polygons as one path, non-zero winding: abutting pieces merge without seams.
    func fillPolygons(_ polygons: [[PagePoint]], _ color: Color) {
        cairo_new_path(cr)
        for polygon in polygons where polygon.count >= 3 {
            cairo_move_to(cr, polygon[0].x, polygon[0].y)
            for p in polygon.dropFirst() { cairo_line_to(cr, p.x, p.y) }
            cairo_close_path(cr)
        }
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_WINDING)
        setColor(color)
        cairo_fill(cr)
    }

    /// A line from `a` to `b` ending in a filled head at `b`, the head at most a third of the line.
    func arrow(_ a: PagePoint, _ b: PagePoint, _ color: Color, width: Double) {
        let dx = b.x - a.x, dy = b.y - a.y, length = (dx * dx + dy * dy).squareRoot()
        guard length > 0.5 else { return }
        let head = min(3 + 2.5 * width, length / 3), ux = dx / length, uy = dy / length
        let base = PagePoint(b.x - ux * head, b.y - uy * head)
        line(a, base, color, width: width)
        fillPolygons([[b, PagePoint(base.x - uy * head * 0.45, base.y + ux * head * 0.45),
                       PagePoint(base.x + uy * head * 0.45, base.y - ux * head * 0.45)]], color)
    }

    /// An axis-aligned ellipse, outlined over a translucent fill of the same colour.
    func ellipse(center: PagePoint, rx: Double, ry: Double, _ color: Color, width: Double) {
        guard rx > 0, ry > 0 else { return }
        cairo_new_path(cr)
        cairo_save(cr)
        cairo_translate(cr, center.x, center.y)
        cairo_scale(cr, rx, ry)
        cairo_arc(cr, 0, 0, 1, 0, 2 * Double.pi)
        cairo_restore(cr)
        setColor(color.withAlpha(0.18))
        cairo_fill_preserve(cr)
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_stroke(cr)
    }

    // MARK: Text

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Width and height of a single line of text (height is the font's ascent + descent, so lines
    /// of different text line up).
    func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, text, &extents)
        var font = cairo_font_extents_t()
        cairo_font_extents(cr, &font)
        return (extents.x_advance, font.ascent + font.descent)
    }

    /// Draws one line of text anchored at `at`; `rotated` turns it 90° counter-clockwise (for a
    /// y-axis title). Returns the box it covers.
    @discardableResult
    func text(_ text: String, at: PagePoint, size: Double, color: Color = .text, bold: Bool = false,
              anchor: Anchor = .left, baseline: Baseline = .bottom, rotated: Bool = false) -> Rect {
        let (width, height) = measure(text, size: size, bold: bold)
        var font = cairo_font_extents_t()
        cairo_font_extents(cr, &font)
        let dx: Double = anchor == .left ? 0 : anchor == .center ? -width / 2 : -width
        let top: Double = baseline == .top ? 0 : baseline == .middle ? -height / 2 : -height
        cairo_save(cr)
        cairo_translate(cr, at.x, at.y)
        if rotated { cairo_rotate(cr, -Double.pi / 2) }
        cairo_move_to(cr, dx, top + font.ascent)
        setColor(color)
        cairo_show_text(cr, text)
        cairo_restore(cr)
        return rotated ? Rect(x: at.x + top, y: at.y - dx - width, width: height, height: width)
                       : Rect(x: at.x + dx, y: at.y + top, width: width, height: height)
    }
}
