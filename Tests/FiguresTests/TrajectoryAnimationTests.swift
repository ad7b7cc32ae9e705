import Foundation
import Optim
import Plot
import Surfaces
import XCTest
@testable import Figures
import Support
import SurfaceLab

final class TrajectoryAnimationTests: XCTestCase {
    /// Adam converges; SGD at an absurd rate overflows on bowl at its second step.
    private func race() throws -> TrajectoryComparison {
        try Trajectories.compare(OptimizerSpec.parseList("adam(lr=0.1),sgd(lr=1e100)"), on: Surface.named("bowl"), steps: 20, recordsState: true)
    }

    func testTheLastFrameIsTheStillFigure() throws {
        let comparison = try race()
        for (layout, show) in [(TrajectoryLayout.grid, [StateView]()), (.overlay, StateView.allCases)] {
            let (animation, update) = try TrajectoryAnimation.make(comparison, layout: layout, levels: 10, show: show, fps: 10, dpi: 40)
            let still = try TrajectoryFigure.make(comparison, layout: layout, levels: 10, show: show).rasterize(dpi: 40)
            update(5)
            XCTAssertTrue(animation.render() != still, "\(layout): an early frame differs")
            update(comparison.steps)
            let last = animation.render()
            XCTAssertTrue(last == still, "\(layout): the final frame is the still figure, pixel for pixel")
        }
    }

    /// In 3-D too, turning the camera or not: the camera ends where the still figure looks from.
    func testTheLastFrameOf3DIsTheStillFigure() throws {
        let comparison = try race()
        for (layout, rotation) in [(TrajectoryLayout.overlay, 90.0), (.grid, 0)] {
            let view = TrajectoryView.threeD(try Camera(azimuth: -50, elevation: 35), rotation: rotation)
            let (animation, update) = try TrajectoryAnimation.make(comparison, layout: layout, levels: 10, view: view, fps: 10, dpi: 40)
            let still = try TrajectoryFigure.make(comparison, layout: layout, levels: 10, view: view).rasterize(dpi: 40)
            update(0)
            XCTAssertEqual(animation.figure.panels3D[0].camera.azimuth, -50 - rotation, "the run starts turned back by the rotation")
            XCTAssertTrue(animation.render() != still, "\(layout): the first frame differs")
            update(comparison.steps)
            XCTAssertTrue(animation.render() == still, "\(layout), rotation \(rotation): the final frame is the still figure, pixel for pixel")
        }
    }

    func testADivergedPathShowsItsCrossOnlyOnceItDiverges() throws {
        let comparison = try race()
        let sgd = comparison.results[1]
        let diverged = try XCTUnwrap(sgd.divergedAt)
        let exit = try XCTUnwrap(TrajectoryFigure.exit(sgd, comparison.surface.window))
        let (animation, update) = try TrajectoryAnimation.make(comparison, layout: .overlay, levels: 10, fps: 10, dpi: 100)
        let cross = animation.figure.axes.point(x: exit.point.x, y: exit.point.y)
        let color = OptimizerStyle.styles(comparison.results.map(\.spec))[1].color
        // Pixels of the full colour near the exit point (the path itself is faded while it runs).
        func crossPixels() -> Int {
            let frame = animation.render(), r = Int(6 * frame.scale)
            let (cx, cy) = (Int(cross.x * frame.scale), Int(cross.y * frame.scale))
            var count = 0
            for y in cy - r...cy + r {
                for x in cx - r...cx + r {
                    let c = frame.color(x: x, y: y)
                    if max(abs(c.red - color.red), abs(c.green - color.green), abs(c.blue - color.blue)) < 0.03 { count += 1 }
                }
            }
            return count
        }
        update(diverged - 1)
        XCTAssertEqual(crossPixels(), 0, "no ✕ before step \(diverged)")
        update(diverged)
        XCTAssertGreaterThan(crossPixels(), 10, "the ✕ at step \(diverged)")
    }

    func testFramesSpanTheRunAndTheDefaultBowlRaceLastsFiveToEightSeconds() {
        XCTAssertEqual(TrajectoryAnimation.step(frame: 0, of: 40, steps: 100), 0)
        XCTAssertEqual(TrajectoryAnimation.step(frame: 39, of: 40, steps: 100), 100)
        let frames = TrajectoryAnimation.defaultFrames(steps: 100, fps: 20)
        XCTAssertLessThanOrEqual(frames, 101, "at most one frame per step")
        XCTAssertTrue((5.0...8.0).contains(Double(frames) / 20), "\(frames) frames at 20 fps")
        XCTAssertEqual(TrajectoryAnimation.defaultFrames(steps: 5000, fps: 20), 160)
    }

    func testAnimationRequestsAreCheckedBeforeAnyWork() throws {
        let comparison = try race()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("race-\(UUID()).gif").path
        XCTAssertThrowsError(try TrajectoryAnimation.save(comparison, layout: .grid, to: path, frames: 22)) {
            XCTAssertEqual("\($0)", "frames must be in 1...21 (at most one per step), got 22")
        }
        XCTAssertThrowsError(try FigureOutput.check("race.avi", animations: true)) {
            XCTAssertTrue("\($0)".contains("(use .png, .svg, .pdf, .gif or .mp4)"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
