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

    /// AlgoPerf's time to target reads validation accuracy only, takes the median over seeds with a
    /// seed that never reaches it counting as infinitely late, and says "not reached" otherwise.
    func testTimeToTargetIsTheMedianOverSeedsOfValidationAccuracy() {
        func run(_ seed: UInt64, _ validation: [Double], test: Double = 0.99) -> Comparison.Run {
            var run = Comparison.Run(spec: try! OptimizerSpec.parse("adam"), seed: seed)
            run.epochs = validation.enumerated().map { e, accuracy in
                EpochMetrics(epoch: e + 1, trainLoss: 1, trainAccuracy: 0.5, validationLoss: 1, validationAccuracy: accuracy,
                             testLoss: 1, testAccuracy: test, seconds: 10 * Double(e + 1))
            }
            return run
        }
        let seeds = [run(0, [0.5, 0.7, 0.8]), run(1, [0.6, 0.75, 0.9]), run(2, [0.4, 0.5, 0.6])]
        XCTAssertEqual(seeds[0].reaching(0.7)?.epoch, 2)
        XCTAssertNil(seeds[2].reaching(0.7), "a test accuracy of 99 % does not count")
        let median = Comparison.timeToTarget(seeds, target: 0.7)
        XCTAssertEqual(median?.epoch, 2)
        XCTAssertEqual(median?.seconds, 20)
        XCTAssertEqual(Comparison.timeToTarget(seeds, target: 0.8)?.epoch, 3, "two of three seeds reach 0.8, at epoch 3")
        XCTAssertNil(Comparison.timeToTarget(seeds, target: 0.85), "one of three is not a median")
        XCTAssertEqual(Comparison.timeToTarget(Array(seeds.prefix(2)), target: 0.8)?.epoch, 3)

        let lines = Comparison.summary(seeds, target: 0.85).split(separator: "\n")
        XCTAssert(lines[0].hasSuffix("to 85 % val acc"), String(lines[0]))
        XCTAssert(lines[1].hasSuffix("not reached"), String(lines[1]))
        XCTAssert(Comparison.summary(seeds, target: 0.7).hasSuffix("epoch 2, 20 s"))
        XCTAssertEqual(Comparison.summaryCSV(seeds, target: 0.7).text, """
            optimizer,runs,diverged,val_acc,test_acc,train_loss,minutes,target,epochs_to_target,seconds_to_target
            adam,3,0,0.7666666666666667,0.9899999999999999,1.0,0.5,0.7,2.0,20.0

            """)
    }

    func testFigureRendersBandsAndADivergedRun() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString).png").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        try ComparisonFigure.make(runs, model: "tutorial", target: 0.55).save(to: path)
        XCTAssertGreaterThan(try Data(contentsOf: URL(fileURLWithPath: path)).count, 10_000)
    }
}
