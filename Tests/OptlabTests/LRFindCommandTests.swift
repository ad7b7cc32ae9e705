import Foundation
import XCTest

/// `optlab lr-find` end to end on a few hundred real images.
final class LRFindCommandTests: XCTestCase {
    func testTinyRangeTestWritesTheCSVAndTheFigureAndPrintsSuggestions() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let outcome = try runOptlab(["lr-find", "--model", "tutorial", "--optimizer", "momentum", "--train-subset", "256", "--validation", "100",
                                     "--iters", "25", "--start", "1e-5", "--end", "10", "--data", data], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let csv = try String(contentsOf: folder.appendingPathComponent("plots/lr-find-tutorial.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "lr,loss,smoothed_loss")
        XCTAssertGreaterThan(lines.count, 15, csv)
        XCTAssert(lines[1].hasPrefix("1e-05,"), csv)
        XCTAssert(outcome.stdout.contains("Range test: tutorial with sgd(momentum=0.9), batch 32"), outcome.stdout)
        XCTAssert(outcome.stdout.contains("100 images held out"), outcome.stdout)
        for name in ["valley", "steep", "minimum/10", "slide"] { XCTAssert(outcome.stdout.contains("  \(name) "), outcome.stdout) }
        let png = try Data(contentsOf: folder.appendingPathComponent("plots/lr-find-tutorial.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testBadSettingsAreRefusedUpFront() throws {
        let cases: [([String], String)] = [
            (["--optimizer", "sgd(lr=0.1,schedule=step(step_size=1))"], "sets the learning rate itself"),
            (["--start", "1", "--end", "0.1"], "--end must be above start"),
            (["--iters", "1"], "--iters must be at least 2"),
            (["--epochs", "3"], "--epochs does not apply"),
        ]
        for (arguments, message) in cases {
            let outcome = try runOptlab(["lr-find", "--model", "tutorial", "--data", try realDataPath()] + arguments)
            XCTAssertNotEqual(outcome.status, 0, arguments.joined(separator: " "))
            XCTAssert(outcome.stderr.contains(message), outcome.stderr)
            XCTAssert(outcome.stderr.hasPrefix("Error: "), outcome.stderr)
        }
    }
}
