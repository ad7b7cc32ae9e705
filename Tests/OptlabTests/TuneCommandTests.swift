import Foundation
import XCTest

/// `optlab cifar --tune` end to end on a few hundred real images, and its bad input.
final class TuneCommandTests: XCTestCase {
    func testTinyTuningWritesTheFigureTheCSVAndTheSummary() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let arguments = ["cifar", "--tune", "sgd,adam", "--model", "tutorial", "--epochs", "1", "--train-subset", "320",
                         "--validation", "100", "--trials", "2", "--lr-range", "1e-3...1e6", "--data", data]
        let outcome = try runOptlab(arguments, in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssert(outcome.stdout.contains("trial 4/4 adam lr 1e+06 seed 0: diverged in epoch 1"), outcome.stdout)
        XCTAssert(outcome.stdout.contains("final 1/2 sgd lr 0.001 seed 1: val acc "), outcome.stdout)
        XCTAssert(outcome.stdout.contains("optimizer  chosen lr  trials (failed)  val acc"), outcome.stdout)
        let lines = try String(contentsOf: folder.appendingPathComponent("plots/cifar-tune.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "phase,optimizer,lr,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_acc,seconds,diverged")
        XCTAssertEqual(lines.count, 7)
        let summary = try String(contentsOf: folder.appendingPathComponent("plots/cifar-tune-summary.csv"), encoding: .utf8)
        XCTAssert(summary.hasPrefix("optimizer,lr,trials,diverged_trials,best_trial_val_acc,seeds,"), summary)
        let png = try Data(contentsOf: folder.appendingPathComponent("plots/cifar-tune.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        let again = try runOptlab(arguments, in: folder)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stdout.contains("trial 1/4"), "nothing is trained again: \(again.stdout)")
        XCTAssert(again.stdout.contains("Wrote plots/cifar-tune.png"), again.stdout)
        let other = try runOptlab(arguments + ["--seeds", "2"], in: folder)
        XCTAssertEqual(other.status, 1)
        XCTAssert(other.stderr.contains("holds a different tuning"), other.stderr)
    }

    func testBadTuningSettingsFailAtOnce() throws {
        for (arguments, message) in [
            (["--tune", "adam", "--lr-range", "1...0.1"], "--lr-range expects two positive rates A...B with A ≤ B"),
            (["--tune", "adam", "--trials", "0"], "--trials must be in 1...100"),
            (["--trials", "3"], "--lr-range and --trials set up a tuning: add --tune SPECS"),
            (["--tune", "adam", "--state", "s", "--jobs", "j"], "--state is a local run's folder; --jobs and --collect name their own"),
            (["--tune", "adam,adam"], "--tune names adam twice"),
        ] {
            let outcome = try runOptlab(["cifar"] + arguments + ["--data", "/nonexistent"])
            XCTAssertEqual(outcome.status, 64, "\(arguments): \(outcome.stderr)")
            XCTAssert(outcome.stderr.contains(message), "\(arguments): \(outcome.stderr)")
        }
    }
}
