import CCairo
import Foundation
import XCTest
@testable import Plot

/// Rendering is checked through pixels and geometry, never whole golden images.
final class PlotTests: XCTestCase {
    func assertClose(_ a: Color, _ b: Color, within tolerance: Double = 2.0 / 255, file: StaticString = #filePath, line: UInt = #line) {
        let d = max(abs(a.red - b.red), abs(a.green - b.green), abs(a.blue - b.blue))
        XCTAssertLessThanOrEqual(d, tolerance, "\(a) vs \(b)", file: file, line: line)
    }

    func testLineColourAppearsAtItsDataPoint() {
        let figure = Figure(width: 4, height: 3)
        let adam = Palette.colors[5]
        figure.axes.plot(x: [0, 10], y: [0, 10], style: LineStyle(color: adam, width: 4))
        let raster = figure.rasterize(dpi: 100)
        assertClose(raster.color(at: figure.axes.point(x: 5, y: 5)), adam)
        // Off the line: the white background.
        assertClose(raster.color(at: figure.axes.point(x: 8, y: 2)), .white)
    }

    func testMarkersOnTheEdgeShowWholeWhileLinesStayClipped() {
        let figure = Figure(width: 4, height: 3)
        let axes = figure.axes
        let adam = Palette.colors[5], sgd = Palette.colors[0]
        axes.xLimits = 0...10
        axes.yLimits = 0...10
        axes.scatter([(10, 5)], marker: .circle, size: 14, color: adam)
        axes.plot(x: [0, 20], y: [2, 2], style: LineStyle(color: sgd, width: 4))
        let raster = figure.rasterize(dpi: 100)
        let edge = axes.point(x: 10, y: 5), line = axes.point(x: 10, y: 2)
        assertClose(raster.color(at: PagePoint(edge.x + 3, edge.y)), adam)
        assertClose(raster.color(at: PagePoint(line.x + 4, line.y)), .white)
    }

    func testDataTransformHonoursLimitsAndLogScale() {
        let figure = Figure(width: 4, height: 3)
        let axes = figure.axes
        axes.xScale = .log
        axes.xLimits = 1...100
        axes.yLimits = -1...1
        axes.plot(x: [1, 100], y: [0, 0], style: LineStyle(color: .black))
        _ = figure.rasterize(dpi: 72)
        XCTAssertEqual(axes.point(x: 1, y: -1).x, axes.frame.x, accuracy: 1e-9)
        XCTAssertEqual(axes.point(x: 10, y: 0).x, axes.frame.x + axes.frame.width / 2, accuracy: 1e-9)
        XCTAssertEqual(axes.point(x: 100, y: 1).y, axes.frame.y, accuracy: 1e-9, "y grows upwards")
        XCTAssertEqual(axes.point(x: 1, y: -1).y, axes.frame.maxY, accuracy: 1e-9)
    }

    func testContourFillAtTheMinimumIsTheColormapLowEnd() {
        let grid = ScalarGrid(x: -2...2, y: -1...3, columns: 81, rows: 81) { x, y in x * x + (y - 1) * (y - 1) }
        let levels = ContourLevels.logSpaced(minimum: 0, maximum: grid.finiteRange.upperBound, count: 12)
        let figure = Figure(width: 4, height: 4)
        figure.axes.contourFilled(ContourSet(grid, levels: levels))
        figure.colorBar = ColorBar(scale: .bands(levels: levels))
        let raster = figure.rasterize(dpi: 100)
        assertClose(raster.color(at: figure.axes.point(x: 0, y: 1)), Colormap.viridis.color(at: 0))
        // The corner of the window is above the last level: the top of the map.
        let corner = figure.axes.point(x: -1.98, y: -0.98)
        assertClose(raster.color(at: corner), Colormap.viridis.color(at: 1))
        XCTAssertEqual(figure.axes.frame.x, corner.x, accuracy: 1, "contours fill the window exactly, without margin")
    }

