import CCairo
import Foundation
import Support

/// Where a 3-D panel is seen from, in degrees as matplotlib's `view_init`: `azimuth` around the
/// z axis from +x (counter-clockwise seen from above), `elevation` above the x–y plane.
public struct Camera: Equatable, Sendable {
    public var azimuth: Double
    public var elevation: Double

    /// matplotlib's default view (−60°, 30°).
    public static let standard = Camera(checkedAzimuth: -60, elevation: 30)

    /// Azimuth is any angle in −360...360, elevation in −90...90 (from below to from above).
    public init(azimuth: Double, elevation: Double) throws {
        guard azimuth.isFinite, (-360...360).contains(azimuth) else { throw SettingError("azimuth", "must be in -360...360 degrees, got \(azimuth)") }
        guard elevation.isFinite, (-90...90).contains(elevation) else { throw SettingError("elevation", "must be in -90...90 degrees, got \(elevation)") }
        self.init(checkedAzimuth: azimuth, elevation: elevation)
    }

    private init(checkedAzimuth azimuth: Double, elevation: Double) { self.azimuth = azimuth; self.elevation = elevation }

    /// The same camera turned `degrees` further around z (an animation's rotation).
    public func turned(by degrees: Double) -> Camera { Camera(checkedAzimuth: azimuth + degrees, elevation: elevation) }
}

/// A 3-D panel (matplotlib's `Axes3D`): a surface z = f(x, y) as a shaded, colour-mapped mesh in
/// a box with panes and ticks, seen by an orthographic camera. Lines, markers and texts are given
/// in (x, y) like on a 2-D `Axes` and drawn on the surface, lifted slightly above it; the parts a
/// nearer part of the surface hides are drawn faint. Hidden surfaces are removed by the painter's
/// algorithm (facets far to near); a depth buffer of the same facets decides what of a path is
/// hidden. z is clipped to a robust range of the surface (`robustRange`) so a pole does not
/// flatten the rest.
public final class Axes3D: PanelLayout {
    public var title: String?
    public var camera: Camera
    /// Set when an animation turns the camera: the mesh and box are then redrawn in every frame
    /// instead of once in the background.
    public var cameraIsAnimated = false
    /// nil hides the legend; `best` puts it above the figure's colour bar (a 3-D view has no free corner to find).
    public var legendPlacement: LegendPlacement? = .best
    public var xLabel = "x", yLabel = "y", zLabel = "z"

    public internal(set) var frame = Rect(x: 0, y: 0, width: 0, height: 0)
    var artists: [Artist] = []
    var animatedArtists: Set<Int> = []
    var resolvedLegend: LegendPlacement?

    private(set) var mesh: SurfaceMesh?
    /// The projection and its facets for the current camera and frame, made when first needed.
    private var cachedScene: Scene?

    init(camera: Camera) { self.camera = camera }

    // MARK: Plotting

    /// The surface f over the window x × y, sampled on `resolution` × `resolution` facets,
    /// coloured like filled contours at `levels` (band k between levels[k] and levels[k+1]) and
    /// clipped to `zRange` (nil: the samples' `ScalarGrid.robustRange`).
    public func surface(x: ClosedRange<Double>, y: ClosedRange<Double>, levels: [Double], colormap: Colormap = .viridis,
                        zRange: ClosedRange<Double>? = nil, resolution: Int = 96, _ f: @escaping (Double, Double) -> Double) {
        precondition(resolution >= 1 && levels.count >= 2)
        let grid = ScalarGrid(x: x, y: y, columns: resolution + 1, rows: resolution + 1, f)
        mesh = SurfaceMesh(grid: grid, height: f, zRange: zRange ?? grid.robustRange, levels: levels, colors: colormap.bandColors(levels.count - 1))
    }

    // MARK: Geometry

    /// The figure point where the surface point above data (x, y) is drawn (z clipped, not
    /// lifted); valid after layout. nil outside the surface's window.
    public func point(x: Double, y: Double) -> PagePoint? {
        scene().surfacePoint(x, y, lift: 0).map { scene().projection.page($0) }
    }

