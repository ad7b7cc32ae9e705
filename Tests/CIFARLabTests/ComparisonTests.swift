import CIFARFigures
import Optim
import XCTest
@testable import CIFARLab

final class ComparisonTests: XCTestCase {
    private func metrics(_ epoch: Int, _ accuracy: Double, _ loss: Double) -> EpochMetrics {
        EpochMetrics(epoch: epoch, trainLoss: loss, trainAccuracy: accuracy - 0.05, testLoss: loss + 0.1, testAccuracy: accuracy,
                     seconds: 30 * Double(epoch))
    }

    private var runs: [Comparison.Run] {
        var sgd0 = Comparison.Run(spec: try! OptimizerSpec.parse("sgd(lr=0.1)"), seed: 0)
        sgd0.epochs = [metrics(1, 0.5, 1.5), metrics(2, 0.6, 1.2)]
        var sgd1 = Comparison.Run(spec: try! OptimizerSpec.parse("sgd(lr=0.1)"), seed: 1)
        sgd1.epochs = [metrics(1, 0.4, 1.6), metrics(2, 0.7, 1.0)]
        var adam = Comparison.Run(spec: try! OptimizerSpec.parse("adam(lr=10)"), seed: 0)
        adam.epochs = [metrics(1, 0.2, 2.0)]
        adam.divergedAt = (epoch: 2, batch: 7, seconds: 41)
        return [sgd0, adam, sgd1]
    }

    func testCSVKeepsEveryEpochAndMarksTheDivergence() {
        XCTAssertEqual(Comparison.csv(runs).text, """
            optimizer,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,val_images
            sgd(lr=0.1),0,1,1.5,0.45,,,1.6,0.5,30.0,0
            sgd(lr=0.1),0,2,1.2,0.5499999999999999,,,1.3,0.6,60.0,0
            adam(lr=10),0,1,2.0,0.15000000000000002,,,2.1,0.2,30.0,0
            adam(lr=10),0,2,nan,nan,,,nan,nan,41.0,0
            sgd(lr=0.1),1,1,1.6,0.35000000000000003,,,1.7000000000000002,0.4,30.0,0
            sgd(lr=0.1),1,2,1.0,0.6499999999999999,,,1.1,0.7,60.0,0

            """)
    }

    func testSummaryGroupsSeedsAndNamesDivergedRuns() {
        let lines = Comparison.summary(runs).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3)
        XCTAssert(lines[1].hasPrefix("sgd(lr=0.1)  65.00 % (60.0–70.0)"), lines[1])
        XCTAssert(lines[1].hasSuffix("1.1000            1.0"), lines[1])
        XCTAssert(lines[2].hasPrefix("adam(lr=10)  diverged "), lines[2])
    }

    func testFigureRendersBandsAndADivergedRun() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).png").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try ComparisonFigure.make(runs, model: "tutorial").save(to: path)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 10_000)
    }
}
