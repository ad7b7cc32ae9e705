import Foundation
import NN
import XCTest

/// `optlab cifar --jobs`, `optlab job` and `optlab cifar --collect` end to end on a grid whose one
/// run diverges at once (cheap) and whose other is never run.
final class JobCommandTests: XCTestCase {
    func testJobsThenOneJobThenAPartialCollect() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let grid = ["cifar", "--compare", "sgd,sgd(lr=1e30)", "--model", "tutorial", "--epochs", "1", "--train-subset", "200",
                    "--batch-size", "32", "--data", data, "--jobs", "grid"]
        let written = try runOptlab(grid, in: folder)
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssert(written.stdout.contains("Wrote 2 jobs to \(folder.path)/grid"), written.stdout)
        let job = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("grid/runs/0002.json"))) as? [String: Any]
        XCTAssertEqual((job?["optlab"] as? String).map { URL(fileURLWithPath: $0).resolvingSymlinksInPath() },
                       optlabBinary().resolvingSymlinksInPath())
        XCTAssert((job?["data"] as? String)?.hasPrefix("/") == true)

        // Job files carry no precision or algorithm: asking for one is refused, nothing written
        // (bf16 only where the CPU has it; elsewhere that option is refused for the CPU).
        let bf16 = Precision.bf16Backward.unsupportedReason == nil ? [["--precision", "bf16-backward"]] : []
        for option in bf16 + [["--convolutions", "direct"]] {
            let refused = try runOptlab(grid.map { $0 == "grid" ? "other" : $0 } + option, in: folder)
            XCTAssertEqual(refused.status, 64, refused.stderr)
            XCTAssert(refused.stderr.contains("--jobs writes job files without --precision or --convolutions"), refused.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("other").path))
        }

        let again = try runOptlab(grid, in: folder)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssert(again.stdout.contains("holds this grid already: 0 of 2 runs done; nothing written"), again.stdout)
        let other = try runOptlab(grid.map { $0 == "1" ? "2" : $0 }, in: folder)
        XCTAssertEqual(other.status, 1)
        XCTAssert(other.stderr.contains("holds a different grid (2 runs: tutorial, sgd(lr=0.01), sgd(lr=1e30))"), other.stderr)

        let diverged = try runOptlab(["job", "grid/runs/0002.json"], in: folder)
        XCTAssertEqual(diverged.status, 0, diverged.stderr)
        XCTAssert(diverged.stdout.contains("job 2 (sgd(lr=1e30), seed 0) diverged in epoch 1"), diverged.stdout)
        let skipped = try runOptlab(["job", "grid/runs/0002.json"], in: folder)
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssert(skipped.stdout.contains("is finished already: nothing to do"), skipped.stdout)

        let collected = try runOptlab(["cifar", "--collect", "grid", "--out", "collected.png"], in: folder)
        XCTAssertEqual(collected.status, 2, "some runs are missing")
        XCTAssert(collected.stdout.contains("1 of 2 runs have no result:\n  job 1 (sgd(lr=0.01), seed 0): not started"), collected.stdout)
        XCTAssert(collected.stdout.contains("sbatch --array=1 \(folder.path)/grid/slurm.sbatch"), collected.stdout)
        let csv = try String(contentsOf: folder.appendingPathComponent("collected.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 2)
        XCTAssert(csv[1].hasPrefix("sgd(lr=1e30),0,1,nan,"), String(csv[1]))
    }

    /// SIGTERM (a scheduler's time limit, scancel) stops a job with a checkpoint; the same command
    /// then resumes it and finishes.
    func testATerminatedJobResumes() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let written = try runOptlab(["cifar", "--compare", "sgd", "--model", "tutorial", "--epochs", "2", "--train-subset", "2000",
                                     "--batch-size", "16", "--data", data, "--jobs", "grid"], in: folder)
        XCTAssertEqual(written.status, 0, written.stderr)

        let process = Process(), output = Pipe()
        process.executableURL = optlabBinary()
        process.arguments = ["job", "grid/runs/0001.json"]
        process.currentDirectoryURL = folder
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = ""
        while !printed.contains("Starting job 1") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += String(decoding: chunk, as: UTF8.self)
        }
        process.terminate()  // SIGTERM
        printed += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, printed)
        XCTAssert(printed.contains("checkpoint saved; run the same command to resume"), printed)

        let collected = try runOptlab(["cifar", "--collect", "grid"], in: folder)
        XCTAssert(collected.stdout.contains("job 1 (sgd(lr=0.01), seed 0): stopped by SIGTERM in epoch 1"), collected.stdout)
        let resumed = try runOptlab(["job", "grid/runs/0001.json"], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stdout.hasPrefix("Resuming job 1"), resumed.stdout)
        XCTAssert(resumed.stdout.contains("job 1 (sgd(lr=0.01), seed 0) finished"), resumed.stdout)
    }
}
