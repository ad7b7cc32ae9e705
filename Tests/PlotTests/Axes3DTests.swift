import CCairo
import Foundation
import XCTest
@testable import Plot

/// The 3-D panel: its projection, hidden surfaces and z clipping.
final class Axes3DTests: XCTestCase {
    /// From the front (azimuth −90°, elevation 0°) the box's top right front corner lands where the
    /// layout puts it: the box is drawn inside the panel's frame less 22 pt at the sides and below
    /// and 4 pt above, 1 × 0.75 seen from the front, scaled so its half-diagonal √½ fits half
    /// that width (it fits at any azimuth). In a 4 × 4 in figure the frame is 256.4 pt wide
    /// (288 less 10 pt padding each side, 4 pt on the right and the z labels' room on the left):
    /// 150.2 pt a unit, the corner 75.1 pt right of and 56.3 pt above the box's centre.
    func testTheProjectionMapsAKnownPointToAKnownPixel() throws {
        let figure = Figure(width: 4, height: 4, projection: .threeD(try Camera(azimuth: -90, elevation: 0)))
        let axes = figure.panels3D[0]
        axes.surface(x: 0...2, y: 0...1, levels: [0, 1, 2, 3], zRange: 0...3) { x, y in x + y }
        let raster = figure.rasterize(dpi: 72)
        let frame = axes.frame
        XCTAssertEqual(frame.maxX, 288 - 10 - 4, accuracy: 1e-9)
        XCTAssertEqual(frame.y, 10 + 6, accuracy: 1e-9)
        XCTAssertEqual(frame.maxY, 288 - 10 - 4, accuracy: 1e-9)
        let scale = (frame.width - 44) / 2 / 0.5.squareRoot()
        let center = PagePoint(frame.x + frame.width / 2, frame.y + 4 + (frame.height - 26) / 2)
        let corner = axes.point(x: 2, y: 0, z: 3)
        XCTAssertEqual(corner.x, center.x + 0.5 * scale, accuracy: 1e-9)
        XCTAssertEqual(corner.y, center.y - 0.375 * scale, accuracy: 1e-9)
        XCTAssertEqual(corner.x, 220.9, accuracy: 1, "\(frame)")
        XCTAssertEqual(corner.y, 79.7, accuracy: 1, "\(frame)")
        // Seen from the front, y is depth: the far corner lies on the near one.
        XCTAssertEqual(axes.point(x: 2, y: 1, z: 3), corner)
        // The surface's highest point (f(2, 1) = 3) is drawn there, in the top band's colour.
        let top = try XCTUnwrap(axes.point(x: 2, y: 1))
        XCTAssertEqual(top, corner)
        let pixel = raster.color(at: PagePoint(corner.x - 3, corner.y + 4))
        XCTAssertTrue(pixel.red > 0.5 && pixel.green > 0.5 && pixel.blue < 0.3, "yellow (viridis's top) near the corner, got \(pixel)")
    }

    /// A step f = 1 for y < 0, else 0, seen from the front and a little above: the step's wall is
    /// nearer than the floor behind it and covers it on the page; painted far to near, the wall
    /// (above the level at 0.05: top band, yellow) shows there, not the floor (bottom band, purple).
    func testANearerFacetHidesAFartherOne() throws {
        let figure = Figure(width: 4, height: 4, projection: .threeD(try Camera(azimuth: -90, elevation: 20)))
        let axes = figure.panels3D[0]
        axes.surface(x: -1...1, y: -1...1, levels: [-0.5, 0.05, 1.5], resolution: 48) { _, y in y < 0 ? 1 : 0 }
        let raster = figure.rasterize(dpi: 100)
        let scene = axes.scene()
        XCTAssertTrue(zip(scene.facets, scene.facets.dropFirst()).allSatisfy { $0.depth <= $1.depth }, "painted far to near")
        let floor = try XCTUnwrap(scene.surfacePoint(0, 0.5, lift: 0))
        let top = try XCTUnwrap(scene.surfacePoint(0, -0.5, lift: 0))
        XCTAssertFalse(scene.isVisible(floor), "the wall hides the floor behind it")
        XCTAssertTrue(scene.isVisible(top))
        let behind = raster.color(at: scene.projection.page(floor))
        XCTAssertGreaterThan(behind.green, 0.5, "the wall's yellow covers the floor, got \(behind)")
        XCTAssertGreaterThan(behind.red, 0.5, "the wall's yellow covers the floor, got \(behind)")
    }

