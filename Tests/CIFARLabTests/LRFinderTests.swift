import Data
import Foundation
import XCTest
@testable import CIFARLab
import Optim

/// The learning-rate range test: fastai's suggestions (fixture), the smoothing and stop rule, and
/// a short real test on the tutorial net.
final class LRFinderTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let lrs: [Double]
        /// null where the recorded loss was NaN.
        let losses: [Double?]
        let iterations: Int
        let suggestions: [String: Double?]
    }

    /// Tests/Fixtures/lr-find-suggestions.json, written by make_lr_find_suggestions.py with fastai.
    func testSuggestionsMatchFastai() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/lr-find-suggestions.json")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        XCTAssertEqual(cases.count, 5)
        for c in cases {
            let suggestions = LRSuggestions(trimming: c.lrs, c.losses.map { $0 ?? .nan }, requestedIterations: c.iterations)
            for (name, lr) in suggestions.named {
                let expected = try XCTUnwrap(c.suggestions[name.replacingOccurrences(of: "/10", with: "")], "\(c.name): \(name)")
                if let expected {
                    XCTAssertEqual(try XCTUnwrap(lr, "\(c.name): \(name)"), expected, accuracy: expected * 1e-12, "\(c.name): \(name)")
                } else {
                    XCTAssertNil(lr, "\(c.name): \(name)")
                }
            }
        }
    }

    func testSmoothsAsPytorchLRFinderAndStopsAtTheDivergenceFactor() {
        var finder = LRFinder(LRFinder.Settings(iterations: 10, smoothing: 0.5, divergence: 2))
        XCTAssertTrue(finder.record(lr: 1, loss: 4))   // s = 4
        XCTAssertTrue(finder.record(lr: 2, loss: 0))   // s = 2, the minimum
        XCTAssertTrue(finder.record(lr: 3, loss: 6))   // s = 4 = 2 × minimum: not above it
        XCTAssertFalse(finder.record(lr: 4, loss: 8))  // s = 6 > 4
        XCTAssertEqual(finder.points.map(\.smoothedLoss), [4, 2, 4, 6])
        XCTAssertEqual(finder.points.map(\.loss), [4, 0, 6, 8])
        XCTAssertTrue(finder.diverged)

        var complete = LRFinder(LRFinder.Settings(iterations: 2))
        XCTAssertTrue(complete.record(lr: 1, loss: 1))
        XCTAssertFalse(complete.record(lr: 2, loss: 1), "stops after the requested iterations")
        XCTAssertFalse(complete.diverged)

        var nan = LRFinder(LRFinder.Settings())
        XCTAssertTrue(nan.record(lr: 1, loss: 1))
        XCTAssertFalse(nan.record(lr: 2, loss: .nan))
        XCTAssertTrue(nan.diverged)
    }

    func testSpecGetsTheStartRateAndAnExponentialSchedule() throws {
        let settings = LRFinder.Settings(start: 1e-4, end: 1, iterations: 5)
        let spec = try LRFinder.spec("adam(lr=0.1,betas=(0.8,0.99))", settings)
        XCTAssertEqual(spec.description, "adam(lr=0.0001,betas=(0.8,0.99),schedule=exponential(gamma=10))")
        XCTAssertThrowsError(try LRFinder.spec("sgd(lr=0.1,schedule=step(step_size=2))", settings)) {
            XCTAssert("\($0)".contains("sets the learning rate itself"), "\($0)")
        }
        XCTAssertEqual(try LRFinder.spec("nesterov(lr=0.2,schedule=onecycle(max_lr=0.2))", settings, droppingSchedule: true).description,
                       "sgd(lr=0.0001,momentum=0.9,nesterov=true,schedule=exponential(gamma=10))")
        XCTAssertThrowsError(try LRFinder.Settings(start: 1, end: 0.1).check())
    }

    func testARangeTestOnTheTutorialNet() throws {
        let train = try CIFAR10.load(.train, from: try DataLocation.find(option: nil).folder)
        let plan = TrainingPlan(model: "tutorial", optimizer: "sgd(momentum=0.9)", epochs: 1, batchSize: 32, seed: 1,
                                trainSubset: 200, validation: try ValidationSplit(count: 100), augment: false, normalization: .tutorial)
        let settings = LRFinder.Settings(start: 1e-3, end: 1e3, iterations: 13)
        let finder = try LRFinder.run(plan, settings, train: train)
        let lrs = finder.points.map(\.lr)
        // 200 images are 7 batches: the test runs on into a second epoch of them.
        XCTAssertGreaterThan(lrs.count, 7)
        for (t, lr) in lrs.enumerated() { XCTAssertEqual(lr, 1e-3 * pow(10, Double(t) / 2), accuracy: lr * 1e-9) }
        XCTAssertEqual(finder.points[0].loss, log(10), accuracy: 0.1, "an untrained net is near chance")
        // Up to 1000 the loss runs away well before the end.
        XCTAssertTrue(finder.diverged)
        XCTAssertLessThan(lrs.count, 13)
        XCTAssertEqual(finder.csv.header, ["lr", "loss", "smoothed_loss"])
        XCTAssertEqual(finder.csv.rows.count, lrs.count)
    }
}
