import Foundation
import Optim
import Plot
import Surfaces
import XCTest
@testable import Figures
import SurfaceLab

/// The trajectory figure: paths, their colours, where a diverged path leaves the window.
final class FigureTests: XCTestCase {
    func assertClose(_ a: Plot.Color, _ b: Plot.Color, within tolerance: Double = 3.0 / 255, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(max(abs(a.red - b.red), abs(a.green - b.green), abs(a.blue - b.blue)), tolerance, "\(a) vs \(b)", file: file, line: line)
    }

    func testPathColourAppearsOnThePathAndTheFloorIsTheColormapLowEnd() throws {
        let surface = try Surface.named("bowl")
        // Three steps: the path stays well away from the minimum.
        let comparison = try Trajectories.compare([try OptimizerSpec.parse("adam(lr=0.1)")], on: surface, steps: 3)
        let figure = try TrajectoryFigure.make(comparison, layout: .overlay)
        let raster = figure.rasterize(dpi: 100)
        let points = comparison.results[0].points
        // The midpoint of the longest early segment lies on the drawn line.
        let length = { (a: Int) -> Double in hypot(points[a + 1].x - points[a].x, points[a + 1].y - points[a].y) }
        let k = (0..<3).max { length($0) < length($1) }!
        let mid = figure.axes.point(x: (points[k].x + points[k + 1].x) / 2, y: (points[k].y + points[k + 1].y) / 2)
        assertClose(raster.color(at: mid), OptimizerStyle.color(try OptimizerSpec.parse("adam")))
        // Just below the minimum's star (f = 0.039 there) the surface is in its lowest band.
        assertClose(raster.color(at: figure.axes.point(x: 0, y: -0.14)), Colormap.viridis.color(at: 0))
    }

    func testGridHasOnePanelPerOptimizerTitledWithItsSpecAndOutcome() throws {
        let surface = try Surface.named("bowl")
        let comparison = try Trajectories.compare(Trajectories.classicSpecs(for: surface), on: surface, steps: 20)
        let figure = try TrajectoryFigure.make(comparison, layout: .grid)
        XCTAssertEqual(figure.panels.count, 9)
        XCTAssertEqual((figure.rows, figure.columns).0, 3)
        XCTAssertTrue(figure.panels[1].title!.hasPrefix("momentum(lr=0.04)\nfinal loss "), figure.panels[1].title!)
        XCTAssertTrue(figure.panels[8].title!.contains(",\nschedule=step("), "long specs wrap before the schedule")
    }

    func testDivergedPathIsCutAtTheWindowEdge() throws {
        let surface = try Surface.named("bowl")
        let result = try Trajectories.run(try OptimizerSpec.parse("sgd(lr=0.1)"), on: surface, from: surface.start, steps: 400)
        XCTAssertNotNil(result.divergedAt)
        let (exit, step) = try XCTUnwrap(TrajectoryFigure.exit(result, surface.window))
        XCTAssertEqual(step, result.divergedAt)
        let onEdge = [abs(exit.x - surface.window.x.lowerBound), abs(exit.x - surface.window.x.upperBound),
                      abs(exit.y - surface.window.y.lowerBound), abs(exit.y - surface.window.y.upperBound)].min()!
        XCTAssertLessThan(onEdge, 1e-12)
        let converged = try Trajectories.run(try OptimizerSpec.parse("adam(lr=0.1)"), on: surface, from: surface.start, steps: 50)
        XCTAssertNil(TrajectoryFigure.exit(converged, surface.window))
        // Leaving the window without diverging: the step of the first point outside.
        let saddle = try Surface.named("saddle")
        let away = try Trajectories.run(try OptimizerSpec.parse("sgd(lr=0.05)"), on: saddle, from: saddle.start, steps: 100)
        XCTAssertNil(away.divergedAt)
        let (_, left) = try XCTUnwrap(TrajectoryFigure.exit(away, saddle.window))
        XCTAssertFalse(saddle.window.y.contains(away.points[left].y))
        XCTAssertTrue(saddle.window.y.contains(away.points[left - 1].y))
    }

    func testZeroSizeWindowIsAnError() throws {
        let surface = try Surface.formula("x^2 + y^2", window: Window(x: 1...1, y: -1...1))
        let comparison = try Trajectories.compare([try OptimizerSpec.parse("adam")], on: surface, from: Surfaces.Point(1, 0), steps: 2)
        XCTAssertThrowsError(try TrajectoryFigure.make(comparison, layout: .overlay)) { error in
            XCTAssertTrue("\(error)".contains("zero size"), "\(error)")
        }
    }

    /// A formula's pole is clipped in 3-D: the mesh and the colour bar stop at the robust top,
    /// so the rest of the surface keeps its colours; a smooth built-in keeps its whole range.
    func test3DClipsAPoleAndKeepsTheColoursForTheRest() throws {
        let view = TrajectoryView.threeD(.standard, rotation: 0)
        guard case .mesh(let levels, let zRange) = try TrajectoryFigure.look(Surface.named("1/(x^2+y^2)"), levels: 14, view: view) else {
            return XCTFail("a 3-D view draws a mesh")
        }
        XCTAssertLessThan(zRange.upperBound, 10)
        // Its lowest values are the window's corners: evenly spaced levels, the last the first past the top.
        let step = levels[1] - levels[0], last = try XCTUnwrap(levels.last)
        XCTAssertTrue(last >= zRange.upperBound && last - step < zRange.upperBound, "\(levels) for \(zRange)")
        let bowl = try Surface.named("bowl")
        guard case .mesh(let bowlLevels, _) = try TrajectoryFigure.look(bowl, levels: 14, view: view),
              case .contours(let contours) = try TrajectoryFigure.look(bowl, levels: 14, view: .flat) else { return XCTFail() }
        XCTAssertEqual(bowlLevels, contours.levels, "the same colour bar as the contour figure")
    }

    /// The saddle has no floor (its lowest values lie on the window's edge): its levels are the
    /// whole numbers −4…4 in 2-D and 3-D, labelled as such, not log-spaced values crowding toward
    /// −4. Surfaces with a minimum inside the window keep log-spaced levels above it.
    func testASaddleGetsEvenlySpacedNiceLevelsAndAValleyLogSpacedOnes() throws {
        let saddle = try Surface.named("saddle")
        for view in [TrajectoryView.flat, .threeD(.standard, rotation: 0)] {
            let levels = try TrajectoryFigure.look(saddle, levels: 14, view: view).levels
            XCTAssertEqual(levels, [-4, -3, -2, -1, 0, 1, 2, 3, 4], "\(view)")
            XCTAssertEqual(Ticks.distinct(levels), ["−4", "−3", "−2", "−1", "0", "1", "2", "3", "4"])
        }
        for name in ["bowl", "rosenbrock", "localmin"] {
            let levels = try TrajectoryFigure.look(try Surface.named(name), levels: 14, view: .flat).levels
            XCTAssertEqual(levels, ContourLevels.logSpaced(minimum: levels[0], maximum: levels[13], count: 14, decades: 3), name)
        }
    }
}