    /// The figure point of a point in data coordinates, z included; valid after layout.
    public func point(x: Double, y: Double, z: Double) -> PagePoint {
        let projection = scene().projection
        return projection.page(projection.box(x, y, z))
    }

    func scene() -> Scene {
        if let cachedScene, cachedScene.camera == camera, cachedScene.frame == frame { return cachedScene }
        let scene = Scene(camera: camera, frame: frame, mesh: mesh)
        cachedScene = scene
        return scene
    }

    // MARK: Layout

    func prepareLayout() { resolvedLegend = nil }

    /// The box's ticks are chosen when drawn (they depend on the camera, which may turn).
    func layoutTicks(_ canvas: Canvas, xLength: Double, yLength: Double) {}

    /// Beyond the room the box leaves inside the frame, the z tick labels and name on the left.
    func insets(_ canvas: Canvas) -> (top: Double, left: Double, bottom: Double, right: Double) {
        let zLabels = Scene.ticks(mesh?.zRange ?? 0...1, BoxProjection.half.z).map { canvas.measure($0.1, size: Axes.tickLabelSize).width }
        let zRoom = (zLabels.max() ?? 0) + 14 + canvas.measure("Ag", size: Axes.labelSize).height
        return (max(4, titleHeight(canvas) + 6), max(4, zRoom - Scene.margin), 4, legendInset(canvas) ?? 4)
    }

    func placeLegend(_ canvas: Canvas) {
        guard legend != nil else { resolvedLegend = nil; return }
        resolvedLegend = legendPlacement.map { $0 == .best ? .aboveColorBar : $0 }
    }

    // MARK: Drawing

    /// The background holds the box, the mesh and the static artists' lines (unless the camera
    /// turns: then they are drawn in every frame); the foreground the animated artists' lines,
    /// then every artist's markers, as on a 2-D `Axes`.
    func draw(_ canvas: Canvas, _ layer: Layer, textIsAnimated: Bool) {
        let scene = scene()
        let still = artists.indices.filter { !animatedArtists.contains($0) }
        if layer != .foreground {
            if !cameraIsAnimated { drawScenery(canvas, scene, still) }
            if !textIsAnimated { drawTitleAndLegend(canvas) }
        }
        if layer != .background {
            if cameraIsAnimated { drawScenery(canvas, scene, still) }
            for k in artists.indices where animatedArtists.contains(k) { surfaceArtist(k).draw(canvas, scene) }
            for k in artists.indices { surfaceArtist(k).drawMarkers(canvas, scene) }
            if textIsAnimated { drawTitleAndLegend(canvas) }
        }
    }

    /// Axes3D adds only artists it can draw on a surface.
    private func surfaceArtist(_ k: Int) -> any SurfaceArtist { artists[k] as! any SurfaceArtist }

    private func drawScenery(_ canvas: Canvas, _ scene: Scene, _ chosen: [Int]) {
        scene.drawBox(canvas, labels: (xLabel, yLabel, zLabel))
        for facet in scene.facets {
            for piece in facet.pieces {
                canvas.fillPolygons([piece.polygon], piece.color)
                // The piece's own colour around its edge hides the anti-aliasing seams between pieces.
                canvas.polyline(piece.polygon + [piece.polygon[0]], piece.color, width: 0.35)
            }
        }
        for k in chosen { surfaceArtist(k).draw(canvas, scene) }
    }
}

/// The surface's samples, its clipped z range and its band colours.
struct SurfaceMesh {
    let grid: ScalarGrid
    let height: (Double, Double) -> Double
    let zRange: ClosedRange<Double>
    let levels: [Double]
    let colors: [Color]

    /// A corner of a facet on the page with its (clipped) height.
    typealias Vertex = (point: PagePoint, value: Double)

    /// The contour band holding `v`: k between levels[k] and levels[k + 1], the lowest and the
    /// top band open below and above.
    func band(_ v: Double) -> Int { min(levels.dropFirst().filter { $0 <= v }.count, colors.count - 1) }

