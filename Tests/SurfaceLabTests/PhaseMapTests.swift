import Foundation
import Optim
import Support
import Surfaces
import XCTest
@testable import SurfaceLab

final class PhaseMapTests: XCTestCase {
    func testHeavyBallDivergesExactlyWhereTheStabilityTheorySays() throws {
        // On 20x² + 2y² (λmax = 40), SGD with momentum β converges iff lr < 2(1 + β)/40.
        let x = try PhaseMap.Axis("lr=0.005...0.1", count: 39, logarithmic: false, setting: "x")
        let y = try PhaseMap.Axis("momentum=0...0.9", count: 10, logarithmic: false, setting: "y")
        let map = try PhaseMap.run(try OptimizerSpec.parse("sgd"), x: x, y: y, on: try Surface.named("bowl"), steps: 100)
        let limit = try XCTUnwrap(map.momentumStabilityLimit)
        XCTAssertEqual(limit(0), 0.05, accuracy: 1e-6)
        XCTAssertEqual(limit(0.9), 0.095, accuracy: 1e-6)
        var checked = 0
        for (j, beta) in y.values.enumerated() {
            for (i, lr) in x.values.enumerated() {
                let loss = map.finalLoss[j][i]
                if lr < 0.95 * limit(beta) {
                    XCTAssertLessThan(try XCTUnwrap(loss, "lr \(lr), β \(beta) diverged below the limit"), map.startLoss, "lr \(lr), β \(beta)")
                    checked += 1
                } else if lr > 1.05 * limit(beta) {
                    XCTAssertTrue(loss.map { $0 > map.startLoss } ?? true, "lr \(lr), β \(beta) converged above the limit")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 300)
    }

    func testACellIsTheRunOfItsSpecAndBetasAreSweptByTheirParts() throws {
        let x = try PhaseMap.Axis("lr=0.01...1", count: 3, logarithmic: true, setting: "x")
        let y = try PhaseMap.Axis("beta1=0...0.9", count: 4, logarithmic: false, setting: "y")
        let surface = try Surface.named("rosenbrock")
        let map = try PhaseMap.run(try OptimizerSpec.parse("adam(betas=(0.5,0.99))"), x: x, y: y, on: surface, steps: 30)
        XCTAssertEqual(x.values, [0.01, 0.1, 1], accuracy: 1e-12)
        XCTAssertNil(map.momentumStabilityLimit, "no theory for Adam")
        let alone = try Trajectories.compare([try OptimizerSpec.parse("adam(lr=\(x.values[1]),betas=(0.6,0.99))")], on: surface, steps: 30)
        XCTAssertEqual(map.finalLoss[2][1], alone.results[0].finalLoss, "the cell at lr 0.1, beta1 0.6 keeps beta2 0.99")
        let lines = map.csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "lr,beta1,final_loss,diverged")
        XCTAssertEqual(lines.count, 1 + 12)
    }

    func testBadSweepsAreRefusedBeforeAnyRun() throws {
        let lr = try PhaseMap.Axis("lr=0.01...0.1", count: 3, logarithmic: false, setting: "x")
        func error(_ spec: String, _ y: String) -> String? {
            do {
                let axis = try PhaseMap.Axis(y, count: 3, logarithmic: false, setting: "y")
                _ = try PhaseMap.run(try OptimizerSpec.parse(spec), x: lr, y: axis, on: try Surface.named("bowl"), steps: 5)
                return nil
            } catch { return "\(error)" }
        }
        XCTAssertEqual(error("sgd", "rho=0.1...0.9")?.contains("rho cannot be swept in sgd"), true)
        XCTAssertEqual(error("sgd", "momentum=-1...0.5")?.contains("momentum"), true, "torch's own check: momentum ≥ 0")
        XCTAssertEqual(error("sgd", "lr=0.1...0.2")?.contains("another keyword"), true)
        XCTAssertEqual(error("sgd(schedule=step(step_size=2))", "momentum=0...0.5")?.contains("no schedule"), true)
        XCTAssertEqual(error("sgd", "momentum")?.contains("KEYWORD=A...B"), true)
    }
}
