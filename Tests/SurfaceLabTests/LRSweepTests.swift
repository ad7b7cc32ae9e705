import Foundation
import Optim
import Surfaces
import XCTest
@testable import SurfaceLab

final class LRSweepTests: XCTestCase {
    func testSweepFindsSGDsStabilityLimitOnTheBowl() throws {
        // On 20x² + 2y², SGD converges for lr < 2/40 = 0.05 and diverges above.
        let rates = try LRSweep.learningRates(0.01...0.09, count: 9, logarithmic: false)
        XCTAssertEqual(rates, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09].map { $0 }, accuracy: 1e-15)
        let sweep = try LRSweep.run([try OptimizerSpec.parse("sgd")], on: try Surface.named("bowl"), steps: 200, learningRates: rates)
        let diverged = sweep.runs[0].map(\.diverged)
        XCTAssertEqual(diverged, [false, false, false, false, false, true, true, true, true])
        XCTAssertEqual(sweep.toleratedRanges(0).map(\.lowerBound), [0.01])
        XCTAssertEqual(sweep.toleratedRanges(0).first?.upperBound ?? 0, 0.04, accuracy: 1e-15)
        XCTAssertEqual(sweep.tolerance, 1e-3 * sweep.startLoss)
        let csv = sweep.csv.split(separator: "\n")
        XCTAssertEqual(csv[0], "optimizer,lr,final_loss,final_x,final_y,diverged")
        XCTAssertEqual(csv.count, 10)
        XCTAssertTrue(csv[9].hasSuffix(",nan,nan,nan,true"), String(csv[9]))
    }

    func testSweepResultsDoNotDependOnParallelism() throws {
        let specs = try LRSweep.defaultOptimizers.map(OptimizerSpec.parse)
        let rates = try LRSweep.learningRates(0.001...3, count: 37, logarithmic: true)
        XCTAssertEqual(rates.first, 0.001)
        XCTAssertEqual(rates.last, 3)
        let surface = try Surface.named("rosenbrock")
        let sweep = try LRSweep.run(specs, on: surface, steps: 50, learningRates: rates)
        for (i, spec) in specs.enumerated() {
            for j in [0, 17, 36] {
                let path = try Trajectories.run(spec.with(learningRate: rates[j]), on: surface, from: surface.start, steps: 50,
                                                divergenceLoss: 1e6 * sweep.startLoss)
                XCTAssertEqual(sweep.runs[i][j].final?.loss, path.divergedAt == nil ? path.finalLoss : nil)
            }
        }
    }

    func testRangeParsingAndErrors() {
        XCTAssertEqual(try LRSweep.parseRange("0...5"), 0...5)
        XCTAssertEqual(try LRSweep.parseRange("1e-3..0.5"), 0.001...0.5)
        for (text, message) in [("5...0", "empty or reversed"), ("1...1", "empty or reversed"), ("0-5", "range must be A...B such as 0...5")] {
            XCTAssertThrowsError(try LRSweep.parseRange(text)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        XCTAssertThrowsError(try LRSweep.learningRates(0...5, count: 11, logarithmic: true)) { XCTAssertTrue("\($0)".contains("log needs a range starting above 0"), "\($0)") }
        XCTAssertThrowsError(try LRSweep.learningRates(0...5, count: 1, logarithmic: false)) { XCTAssertTrue("\($0)".contains("points must be ≥ 2"), "\($0)") }
    }
}

/// Element-wise equality of two arrays within `accuracy`.
func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