    func testHeatmapBandAndRangeBarsFillWhereTheirDataSays() {
        let figure = Figure(width: 8, height: 3, rows: 1, columns: 3)
        let matrix = [[0.0, 1], [2, 3]]
        figure[0, 0].heatmap(matrix, annotations: [["a", "b"], ["c", "d"]])
        let raster0 = figure.rasterize(dpi: 100)
        // Row 0 is on top; a cell's corner (away from its text) shows its value's colour.
        assertClose(raster0.color(at: figure[0, 0].point(x: -0.4, y: 0.4)), Colormap.viridis.color(at: 0))
        assertClose(raster0.color(at: figure[0, 0].point(x: 1.4, y: 1.4)), Colormap.viridis.color(at: 1))
        XCTAssertLessThan(figure[0, 0].point(x: 0, y: 0).y, figure[0, 0].point(x: 0, y: 1).y, "row 0 above row 1")

        let green = Palette.colors[2]
        figure[0, 1].fillBetween(x: [0, 1, 2], lower: [0, 0, 0], upper: [1, 2, 1], color: green)
        figure[0, 1].plot(x: [0, 2], y: [3, 3], style: LineStyle(color: .black))
        figure[0, 2].rangeBars([RangeRow(y: 0, ranges: [1...2, 4...5], color: green)])
        figure[0, 2].xLimits = 0...6
        let raster = figure.rasterize(dpi: 100)
        assertClose(raster.color(at: figure[0, 1].point(x: 1, y: 1)), green)
        assertClose(raster.color(at: figure[0, 1].point(x: 1.9, y: 2.5)), .white)
        let bar = raster.color(at: figure[0, 2].point(x: 1.5, y: 0))
        assertClose(bar, Color.white.mixed(with: green, 0.85), within: 3.0 / 255)
        assertClose(raster.color(at: figure[0, 2].point(x: 3, y: 0)), .white)
    }

    func testMarchingSquaresTracesACircle() {
        let grid = ScalarGrid(x: -2...2, y: -2...2, columns: 101, rows: 101) { x, y in x * x + y * y }
        let chains = MarchingSquares.chains(grid, level: 1)
        let lines = chains.map { $0.map(\.point) }
        XCTAssertEqual(lines.count, 1, "one closed line")
        let line = lines[0]
        XCTAssertEqual(line.first!.0, line.last!.0, accuracy: 1e-12)
        XCTAssertEqual(line.first!.1, line.last!.1, accuracy: 1e-12)
        for (x, y) in line { XCTAssertEqual((x * x + y * y).squareRoot(), 1, accuracy: 2e-3) }
        // The region above the level is the window minus the disc: the window counter-clockwise,
        // the hole clockwise.
        let region = MarchingSquares.superlevelPolygons(grid, level: 1, chains: chains)
        XCTAssertEqual(region.count, 2)
        XCTAssertEqual(region.map(signedArea).reduce(0, +), 16 - Double.pi, accuracy: 5e-3)
    }

