import Foundation
import Optim
import Plot
import Surfaces
import XCTest
@testable import Figures
@testable import SurfaceLab

final class StateOverlayTests: XCTestCase {
    func testRecordedStateIsTheOptimizersOwnBuffers() throws {
        let bowl = try Surface.named("bowl")
        let spec = try OptimizerSpec.parse("adam(lr=0.1)")
        let recorded = try Trajectories.compare([spec], on: bowl, steps: 12, recordsState: true).results[0]
        XCTAssertEqual(recorded.points, try Trajectories.compare([spec], on: bowl, steps: 12).results[0].points, "recording changes nothing")
        XCTAssertEqual(Set(recorded.state.keys), ["exp_avg", "exp_avg_sq"])
        // The same optimizer stepped by hand: its state_dict after step 7.
        var xy: [Double] = [bowl.start.x, bowl.start.y, 0, 0]
        try xy.withUnsafeMutableBufferPointer { b in
            let parameter = Parameter(name: "", value: UnsafeMutableBufferPointer(rebasing: b[0..<2]), grad: UnsafeMutableBufferPointer(rebasing: b[2..<4]))
            let optimizer = try Optimizer<Double>(spec, parameters: [parameter])
            for _ in 0..<7 {
                (b[2], b[3]) = bowl.gradient(b[0], b[1])
                optimizer.step()
                try optimizer.scheduleStep()
            }
            let expAvg = try XCTUnwrap(optimizer.stateTensors().first { $0.name == "state.0.exp_avg" })
            XCTAssertEqual(recorded.state["exp_avg"]![6], Surfaces.Point(expAvg.values[0], expAvg.values[1]))
        }
    }

    func testArrowsFollowTheStepAndTheMomentumBuffer() throws {
        let bowl = try Surface.named("bowl")
        let result = try Trajectories.compare([try OptimizerSpec.parse("momentum(lr=0.02)")], on: bowl, steps: 40, recordsState: true).results[0]
        let marks = StateMarks.of(result, [.step, .velocity, .scale], window: bowl.window)
        XCTAssertEqual(marks.map(\.view), [.step, .velocity], "plain SGD with momentum has no per-coordinate scale")
        let overlay = StateOverlay(Figure().axes, result, [.step, .velocity, .scale], window: bowl.window)
        XCTAssertEqual(overlay.marks.map(\.marks.view), [.step, .velocity], "the figure draws the same marks")
        let step = marks[0], velocity = marks[1]
        XCTAssertEqual(step.steps, Array(stride(from: 4, through: 40, by: 4)))
        for (n, k) in step.steps.enumerated() {
            XCTAssertEqual(step.from[n].0, result.points[k - 1].x)
            XCTAssertEqual(step.to[n].1, result.points[k].y)
            // The velocity arrow points along −lr·momentum_buffer after step k.
            let buffer = result.state["momentum_buffer"]![k - 1]
            let dx = velocity.to[n].0 - velocity.from[n].0, dy = velocity.to[n].1 - velocity.from[n].1
            XCTAssertEqual(dx * -buffer.y - dy * -buffer.x, 0, accuracy: 1e-9 * max(1, abs(dx * buffer.y)), "parallel")
            XCTAssertGreaterThan(dx * -buffer.x + dy * -buffer.y, 0, "same direction")
        }
    }
}