    /// A facet cut along the level lines into pieces within one band each, with their bands, so
    /// band edges run smoothly across the mesh instead of stepping along its facets. A facet in
    /// one band stays whole; one that crosses a level is split into two triangles, over which the
    /// height is linear (the cut is exact and neighbours' cuts meet on their shared edges), and
    /// each is clipped to every band it meets.
    func pieces(_ corners: [Vertex]) -> [(polygon: [PagePoint], band: Int)] {
        let bands = corners.map { band($0.value) }
        guard let low = bands.min(), let high = bands.max(), low < high else { return [(corners.map(\.point), bands[0])] }
        let triangles = [[corners[0], corners[1], corners[2]], [corners[0], corners[2], corners[3]]]
        return triangles.flatMap { triangle in
            (low...high).compactMap { k in
                var piece = triangle
                if k > 0 { piece = Self.clip(piece, to: levels[k], above: true) }
                if k < colors.count - 1 { piece = Self.clip(piece, to: levels[k + 1], above: false) }
                return piece.count >= 3 ? (piece.map(\.point), k) : nil
            }
        }
    }

    /// The part of a convex polygon at or above (or at or below) `level`, its height interpolated
    /// linearly along the edges (Sutherland–Hodgman against one level).
    static func clip(_ polygon: [Vertex], to level: Double, above: Bool) -> [Vertex] {
        let side = { (v: Vertex) in above ? v.value - level : level - v.value }
        var kept: [Vertex] = []
        for (a, b) in zip(polygon, polygon.dropFirst() + polygon.prefix(1)) {
            let sa = side(a), sb = side(b)
            if sa >= 0 { kept.append(a) }
            if (sa >= 0) != (sb >= 0) {
                let t = sa / (sa - sb)
                kept.append((PagePoint(a.point.x + (b.point.x - a.point.x) * t, a.point.y + (b.point.y - a.point.y) * t), level))
            }
        }
        return kept
    }
}

/// The orthographic projection of the data box onto the page: the box (x and y spans equal,
/// z three quarters of them, matplotlib's 4:4:3) scaled so that it fits the frame at any
/// azimuth, so turning the camera never resizes it.
struct BoxProjection {
    static let half = SIMD3<Double>(0.5, 0.5, 0.375)
    let x: ClosedRange<Double>, y: ClosedRange<Double>, z: ClosedRange<Double>
    /// Screen right, screen up and the direction to the viewer, in box coordinates.
    let right: SIMD3<Double>, up: SIMD3<Double>, toward: SIMD3<Double>
    let center: PagePoint, scale: Double

    init(camera: Camera, x: ClosedRange<Double>, y: ClosedRange<Double>, z: ClosedRange<Double>, frame: Rect) {
        self.x = x; self.y = y; self.z = z
        let az = camera.azimuth * .pi / 180, el = camera.elevation * .pi / 180
        toward = SIMD3(cos(el) * cos(az), cos(el) * sin(az), sin(el))
        right = SIMD3(-sin(az), cos(az), 0)
        up = SIMD3(-sin(el) * cos(az), -sin(el) * sin(az), cos(el))
        let radius = (Self.half.x * Self.half.x + Self.half.y * Self.half.y).squareRoot()
        let halfHeight = radius * abs(sin(el)) + Self.half.z * cos(el)
        scale = min(frame.width / (2 * radius), frame.height / (2 * halfHeight))
        center = PagePoint(frame.x + frame.width / 2, frame.y + frame.height / 2)
    }

    /// Data coordinates to box coordinates (each axis's range onto −half...half).
    func box(_ px: Double, _ py: Double, _ pz: Double) -> SIMD3<Double> {
        func unit(_ v: Double, _ r: ClosedRange<Double>) -> Double { r.upperBound > r.lowerBound ? (v - r.lowerBound) / (r.upperBound - r.lowerBound) : 0.5 }
        return (SIMD3(unit(px, x), unit(py, y), unit(pz, z)) * 2 - 1) * Self.half
    }

    func page(_ p: SIMD3<Double>) -> PagePoint { PagePoint(center.x + scale * (p * right).sum(), center.y - scale * (p * up).sum()) }
    /// Larger is nearer the viewer.
    func depth(_ p: SIMD3<Double>) -> Double { (p * toward).sum() }
}