    func testFilledRegionsMeetingTheWindowEdgeCloseAlongIt() {
        // |x| ≥ 1 on [-2, 2]²: two strips, each closed along the window's edge through two corners;
        // linear between samples, so the areas are exact.
        let strips = ScalarGrid(x: -2...2, y: -2...2, columns: 41, rows: 41) { x, _ in abs(x) }
        let region = MarchingSquares.superlevelPolygons(strips, level: 1, chains: MarchingSquares.chains(strips, level: 1))
        XCTAssertEqual(region.count, 2)
        for polygon in region { XCTAssertEqual(signedArea(polygon), 4, accuracy: 1e-9) }
        // x + y ≥ 0.5: one triangle with legs 3.5 cut off the upper right.
        let plane = ScalarGrid(x: -2...2, y: -2...2, columns: 41, rows: 41) { x, y in x + y }
        let triangle = MarchingSquares.superlevelPolygons(plane, level: 0.5, chains: MarchingSquares.chains(plane, level: 0.5))
        XCTAssertEqual(triangle.map(signedArea).reduce(0, +), 3.5 * 3.5 / 2, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(triangle.flatMap { $0 }.count, 72 + 1, "the crossings and one window corner, not the edge samples between")
    }

    func signedArea(_ polygon: [(Double, Double)]) -> Double {
        zip(polygon, polygon.dropFirst() + [polygon[0]]).map { $0.0 * $1.1 - $1.0 * $0.1 }.reduce(0, +) / 2
    }

    func testLogSpacedLevelsCrowdTheFloor() {
        let levels = ContourLevels.logSpaced(minimum: -1, maximum: 999, count: 5, decades: 3)
        XCTAssertEqual(levels, [-1, 0, 9, 99, 999].map { $0 }, accuracy: 1e-9)
    }

    func testEvenlySpacedLevelsAreNiceMultiplesCoveringTheRange() {
        // 8 / 13 rounds up to a step of 1; the ends go out to the next multiples.
        XCTAssertEqual(ContourLevels.evenlySpaced(minimum: -4, maximum: 4, count: 14), [-4, -3, -2, -1, 0, 1, 2, 3, 4])
        XCTAssertEqual(ContourLevels.evenlySpaced(minimum: -0.93, maximum: 1.4, count: 6), [-1, -0.5, 0, 0.5, 1, 1.5], accuracy: 1e-12)
        // Steps of 0.25 make 15 levels from 0 to 3.5: at most 15 takes them, at most 14 steps of 0.5.
        XCTAssertEqual(ContourLevels.evenlySpaced(minimum: 0.125, maximum: 3.3, count: 15), (0...14).map { Double($0) * 0.25 }, accuracy: 1e-12)
        XCTAssertEqual(ContourLevels.evenlySpaced(minimum: 0.125, maximum: 3.3, count: 14), (0...7).map { Double($0) * 0.5 }, accuracy: 1e-12)
    }

    func testTheLowestSampleInsideTheWindowIsAFloorAndOnTheEdgeIsNot() {
        XCTAssertTrue(ScalarGrid(x: -1...1, y: -1...2, columns: 11, rows: 11) { x, y in x * x + (y - 1) * (y - 1) }.lowestIsInside)
        XCTAssertFalse(ScalarGrid(x: -2...2, y: -2...2, columns: 11, rows: 11) { x, y in x * x - y * y }.lowestIsInside)
        XCTAssertFalse(ScalarGrid(x: 0...1, y: 0...1, columns: 11, rows: 11) { x, y in x + y }.lowestIsInside)
    }

    func testPaletteColoursAnyKeyStably() {
        XCTAssertEqual(Palette.color(forKey: "Adam"), Palette.color(forKey: "adam"))
        let custom = Palette.color(forKey: "my-optimizer")
        XCTAssertTrue(Palette.colors.contains(custom))
        XCTAssertEqual(custom, Palette.color(forKey: "my-optimizer"))
    }

    func testViridisMatchesItsPublishedTable() {
        assertClose(Colormap.viridis.color(at: 0), Color(red: 0.267004, green: 0.004874, blue: 0.329415), within: 1e-9)
        assertClose(Colormap.viridis.color(at: 1), Color(red: 0.993248, green: 0.906157, blue: 0.143936), within: 1e-9)
        // Table entries 100 and 200, between the stored stops.
        assertClose(Colormap.viridis.color(at: 100.0 / 255), Color(red: 0.166617, green: 0.463708, blue: 0.558119), within: 0.01)
        assertClose(Colormap.viridis.color(at: 200.0 / 255), Color(red: 0.440137, green: 0.811138, blue: 0.340967), within: 0.01)
    }

    func testLegendAvoidsTheData() {
        let figure = Figure(width: 5, height: 4)
        let axes = figure.axes
        // Data crowding the upper half: the legend must go to a lower corner.
        axes.plot(x: Array(stride(from: 0.0, through: 10, by: 0.1)), y: (0...100).map { 8 + 2 * sin(Double($0) / 5) },
                  style: LineStyle(color: .black), label: "a")
        axes.scatter([(5, 0)], marker: .circle, color: .black, label: "b")
        _ = figure.rasterize()
        XCTAssertTrue([LegendPlacement.lowerLeft, .lowerRight].contains(axes.resolvedLegend))

        // Data everywhere: the legend moves outside the frame.
        let crowded = Figure(width: 5, height: 4)
        let grid = (0..<400).map { (Double($0 % 20), Double($0 / 20)) }
        crowded.axes.scatter(grid, marker: .circle, size: 3, color: .black, label: "everywhere")
        _ = crowded.rasterize()
        XCTAssertEqual(crowded.axes.resolvedLegend, .outsideRight)
        let canvasFigure = Canvas(cairo_create(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1))!)
        let box = crowded.axes.legend!.box(canvasFigure, .outsideRight, in: crowded.axes.frame)
        XCTAssertFalse(box.intersects(crowded.axes.frame))
        XCTAssertLessThanOrEqual(box.maxX, crowded.width * 72)
    }

