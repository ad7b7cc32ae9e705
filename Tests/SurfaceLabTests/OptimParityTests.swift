import Foundation
import XCTest
import SurfaceLab
import Optim
import Surfaces

/// Replays every trajectory torch.optim computed in float64 (optim-trajectories.json) through the
/// engine: every point must agree within 1e-9 relative (1e-12 absolute near zero).
final class OptimParityTests: XCTestCase {
    struct Fixture: Decodable {
        let about: String
        let cases: [Case]
    }

    struct Case: Decodable {
        let surface: String
        let formula: String
        let optimizer: String
        let spec: String
        let start: [Double]
        let steps: Int
        let trajectory: [[Double]]
        let loss: [Double]
        /// Closure calls per step (modern-trajectories.json only).
        let evaluations: [Int]?
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Written by Tests/Fixtures/make_optim_trajectories.py; `$OPTLAB_REFERENCE_DIR` names another folder.
    func testEveryCaseMatchesTorch() throws {
        let folder = ProcessInfo.processInfo.environment["OPTLAB_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
        try replay((folder ?? Self.fixtures).appendingPathComponent("optim-trajectories.json"))
    }

    /// OneCycleLR (momentum and β₁ cycled, linear and cosine, three phases, total_steps given,
    /// from epochs × steps_per_epoch or filled in from the path), written by
    /// Tests/Fixtures/make_onecycle_trajectories.py.
    func testOneCycleMatchesTorch() throws {
        let cases = try replay(Self.fixtures.appendingPathComponent("onecycle-trajectories.json"))
        XCTAssertEqual(cases, 9)
    }

    /// Every schedule optlab adds to torch's classic four, the composites and plateau (whose
    /// reductions and cooldown depend on the losses), with several optimizers, momentum and β₁
    /// cycled by cyclic: written by Tests/Fixtures/make_schedule_trajectories.py.
    func testSchedulesMatchTorch() throws {
        let url = Self.fixtures.appendingPathComponent("schedule-trajectories.json")
        let cases = try replay(url)
        XCTAssertEqual(cases, 33)
        // The rates themselves are torch's to the last bit: the schedules compute as its step() does.
        struct Rates: Decodable {
            struct Case: Decodable { let spec, surface: String; let start, lr: [Double] }
            let cases: [Case]
        }
        for c in try JSONDecoder().decode(Rates.self, from: Data(contentsOf: url)).cases {
            let surface = try Surface.named(c.surface)
            var point = c.start, grad = [0.0, 0.0], rates: [Double] = []
            try point.withUnsafeMutableBufferPointer { value in
                try grad.withUnsafeMutableBufferPointer { grad in
                    let optimizer = try Optimizer(OptimizerSpec.parse(c.spec), parameters: [Parameter(name: "", value: value, grad: grad)])
                    for _ in c.lr.indices {
                        rates.append(optimizer.learningRates[0])
                        (grad[0], grad[1]) = surface.gradient(value[0], value[1])
                        optimizer.step()
                        try optimizer.scheduleStep(loss: surface.value(value[0], value[1]))
                    }
                }
            }
            XCTAssertEqual(rates, c.lr, c.spec)
        }
    }

    /// The optimizers beyond the classic set, each against its reference implementation
    /// (torch.optim, lion-pytorch, schedulefree, prodigyopt, pytorch-optimizer), written by
    /// Tests/Fixtures/make_modern_trajectories.py: schedule-free paths are their evaluation points,
    /// SAM and LBFGS evaluate the surface several times per step.
    func testModernOptimizersMatchTheirReferences() throws {
        let url = Self.fixtures.appendingPathComponent("modern-trajectories.json")
        try replay(url)
    }

    @discardableResult
    private func replay(_ url: URL) throws -> Int {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertFalse(fixture.cases.isEmpty)
        var worstOverall = 0.0
        for c in fixture.cases {
            let surface = try Surface.named(c.surface)
            XCTAssertEqual(surface.formula, c.formula, "surface \(c.surface)")
            let spec: OptimizerSpec
            do { spec = try OptimizerSpec.parse(c.spec) } catch { XCTFail("\(c.spec): \(error)"); continue }
            XCTAssertEqual(spec.name, c.optimizer, c.spec)
            let result = try Trajectories.run(spec, on: surface, from: Point(c.start[0], c.start[1]), steps: c.steps)
            XCTAssertNil(result.divergedAt, c.spec)
            XCTAssertEqual(result.points.count, c.trajectory.count, c.spec)
            var worst = 0.0
            points: for (k, (p, expected)) in zip(result.points, c.trajectory).enumerated() {
                for (got, want) in [(p.x, expected[0]), (p.y, expected[1]), (result.losses[k], c.loss[k])] {
                    let error = abs(got - want)
                    worst = max(worst, error / max(abs(want), 1e-300))
                    if error > 1e-9 * abs(want) + 1e-12 {
                        XCTFail("\(c.surface) \(c.spec) step \(k): \(got) vs torch \(want)")
                        break points
                    }
                }
            }
            if let counts = c.evaluations {
                XCTAssertEqual(Array(result.evaluations.dropFirst()), counts, "\(c.spec): gradient evaluations per step")
            }
            worstOverall = max(worstOverall, worst)
            print("parity \(c.surface) \(c.spec): worst relative error \(worst)")
        }
        print("parity \(url.lastPathComponent): worst relative error of all \(fixture.cases.count) cases \(worstOverall)")
        return fixture.cases.count
    }
}