/// One quadrilateral of the mesh on the page.
struct Facet {
    var corners: [PagePoint]
    var depths: [Double]
    /// The depth of its centre, which orders the painting.
    var depth: Double
    /// The facet cut along the level lines (`SurfaceMesh.pieces`), each piece in its band's shaded colour.
    var pieces: [(polygon: [PagePoint], color: Color)]
}

/// Everything one camera sees: the projection, the facets far to near, and a depth buffer of
/// the nearest surface per page cell, against which lines and markers test their visibility.
struct Scene {
    let camera: Camera, frame: Rect
    let projection: BoxProjection
    let mesh: SurfaceMesh?
    let facets: [Facet]
    let depths: DepthBuffer
    /// How far above the surface lines and markers are drawn, and how far behind the nearest
    /// surface a point may lie and still count as seen (facets are flat, the surface is not).
    static let lift = 0.012, tolerance = 0.02
    /// Room inside the frame for the box's tick labels and axis names.
    static let margin = 22.0

    init(camera: Camera, frame: Rect, mesh: SurfaceMesh?) {
        self.camera = camera; self.frame = frame; self.mesh = mesh
        let inner = Rect(x: frame.x + Self.margin, y: frame.y + 4, width: max(1, frame.width - 2 * Self.margin), height: max(1, frame.height - Self.margin - 4))
        let grid = mesh?.grid
        let projection = BoxProjection(camera: camera, x: (grid?.xs.first ?? 0)...(grid?.xs.last ?? 1), y: (grid?.ys.first ?? 0)...(grid?.ys.last ?? 1),
                                       z: mesh?.zRange ?? 0...1, frame: inner)
        let facets = mesh.map { Self.facets($0, projection) } ?? []
        self.projection = projection
        self.facets = facets
        depths = DepthBuffer(frame: frame, facets: facets)
    }

    /// The mesh's quads, shaded and ordered far to near (painter's algorithm).
    static func facets(_ mesh: SurfaceMesh, _ projection: BoxProjection) -> [Facet] {
        let grid = mesh.grid, columns = grid.xs.count, z = mesh.zRange
        // A light over the viewer's left shoulder, turning with the camera, so the faces in view are lit.
        let l = projection.toward + 0.6 * projection.up - 0.4 * projection.right, light = l / (l * l).sum().squareRoot()
        let clipped = grid.values.map { min(max($0, z.lowerBound), z.upperBound) }
        let points = clipped.indices.map { k in projection.box(grid.xs[k % columns], grid.ys[k / columns], clipped[k]) }
        var facets: [Facet] = []
        facets.reserveCapacity((columns - 1) * (grid.ys.count - 1))
        for j in 0..<(grid.ys.count - 1) {
            for i in 0..<(columns - 1) {
                let indices = [j * columns + i, j * columns + i + 1, (j + 1) * columns + i + 1, (j + 1) * columns + i]
                let corners = indices.map { points[$0] }
                var normal = cross(corners[2] - corners[0], corners[3] - corners[1])
                let length = (normal * normal).sum().squareRoot()
                normal = length > 0 ? normal / length : SIMD3(0, 0, 1)
                if (normal * projection.toward).sum() < 0 { normal = -normal }
                let shade = 0.62 + 0.38 * max(0, (normal * light).sum())
                let page = corners.map(projection.page)
                let pieces = mesh.pieces(zip(page, indices.map { clipped[$0] }).map { ($0, $1) }).map { piece in
                    let base = mesh.colors[piece.band]
                    return (piece.polygon, Color(red: base.red * shade, green: base.green * shade, blue: base.blue * shade))
                }
                let center = corners.reduce(SIMD3<Double>(), +) / 4
                facets.append(Facet(corners: page, depths: corners.map(projection.depth), depth: projection.depth(center), pieces: pieces))
            }
        }
        return facets.sorted { $0.depth < $1.depth }
    }

    /// The box point on the surface above data (x, y), lifted by `lift`; nil outside the window
    /// or where f is not a number.
    func surfacePoint(_ x: Double, _ y: Double, lift: Double = Scene.lift) -> SIMD3<Double>? {
        guard let mesh, x.isFinite, y.isFinite, projection.x.contains(x), projection.y.contains(y) else { return nil }
        let f = mesh.height(x, y)
        guard !f.isNaN else { return nil }
        var p = projection.box(x, y, min(max(f, mesh.zRange.lowerBound), mesh.zRange.upperBound))
        p.z += lift
        return p
    }