    /// A line behind the wall is drawn faint; in front of it, in full colour.
    func testAHiddenLineIsFaint() throws {
        let figure = Figure(width: 4, height: 4, projection: .threeD(try Camera(azimuth: -90, elevation: 20)))
        let axes = figure.panels3D[0]
        axes.surface(x: -1...1, y: -1...1, levels: [-0.5, 0.05, 1.5]) { _, y in y < 0 ? 1 : 0 }
        let red = Color(hex: 0xE41A1C)
        axes.plot(x: [-0.8, 0.8], y: [0.5, 0.5], style: LineStyle(color: red, width: 3))
        axes.plot(x: [-0.8, 0.8], y: [-0.5, -0.5], style: LineStyle(color: red, width: 3))
        let raster = figure.rasterize(dpi: 100)
        let scene = axes.scene()
        let seen = raster.color(at: scene.projection.page(try XCTUnwrap(scene.surfacePoint(0, -0.5))))
        let hidden = raster.color(at: scene.projection.page(try XCTUnwrap(scene.surfacePoint(0, 0.5))))
        XCTAssertEqual(seen.red, red.red, accuracy: 0.03)
        XCTAssertEqual(seen.green, red.green, accuracy: 0.03)
        XCTAssertGreaterThan(hidden.green, 0.3, "faint red over the yellow wall, got \(hidden)")
        XCTAssertGreaterThan(hidden.green - seen.green, 0.2)
    }

    /// A facet whose corners lie in different bands is cut along the level lines: each piece lies
    /// within its band (checked on a height linear in page position, which the cut interpolates
    /// exactly), together they cover the facet, and a facet inside one band stays whole.
    func testAFacetCrossingLevelsIsCutIntoPiecesWithinOneBandEach() {
        let levels = [0.0, 1, 2, 3, 4]
        let mesh = SurfaceMesh(grid: ScalarGrid(x: 0...1, y: 0...1, columns: 2, rows: 2) { x, _ in x }, height: { x, _ in x }, zRange: 0...4,
                               levels: levels, colors: Colormap.viridis.bandColors(4))
        let height = { (p: PagePoint) in 0.2 + 0.24 * p.x + 0.12 * p.y }
        let square = [PagePoint(0, 0), PagePoint(10, 0), PagePoint(10, 10), PagePoint(0, 10)]
        let pieces = mesh.pieces(square.map { ($0, height($0)) })
        XCTAssertEqual(Set(pieces.map(\.band)), [0, 1, 2, 3], "0.2 to 3.8 meets every band")
        for (polygon, band) in pieces {
            let low = band == 0 ? -Double.infinity : levels[band], high = band == 3 ? .infinity : levels[band + 1]
            for p in polygon { XCTAssertTrue(height(p) >= low - 1e-9 && height(p) <= high + 1e-9, "\(p) at \(height(p)) in band \(band)") }
        }
        let area = { (polygon: [PagePoint]) in
            abs(zip(polygon, polygon.dropFirst() + [polygon[0]]).map { $0.x * $1.y - $1.x * $0.y }.reduce(0, +)) / 2
        }
        XCTAssertEqual(pieces.map { area($0.polygon) }.reduce(0, +), 100, accuracy: 1e-9)
        let inside = mesh.pieces(square.map { ($0, 1.5 + 0.01 * $0.x) })
        XCTAssertEqual(inside.count, 1)
        XCTAssertEqual(inside.first?.polygon, square)
        XCTAssertEqual(inside.first?.band, 1)
    }

    /// Seen from straight above, a plane's band edge lies on its level, not on a facet edge: four
    /// facets across z = x, the level 0.37 inside the facet from 0.25 to 0.5 (whose mean height is
    /// above it), and viridis's purple left of x = 0.37, its yellow right of it.
    func testABandEdgeRunsAlongItsLevelNotAlongTheFacets() throws {
        let figure = Figure(width: 4, height: 4, projection: .threeD(try Camera(azimuth: -90, elevation: 90)))
        let axes = figure.panels3D[0]
        axes.surface(x: 0...1, y: 0...1, levels: [0, 0.37, 1], resolution: 4) { x, _ in x }
        let raster = figure.rasterize(dpi: 100)
        let edge = try XCTUnwrap(axes.point(x: 0.37, y: 0.5))
        let below = raster.color(at: PagePoint(edge.x - 2, edge.y)), above = raster.color(at: PagePoint(edge.x + 2, edge.y))
        XCTAssertLessThan(below.green, 0.2, "purple left of the level, got \(below)")
        XCTAssertGreaterThan(above.green, 0.7, "yellow right of the level, got \(above)")
    }

