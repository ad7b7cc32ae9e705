import Foundation
import XCTest

/// `optlab landscape` end to end on the tutorial net and a few hundred images.
final class LandscapeCommandTests: XCTestCase {
    func testATinyLandscapeWritesTheFigureAndBothCSVs() throws {
        let folder = try temporaryFolder(self)
        let outcome = try runOptlab(["landscape", "--model", "tutorial", "--compare", "momentum,adam", "--epochs", "1", "--train-subset", "256",
                                     "--grid", "5", "--loss-images", "100", "--snapshots", "4", "--data", try realDataPath()], in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssert(outcome.stdout.contains("Axes: x = toward momentum(lr=0.01)'s end"), outcome.stdout)
        let grid = try String(contentsOf: folder.appendingPathComponent("plots/landscape.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(grid.first, "x,y,loss")
        XCTAssertEqual(grid.count, 1 + 25)
        let paths = try String(contentsOf: folder.appendingPathComponent("plots/landscape-paths.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(paths.first, "optimizer,step,x,y")
        XCTAssertEqual(paths.count, 1 + 2 * 5, "θ₀, 4 snapshots at steps 2, 4, 6, 8, for each run")
        let png = try Data(contentsOf: folder.appendingPathComponent("plots/landscape.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("plots/landscape.partial").path),
                       "the unfinished work is removed once the outputs are written")
    }

    /// Ctrl-C once the first run's first epoch is checkpointed, then the same command: it goes on
    /// from what the interruption kept (that run's checkpoint, with its iterates) and writes the
    /// outputs of an uninterrupted landscape byte for byte.
    func testCtrlCMidRunThenTheSameCommandWritesAnUninterruptedRunsOutputs() throws {
        let arguments = ["landscape", "--model", "tutorial", "--compare", "momentum,adam", "--epochs", "2", "--train-subset", "512",
                         "--grid", "5", "--loss-images", "100", "--snapshots", "5", "--data", try realDataPath()]
        let straight = try temporaryFolder(self), folder = try temporaryFolder(self)
        let whole = try runOptlab(arguments, in: straight)
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let process = Process()
        process.executableURL = optlabBinary()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = Pipe()
        try process.run()
        let checkpoint = folder.appendingPathComponent("plots/landscape.partial/run-1.checkpoint.safetensors")
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)

        let resumed = try runOptlab(arguments, in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(whole.stdout.contains("momentum(lr=0.01): epoch 1/2"), whole.stdout)
        XCTAssertFalse(resumed.stdout.contains("momentum(lr=0.01): epoch 1/2"), "the first run goes on, not again: \(resumed.stdout)")
        for file in ["plots/landscape.csv", "plots/landscape-paths.csv", "plots/landscape.png"] {
            XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent(file)), try Data(contentsOf: straight.appendingPathComponent(file)), file)
        }
    }

    func testBadOptionsAreOneLineErrors() throws {
        let cases: [([String], String)] = [
            (["--grid", "2"], "--grid must be in 3...201"),
            (["--loss-images", "0"], "--loss-images must be at least 1"),
            (["--snapshots", "0"], "--snapshots must be at least 1"),
            (["--compare", "adam"], "needs at least two optimizers"),
            (["--train-subset", "256", "--loss-images", "300"], "--loss-images must be at most the 256 training images"),
            (["--grid", "201", "--loss-images", "50000"], "multiply-adds; the limit is 1e+14"),
            (["--compare", "adam,nosuch"], "nosuch"),
        ]
        try assertRefused(["landscape", "--data", try realDataPath(), "--model", "tutorial"], cases)
        try assertRefused(["landscape", "--data", try realDataPath()], [
            (["--from", "a.safetensors"], "--from needs at least two checkpoints"),
            (["--from", "a.safetensors", "b.safetensors", "--epochs", "2"], "--epochs does not apply with --from"),
            (["--from", "a.safetensors", "b.safetensors", "--compare", "sgd,adam"], "give one of them"),
        ])
    }
}
