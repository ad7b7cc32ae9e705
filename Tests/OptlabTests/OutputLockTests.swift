import Foundation
import Support
import XCTest

/// Every command that writes files locks each of its outputs (`PathLock.outputs`) before its work
/// starts: while another process holds one (here the test itself), the command fails at once with
/// one line naming the path and the holder's pid, and leaves the file as it was.
final class OutputLockTests: XCTestCase {
    func testEveryCommandRefusesAnOutputAnotherProcessHolds() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("out"), withIntermediateDirectories: false)
        try "kind: lr-sweep\nfn: bowl\nrange: 0...1\npoints: 3\nsteps: 5\n"
            .write(to: folder.appendingPathComponent("sweep.yaml"), atomically: true, encoding: .utf8)
        let small = ["--model", "tutorial", "--train-subset", "32", "--batch-size", "16", "--threads", "1", "--data", data]
        let tiny = small + ["--epochs", "1"]
        let grid = try runOptlab(["cifar", "--compare", "sgd", "--jobs", "grid"] + tiny, in: folder)
        XCTAssertEqual(grid.status, 0, grid.stderr)
        let cases: [(locked: String, arguments: [String])] = [
            ("t.png", ["trajectories", "--steps", "5", "--out", "t.png"]),
            ("t.csv", ["trajectories", "--steps", "5", "--csv", "t.csv", "--out", "t2.png"]),
            ("t.gif", ["trajectories", "--steps", "5", "--out", "t.gif"]),
            ("s.png", ["lr-sweep", "0...1", "--points", "3", "--steps", "5", "--out", "s.png"]),
            ("m.csv", ["phase-map", "--points", "3x3", "--steps", "5", "--csv", "m.csv", "--out", "m.png"]),
            ("out/sweep.png", ["run", "sweep.yaml", "--plots", "out"]),
            ("c.png", ["cifar", "--compare", "sgd", "--out", "c.png"] + tiny),
            ("c-summary.csv", ["cifar", "--compare", "sgd", "--out", "c.png"] + tiny),
            ("tu-summary.csv", ["cifar", "--tune", "sgd", "--out", "tu.png"] + tiny),
            ("f.csv", ["lr-find", "--iters", "5", "--out", "f.png", "--csv", "f.csv"] + small),
            ("e.png", ["evaluate", "--checkpoint", "r.safetensors", "--figure", "e.png", "--data", data]),
            ("grid", ["cifar", "--compare", "sgd", "--jobs", "grid"] + tiny),
            ("grid/runs/0001.json", ["job", "grid/runs/0001.json", "--data", data]),
            ("r.safetensors", ["train", "--out", "r.safetensors"] + tiny),
        ]
        for (locked, arguments) in cases {
            let path = folder.appendingPathComponent(locked).path
            let before = FileManager.default.contents(atPath: path)
            let outcome = try withExtendedLifetime(PathLock(path)) { try runOptlab(arguments, in: folder) }
            let command = arguments.prefix(3).joined(separator: " ")
            XCTAssertNotEqual(outcome.status, 0, command)
            XCTAssert(outcome.stderr.contains("\(locked)' is in use by another optlab process (pid \(getpid())); wait for it or choose another path"),
                      "\(command): \(outcome.stderr)")
            XCTAssertEqual(outcome.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertEqual(FileManager.default.contents(atPath: path), before, "\(command) left \(locked) as it was")
        }
        let lockFiles = FileManager.default.enumerator(atPath: folder.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".lock") }
        XCTAssertEqual(lockFiles, [], "every lock file is removed with its lock")
    }
}