    /// A 3-D panel's legend goes in the figure's right-hand column with the colour bar under it,
    /// so both sit right beside the panel; its right edge stays put when a label grows (an
    /// animation's changing losses), so it grows toward the panel, not off the figure.
    func testThe3DLegendSitsAboveTheColorBarBesideThePanel() throws {
        let figure = Figure(width: 8, height: 5, projection: .threeD(.standard))
        let axes = figure.panels3D[0]
        axes.surface(x: -1...1, y: -1...1, levels: [-1, 0, 1]) { x, y in x * x - y * y }
        let line = axes.plot(x: [0, 0.5], y: [0, 0.5], style: LineStyle(color: .black), label: "a path")
        figure.colorBar = ColorBar(scale: .bands(levels: [-1, 0, 1]), label: "f(x, y)")
        let raster = figure.rasterize(dpi: 72)
        figure.freezeLayout()
        let grid = try XCTUnwrap(figure.frozenGrid)
        let canvas = Canvas(cairo_create(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1))!)
        let box = try XCTUnwrap(figure.columnLegendBoxes(canvas, grid).first?.box)
        XCTAssertEqual(axes.resolvedLegend, .aboveColorBar)
        XCTAssertEqual(box.maxX, figure.width * 72 - 10, accuracy: 1e-9, "at the figure's right padding")
        XCTAssertEqual(box.y, axes.frame.y, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(axes.frame.maxX, grid.maxX, "the panel keeps clear of the column")
        XCTAssertLessThanOrEqual(grid.maxX - axes.frame.maxX, 4 + 1e-9, "no room kept beside the panel for the legend")
        // The bar (its middle, 14 pt right of the grid, 11 pt wide) starts below the legend.
        let barX = grid.maxX + 14 + 5.5
        XCTAssertLessThan(raster.color(at: PagePoint(barX, box.maxY + 30)).blue, 0.5, "the top band's yellow below the legend")
        XCTAssertGreaterThan(raster.color(at: PagePoint(barX, box.y + 3)).blue, 0.9, "the legend's white above it")
        line.setLabel("a path whose label grew")
        let grown = try XCTUnwrap(figure.columnLegendBoxes(canvas, grid).first?.box)
        XCTAssertEqual(grown.maxX, box.maxX, accuracy: 1e-9)
        XCTAssertLessThan(grown.x, box.x)
    }

    /// A pole's heights are cut to a robust range; a smooth surface keeps its whole range.
    func testZIsClippedBelowAPoleButNotOnASmoothSurface() {
        let pole = ScalarGrid(x: -2...2, y: -2...2, columns: 241, rows: 241) { x, y in 1 / (x * x + y * y) }
        XCTAssertGreaterThan(pole.finiteRange.upperBound, 1000)
        let clipped = pole.robustRange
        XCTAssertLessThan(clipped.upperBound, 10)
        XCTAssertEqual(clipped.lowerBound, pole.finiteRange.lowerBound)
        let inside = pole.values.filter { clipped.contains($0) }.count
        XCTAssertGreaterThan(Double(inside) / Double(pole.values.count), 0.9, "the pole alone is cut")
        let bowl = ScalarGrid(x: -1.5...1.5, y: -2...2, columns: 241, rows: 241) { x, y in 20 * x * x + 2 * y * y }
        XCTAssertEqual(bowl.robustRange, bowl.finiteRange)
    }

    func testACameraOutsideItsRangeIsRefused() {
        XCTAssertThrowsError(try Camera(azimuth: 0, elevation: 91)) { XCTAssertEqual("\($0)", "elevation must be in -90...90 degrees, got 91.0") }
        XCTAssertThrowsError(try Camera(azimuth: .nan, elevation: 30)) { XCTAssertEqual("\($0)", "azimuth must be in -360...360 degrees, got nan") }
        XCTAssertNoThrow(try Camera(azimuth: -360, elevation: -90))
    }
}