    /// Whether a box point is in front of (or on) the nearest surface at its place on the page.
    func isVisible(_ p: SIMD3<Double>) -> Bool {
        projection.depth(p) + Self.tolerance >= depths.nearest(at: projection.page(p))
    }

    /// A path over the surface as page polylines, each run all seen or all hidden: segments are
    /// divided every ~3 points of page so the line follows the surface's curve, and broken where
    /// the path leaves the window or has no value.
    func runs(xs: [Double], ys: [Double]) -> [(points: [PagePoint], visible: Bool)] {
        var runs: [(points: [PagePoint], visible: Bool)] = []
        var previous: (x: Double, y: Double, p: SIMD3<Double>)?
        var open = false
        func add(_ p: SIMD3<Double>) {
            let page = projection.page(p), visible = isVisible(p)
            if open, runs[runs.count - 1].visible == visible {
                runs[runs.count - 1].points.append(page)
            } else {
                // A change of visibility starts the new run where the old one ended.
                let joint = open ? runs[runs.count - 1].points.last.map { [$0] } ?? [] : []
                runs.append((joint + [page], visible))
                open = true
            }
        }
        for (x, y) in zip(xs, ys) {
            guard let p = surfacePoint(x, y) else { previous = nil; open = false; continue }
            if let a = previous {
                let a2 = projection.page(a.p), b2 = projection.page(p)
                let pieces = min(64, max(1, Int((((b2.x - a2.x) * (b2.x - a2.x) + (b2.y - a2.y) * (b2.y - a2.y)).squareRoot() / 3).rounded(.up))))
                for k in 1..<pieces {
                    let t = Double(k) / Double(pieces)
                    guard let q = surfacePoint(a.x + (x - a.x) * t, a.y + (y - a.y) * t) else { open = false; continue }
                    add(q)
                }
            } else {
                open = false
            }
            add(p)
            previous = (x, y, p)
        }
        return runs.filter { $0.points.count >= 2 }
    }

    // MARK: The box

