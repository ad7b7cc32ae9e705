import Foundation
import NN
import XCTest

/// `optlab train`, `evaluate` and `cifar --compare` end to end on a few hundred real images.
final class CIFARCommandTests: XCTestCase {
    func testTinyComparisonWritesTheCSVAndTheFigure() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let arguments = ["cifar", "--compare", "sgd,adam,sgd(lr=1e6)", "--model", "tutorial", "--epochs", "1",
                         "--train-subset", "300", "--validation", "100", "--target", "0.12", "--data", data]
        let outcome = try runOptlab(arguments, in: folder)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let csv = try String(contentsOf: folder.appendingPathComponent("plots/cifar-compare.csv"), encoding: .utf8)

        // The state folder is kept: the same command trains nothing again; another grid is refused.
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("checkpoints/cifar-compare/grid.json").path))
        let again = try runOptlab(arguments, in: folder)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssert(again.stdout.contains("sgd(lr=0.01) seed 0: finished earlier, kept from "), again.stdout)
        XCTAssertFalse(again.stdout.contains("epoch 1/1"), "nothing is trained again: \(again.stdout)")
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("plots/cifar-compare.csv"), encoding: .utf8), csv)
        let other = try runOptlab(["cifar", "--compare", "adam", "--model", "tutorial", "--epochs", "1", "--train-subset", "300",
                                   "--data", data], in: folder)
        XCTAssertEqual(other.status, 1)
        XCTAssert(other.stderr.contains("checkpoints/cifar-compare holds a different grid (3 runs: tutorial, sgd(lr=0.01), adam(lr=0.001), sgd(lr=1e6))"),
                  other.stderr)
        XCTAssertEqual(other.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, other.stderr)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines.first, "optimizer,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,val_images")
        XCTAssertEqual(lines.count, 4)
        XCTAssert(lines[1].hasPrefix("sgd(lr=0.01),0,1,"), csv)
        XCTAssert(lines[2].hasPrefix("adam(lr=0.001),0,1,"), csv)
        XCTAssert(lines[3].hasPrefix("sgd(lr=1e6),0,1,nan,nan,nan,nan,nan,nan,"), csv)
        for line in lines.dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(cells.last, "100", "the split is recorded in every row")
            XCTAssertNotNil(Double(cells[6]), "val_acc: \(line)")
        }
        XCTAssert(outcome.stdout.contains("  val acc "), outcome.stdout)
        XCTAssert(outcome.stdout.contains("to 12 % val acc"), outcome.stdout)
        let summary = try String(contentsOf: folder.appendingPathComponent("plots/cifar-compare-summary.csv"), encoding: .utf8)
        XCTAssert(summary.hasPrefix("optimizer,runs,diverged,val_acc,test_acc,train_loss,minutes,target,epochs_to_target,seconds_to_target\n"), summary)
        XCTAssertEqual(summary.split(separator: "\n").count, 4, summary)

        let untargeted = try runOptlab(["cifar", "--target", "0.5", "--data", data], in: folder)
        XCTAssertEqual(untargeted.status, 64)
        XCTAssert(untargeted.stderr.contains("--target reads validation accuracy, never the test set's: add --validation N"), untargeted.stderr)
        let png = try Data(contentsOf: folder.appendingPathComponent("plots/cifar-compare.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssert(outcome.stdout.contains("sgd(lr=1e6) seed 0: diverged in epoch 1"), outcome.stdout)
        XCTAssert(outcome.stdout.contains("final test acc"), outcome.stdout)
    }

    func testTrainThenEvaluateAsJSON() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let train = try runOptlab(["train", "--model", "tutorial", "--epochs", "1", "--train-subset", "200",
                                       "--out", "run.safetensors", "--data", data], in: folder)
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssert(train.stdout.contains("epoch 1/1  loss "), train.stdout)

        let again = try runOptlab(["train", "--model", "tutorial", "--out", "run.safetensors", "--data", data], in: folder)
        XCTAssertEqual(again.status, 1)
        XCTAssert(again.stderr.contains("run.safetensors exists: pass --resume to continue that run"), again.stderr)

        let conflict = try runOptlab(["train", "--model", "vgg-small", "--out", "run.safetensors", "--resume", "--data", data], in: folder)
        XCTAssertEqual(conflict.status, 1)
        XCTAssert(conflict.stderr.contains("--model vgg-small (checkpoint: tutorial)"), conflict.stderr)

        let evaluate = try runOptlab(["evaluate", "--checkpoint", "run.safetensors", "--json", "--data", data], in: folder)
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(json?["images"] as? Int, 10_000)
        XCTAssertEqual((json?["per_class"] as? [String: Double])?.count, 10)
        XCTAssertEqual((json?["confusion"] as? [[Int]])?.joined().reduce(0, +), 10_000)
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("plots/confusion-run.png").path))

        let wrongModel = try runOptlab(["evaluate", "--checkpoint", "run.safetensors", "--model", "resnet18", "--data", data], in: folder)
        XCTAssertEqual(wrongModel.status, 1)
        XCTAssert(wrongModel.stderr.contains("is a checkpoint of model tutorial, not resnet18"), wrongModel.stderr)
    }

    /// `--convolutions` reaches the layers: labnet's 3×3 convolutions by oneDNN's direct kernels
    /// round otherwise than by the Winograd `auto` picks on every CPU, and the same choice twice
    /// gives the same bits.
    func testTrainConvolutionsChoosesTheAlgorithm() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        func weights(_ name: String, _ convolutions: String) throws -> [Float] {
            let run = try runOptlab(["train", "--epochs", "1", "--train-subset", "64", "--batch-size", "32", "--no-tta",
                                     "--convolutions", convolutions, "--out", name, "--data", data], in: folder)
            XCTAssertEqual(run.status, 0, run.stderr)
            return try SafeTensors(contentsOf: folder.appendingPathComponent(name)).floats("layer1.4.conv1.weight")
        }
        let direct = try weights("direct.safetensors", "direct")
        XCTAssert(try weights("again.safetensors", "direct") == direct, "the same choice, other bits")
        XCTAssert(try weights("auto.safetensors", "auto") != direct, "--convolutions direct ran what auto runs")
    }

    func testCtrlCLeavesAResumableCheckpoint() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let checkpoint = folder.appendingPathComponent("run.safetensors")
        let process = Process()
        process.executableURL = optlabBinary()
        process.arguments = ["train", "--model", "tutorial", "--epochs", "3", "--train-subset", "1000", "--out", checkpoint.path, "--data", data]
        process.standardOutput = Pipe()
        try process.run()
        // Ctrl-C once the first epoch's checkpoint exists, i.e. during a later epoch.
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)

        let resumed = try runOptlab(["train", "--out", "run.safetensors", "--resume", "--data", data], in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        // Where it resumes depends on when the signal landed (training or evaluating epoch 2).
        XCTAssert(resumed.stdout.contains("Resuming run.safetensors at epoch "), resumed.stdout)
        XCTAssert(resumed.stdout.contains("epoch 3/3"), resumed.stdout)
    }

    /// Ctrl-C in a local comparison's second run keeps the first run's result and the second's
    /// checkpoint; the same command trains only what is left.
    func testCtrlCInAComparisonResumesWhereItStopped() throws {
        let data = try realDataPath()
        let folder = try temporaryFolder(self)
        let arguments = ["cifar", "--compare", "sgd,adam", "--model", "tutorial", "--epochs", "3", "--train-subset", "500",
                         "--state", "state", "--data", data]
        let process = Process()
        process.executableURL = optlabBinary()
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Ctrl-C once the second run has a checkpoint (its first epoch ended): during a later epoch
        // (training or evaluating epoch 2; in the evaluation, it stops before epoch 3).
        let checkpoint = folder.appendingPathComponent("state/runs/0002.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        process.interrupt()
        process.waitUntilExit()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, stdout)
        XCTAssert(stdout.contains("Interrupted in run 2/2, epoch "), stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("plots/cifar-compare.csv").path))

        let resumed = try runOptlab(arguments, in: folder)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stdout.contains("sgd(lr=0.01) seed 0: finished earlier"), resumed.stdout)
        XCTAssertFalse(resumed.stdout.contains("adam(lr=0.001) seed 0: epoch 1/3"), "the cut run continues from its checkpoint: \(resumed.stdout)")
        XCTAssert(resumed.stdout.contains("adam(lr=0.001) seed 0: epoch 3/3"), resumed.stdout)
        let lines = try String(contentsOf: folder.appendingPathComponent("plots/cifar-compare.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 7, "three epochs of each run")
    }
}