    func testLegendAvoidsALineBetweenItsPoints() {
        // Points in the lower corners; a line along the top whose only two points lie outside the
        // window: every corner is taken, by the points or by the line between its points.
        let figure = Figure(width: 5, height: 4)
        let axes = figure.axes
        axes.xLimits = 0...10
        axes.yLimits = 0...10
        axes.scatter([(0.5, 0.5), (9.5, 0.5)], marker: .circle, color: .black, label: "corners")
        axes.plot(x: [-5, 15], y: [9.5, 9.5], style: LineStyle(color: .black), label: "line")
        _ = figure.rasterize()
        XCTAssertEqual(axes.resolvedLegend, .outsideRight)
    }

    func testLongOutsideLegendWrapsIntoColumnsInsideTheFigure() {
        let figure = Figure(width: 6, height: 3)
        let axes = figure.axes
        for k in 0..<30 {
            axes.plot(x: [0, 1], y: [0, Double(k)], style: LineStyle(color: .black), marker: .circle, label: "optimizer \(k)")
        }
        axes.legendPlacement = .outsideRight
        _ = figure.rasterize()
        let canvas = Canvas(cairo_create(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1))!)
        let legend = try! XCTUnwrap(axes.legend)
        let box = legend.box(canvas, .outsideRight, in: axes.frame)
        let page = Rect(x: 0, y: 0, width: figure.width * 72, height: figure.height * 72)
        XCTAssertTrue(page.contains(PagePoint(box.x, box.y)) && page.contains(PagePoint(box.maxX, box.maxY)), "\(box) outside \(page)")
        XCTAssertLessThanOrEqual(box.maxY, axes.frame.maxY)
        XCTAssertFalse(box.intersects(axes.frame))
        XCTAssertGreaterThan(box.width, 2 * Legend(entries: Array(legend.entries.prefix(1)))!.size(canvas).width, "several columns")
    }

    func testGridPanelsAreAlignedAndInsideTheFigure() {
        let figure = Figure(width: 9, height: 8, rows: 3, columns: 3, panelCount: 7)
        figure.title = "Title"
        for (k, axes) in figure.panels.enumerated() {
            axes.title = "panel \(k)\nsecond line"
            axes.plot(x: [0, Double(k + 1) * 1000], y: [0, 1], style: LineStyle(color: .black))
        }
        figure.colorBar = ColorBar(scale: .continuous(0...1), label: "value")
        _ = figure.rasterize(dpi: 72)
        let page = Rect(x: 0, y: 0, width: figure.width * 72, height: figure.height * 72)
        for (k, axes) in figure.panels.enumerated() {
            XCTAssertTrue(page.contains(PagePoint(axes.frame.x, axes.frame.y)) && page.contains(PagePoint(axes.frame.maxX, axes.frame.maxY)))
            XCTAssertEqual(axes.frame.x, figure.panels[k % 3].frame.x, "columns line up")
            XCTAssertEqual(axes.frame.y, figure.panels[k / 3 * 3].frame.y, "rows line up")
            for other in figure.panels where other !== axes { XCTAssertFalse(axes.frame.intersects(other.frame)) }
        }
    }

    // MARK: Files

    func testFilesDecodeAtTheRequestedSize() throws {
        let folder = try temporaryFolder()
        let figure = Figure(width: 6.4, height: 4.8)
        figure.axes.plot(x: [0, 1], y: [1, 0], style: LineStyle(color: .black), label: "line")
        figure.axes.title = "a title"

        let png = folder.appendingPathComponent("f.png").path
        try figure.save(to: png, dpi: 150)
        let image = cairo_image_surface_create_from_png(png)!
        defer { cairo_surface_destroy(image) }
        XCTAssertEqual(cairo_surface_status(image), CAIRO_STATUS_SUCCESS)
        XCTAssertEqual(cairo_image_surface_get_width(image), 960)
        XCTAssertEqual(cairo_image_surface_get_height(image), 720)

        let svg = folder.appendingPathComponent("f.SVG").path
        try figure.save(to: svg)
        let svgText = try String(contentsOfFile: svg, encoding: .utf8)
        XCTAssertTrue(svgText.hasPrefix("<?xml"))
        XCTAssertTrue(svgText.contains("width=\"460.8pt\" height=\"345.6pt\""), String(svgText.prefix(300)))
        XCTAssertTrue(svgText.hasSuffix("</svg>\n"))

        let pdf = folder.appendingPathComponent("f.pdf").path
        try figure.save(to: pdf)
        let pdfData = try Data(contentsOf: URL(fileURLWithPath: pdf))
        let pdfText = String(decoding: pdfData, as: UTF8.self)
        XCTAssertTrue(pdfText.hasPrefix("%PDF-"))
        XCTAssertTrue(pdfText.contains("/MediaBox [ 0 0 460.8 345.6 ]"))
        XCTAssertTrue(pdfText.contains("%%EOF"))

        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["f.SVG", "f.pdf", "f.png"],
                       "no temporary files left behind")
    }

    func testBadPathsAreOneLineErrorsAndLeaveNothing() throws {
        let folder = try temporaryFolder()
        let figure = Figure()
        func error(_ path: String, dpi: Double = 100) -> String? {
            do { try figure.save(to: path, dpi: dpi); return nil } catch { return "\(error)" }
        }
        let jpg = error(folder.appendingPathComponent("f.jpg").path)
        XCTAssertEqual(jpg?.contains("unknown image format '.jpg' (use .png, .svg or .pdf)"), true, jpg ?? "no error")
        XCTAssertNotNil(error(folder.appendingPathComponent("f").path))
        let missing = error(folder.appendingPathComponent("no/such/f.png").path)
        XCTAssertEqual(missing?.contains("does not exist"), true, missing ?? "no error")
        XCTAssertEqual(error(folder.path + "/.png")?.isEmpty, false) // an extension only, still a path
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("d.png"), withIntermediateDirectories: false)
        XCTAssertEqual(error(folder.appendingPathComponent("d.png").path)?.contains("is a folder"), true)
        // Over the pixel budget (the default figure, 6.4 × 4.8 inches, at 2000 dpi), and within it
        // but wider than Cairo's surfaces go.
        let big = error(folder.appendingPathComponent("big.png").path, dpi: 2000)
        XCTAssertEqual(big, "a 12800×9600-pixel image is 123 megapixels (about 983 MB of memory to draw); the limit is 100 megapixels: lower --dpi")
        XCTAssertThrowsError(try Figure(width: 500, height: 0.5).save(to: folder.appendingPathComponent("wide.png").path, dpi: 100)) {
            XCTAssertEqual("\($0)", "dpi 100.0 gives a 50000×50 image (at most 32767 pixels a side)")
        }
        for message in [jpg, missing, big].compactMap({ $0 }) { XCTAssertFalse(message.contains("\n")) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["d.png"])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

extension XCTestCase {
    /// A fresh folder removed after the test.
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plot-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