    /// The three far panes (floor and two walls) with grid lines at the ticks, tick labels along
    /// the near floor edges and the left vertical edge, and the axis names.
    func drawBox(_ canvas: Canvas, labels: (x: String, y: String, z: String)) {
        let h = BoxProjection.half, t = projection.toward
        // The far side of each axis, and the floor (the ceiling when seen from below).
        let farX = t.x > 0 ? -h.x : h.x, farY = t.y > 0 ? -h.y : h.y, floor = t.z >= 0 ? -h.z : h.z
        let xTicks = Self.ticks(projection.x, h.x), yTicks = Self.ticks(projection.y, h.y), zTicks = Self.ticks(projection.z, h.z)
        let pane = Color(hex: 0xF2F2F2), gridColor = Color(hex: 0xD9D9D9)
        let page = projection.page
        let panes: [[SIMD3<Double>]] = [
            [SIMD3(-h.x, -h.y, floor), SIMD3(h.x, -h.y, floor), SIMD3(h.x, h.y, floor), SIMD3(-h.x, h.y, floor)],
            [SIMD3(farX, -h.y, -h.z), SIMD3(farX, h.y, -h.z), SIMD3(farX, h.y, h.z), SIMD3(farX, -h.y, h.z)],
            [SIMD3(-h.x, farY, -h.z), SIMD3(h.x, farY, -h.z), SIMD3(h.x, farY, h.z), SIMD3(-h.x, farY, h.z)],
        ]
        for corners in panes { canvas.fillPolygons([corners.map(page)], pane) }
        for (v, _) in xTicks {
            canvas.polyline([SIMD3(v, -h.y, floor), SIMD3(v, h.y, floor), SIMD3(v, farY, -floor)].map(page), gridColor, width: 0.6)
        }
        for (v, _) in yTicks {
            canvas.polyline([SIMD3(-h.x, v, floor), SIMD3(h.x, v, floor), SIMD3(farX, v, -floor)].map(page), gridColor, width: 0.6)
        }
        for (v, _) in zTicks {
            canvas.polyline([SIMD3(-farX, farY, v), SIMD3(farX, farY, v), SIMD3(farX, -farY, v)].map(page), gridColor, width: 0.6)
        }
        // Labels go outwards from the box's centre on the page.
        let middle = page(SIMD3(0, 0, floor))
        func outward(_ p: PagePoint, by distance: Double) -> PagePoint {
            let dx = p.x - middle.x, dy = p.y - middle.y, length = max((dx * dx + dy * dy).squareRoot(), 1e-9)
            return PagePoint(p.x + dx / length * distance, p.y + dy / length * distance)
        }
        let nearX = -farX, nearY = -farY
        for (v, label) in xTicks { label3(canvas, label, outward(page(SIMD3(v, nearY, floor)), by: 9), size: Axes.tickLabelSize) }
        for (v, label) in yTicks { label3(canvas, label, outward(page(SIMD3(nearX, v, floor)), by: 9), size: Axes.tickLabelSize) }
        label3(canvas, labels.x, outward(page(SIMD3(0, nearY, floor)), by: 20), size: Axes.labelSize)
        label3(canvas, labels.y, outward(page(SIMD3(nearX, 0, floor)), by: 20), size: Axes.labelSize)
        // z along the vertical edge furthest left on the page.
        let corners = [SIMD3(-h.x, -h.y, 0), SIMD3(h.x, -h.y, 0), SIMD3(h.x, h.y, 0), SIMD3(-h.x, h.y, 0)]
        let left = corners.min { page($0).x < page($1).x }!
        var widest = 0.0
        for (v, label) in zTicks {
            let p = page(SIMD3(left.x, left.y, v))
            widest = max(widest, canvas.text(label, at: PagePoint(p.x - 5, p.y), size: Axes.tickLabelSize, anchor: .right, baseline: .middle).width)
        }
        let zMiddle = page(SIMD3(left.x, left.y, 0))
        canvas.text(labels.z, at: PagePoint(zMiddle.x - 9 - widest, zMiddle.y), size: Axes.labelSize, anchor: .center, baseline: .bottom, rotated: true)
    }

    /// About four ticks strictly inside `range` (labels at the box's corners would collide with
    /// the neighbouring axis's), at their box coordinates.
    static func ticks(_ range: ClosedRange<Double>, _ half: Double) -> [(Double, String)] {
        let span = range.upperBound - range.lowerBound
        return Ticks.linear(range, target: 4).filter(\.isMajor).map { (((($0.value - range.lowerBound) / span) * 2 - 1) * half, $0.label) }
            .filter { abs($0.0) < half * 0.97 }
    }

    private func label3(_ canvas: Canvas, _ text: String, _ at: PagePoint, size: Double) {
        canvas.text(text, at: at, size: size, color: .text, anchor: .center, baseline: .middle)
    }
}

private func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

/// The nearest facet depth per page point (one cell per point over the frame), by
/// rasterising each facet as two triangles with their corners' depths interpolated.
struct DepthBuffer {
    let origin: PagePoint
    let width: Int, height: Int
    private var nearest: [Double]

    init(frame: Rect, facets: [Facet]) {
        origin = PagePoint(frame.x, frame.y)
        width = max(1, Int(frame.width.rounded(.up)) + 1); height = max(1, Int(frame.height.rounded(.up)) + 1)
        nearest = Array(repeating: -.infinity, count: width * height)
        for facet in facets {
            for triangle in [[0, 1, 2], [0, 2, 3]] { fill(triangle.map { facet.corners[$0] }, triangle.map { facet.depths[$0] }) }
        }
    }

