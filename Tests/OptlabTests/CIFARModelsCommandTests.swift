import Foundation
import XCTest

/// `optlab cifar --models`: its jobs are labelled by model, and bad lists are refused.
final class CIFARModelsCommandTests: XCTestCase {
    func testModelJobsAreLabelledByModel() throws {
        let folder = try temporaryFolder(self)
        let written = try runOptlab(["cifar", "--models", "tutorial,labnet", "--epochs", "1", "--train-subset", "64",
                                     "--data", try realDataPath(), "--jobs", "grid"], in: folder)
        XCTAssertEqual(written.status, 0, written.stderr)
        let grid = try String(contentsOf: folder.appendingPathComponent("grid/grid.json"), encoding: .utf8)
        XCTAssert(grid.contains("\"label\" : \"tutorial\"") && grid.contains("\"label\" : \"labnet\""), grid)
    }

    func testBadModelListsAreRefused() throws {
        let cases: [([String], String)] = [
            (["--models", "tutorial,nosuch"], "--models: unknown model 'nosuch'"),
            (["--models", "tutorial"], "--models needs at least two different models"),
            (["--models", "tutorial,tutorial"], "--models needs at least two different models"),
            (["--optimizer", "adam"], "--optimizer applies to --models"),
            (["--models", "tutorial,labnet", "--model", "labnet"], "--model labnet and --models both name the network"),
            (["--models", "tutorial,labnet", "--tune", "adam"], "--tune compares optimizers and --models compares networks"),
        ]
        try assertRefused(["cifar", "--data", try realDataPath()], cases)
    }
}