    private mutating func fill(_ p: [PagePoint], _ d: [Double]) {
        let a = PagePoint(p[0].x - origin.x, p[0].y - origin.y), b = PagePoint(p[1].x - origin.x, p[1].y - origin.y)
        let c = PagePoint(p[2].x - origin.x, p[2].y - origin.y)
        let area = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y)
        guard abs(area) > 1e-12 else { return }
        let x0 = max(0, Int(min(a.x, b.x, c.x).rounded(.down))), x1 = min(width - 1, Int(max(a.x, b.x, c.x).rounded(.up)))
        let y0 = max(0, Int(min(a.y, b.y, c.y).rounded(.down))), y1 = min(height - 1, Int(max(a.y, b.y, c.y).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for cy in y0...y1 {
            for cx in x0...x1 {
                let px = Double(cx), py = Double(cy)
                let wa = ((b.x - px) * (c.y - py) - (c.x - px) * (b.y - py)) / area
                let wb = ((c.x - px) * (a.y - py) - (a.x - px) * (c.y - py)) / area
                let wc = 1 - wa - wb
                // A hair of slack so cells on shared edges are covered by both neighbours.
                guard wa >= -0.02, wb >= -0.02, wc >= -0.02 else { continue }
                let depth = wa * d[0] + wb * d[1] + wc * d[2]
                if depth > nearest[cy * width + cx] { nearest[cy * width + cx] = depth }
            }
        }
    }

    /// The nearest surface depth at a page point (−∞ where no facet covers it).
    func nearest(at p: PagePoint) -> Double {
        let cx = Int((p.x - origin.x).rounded()), cy = Int((p.y - origin.y).rounded())
        guard cx >= 0, cy >= 0, cx < width, cy < height else { return -.infinity }
        return nearest[cy * width + cx]
    }
}

/// An artist a 3-D panel draws on its surface: lines and texts in `draw`, markers in
/// `drawMarkers` (after every line, as on a 2-D axes); what a nearer part of the surface hides is faint.
protocol SurfaceArtist: Artist {
    func draw(_ canvas: Canvas, _ scene: Scene)
    func drawMarkers(_ canvas: Canvas, _ scene: Scene)
}

/// How much of its colour a hidden line or marker keeps.
private let hiddenAlpha = 0.3

extension LineArtist: SurfaceArtist {
    func draw(_ canvas: Canvas, _ scene: Scene) {
        let runs = scene.runs(xs: xs, ys: ys)
        for run in runs where !run.visible {
            canvas.polyline(run.points, style.color.withAlpha(style.color.alpha * hiddenAlpha), width: style.width * 0.8, dash: style.dash)
        }
        if halo {
            for run in runs where run.visible { canvas.polyline(run.points, Color.white.withAlpha(0.85), width: style.width + 2.2, dash: style.dash) }
        }
        for run in runs where run.visible { canvas.polyline(run.points, style.color, width: style.width, dash: style.dash) }
    }

    func drawMarkers(_ canvas: Canvas, _ scene: Scene) {
        guard let marker else { return }
        let points = zip(xs, ys).compactMap { scene.surfacePoint($0, $1) }
        let every = markEvery ?? markerSpacing(points: points.count)
        for (k, p) in points.enumerated() where k % every == 0 {
            drawSurfaceMarker(canvas, scene, p, marker, size: markerSize, color: style.color, edge: .white)
        }
    }
}

extension ScatterArtist: SurfaceArtist {
    func draw(_ canvas: Canvas, _ scene: Scene) {}

    func drawMarkers(_ canvas: Canvas, _ scene: Scene) {
        for (x, y) in points {
            guard let p = scene.surfacePoint(x, y) else { continue }
            drawSurfaceMarker(canvas, scene, p, marker, size: size, color: color, edge: edge)
        }
    }
}

private func drawSurfaceMarker(_ canvas: Canvas, _ scene: Scene, _ p: SIMD3<Double>, _ marker: Marker, size: Double, color: Color, edge: Color) {
    let fade = scene.isVisible(p) ? 1 : hiddenAlpha
    marker.draw(canvas, at: scene.projection.page(p), size: size, color: color.withAlpha(color.alpha * fade), edge: edge.withAlpha(edge.alpha * fade))
}

extension TextArtist: SurfaceArtist {
    func draw(_ canvas: Canvas, _ scene: Scene) {
        guard !text.isEmpty, let p = scene.surfacePoint(x, y) else { return }
        draw(canvas, at: scene.projection.page(p), within: scene.frame)
    }

    func drawMarkers(_ canvas: Canvas, _ scene: Scene) {}
}
