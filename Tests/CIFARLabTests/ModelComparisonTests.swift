import Data
import Foundation
import Optim
import XCTest
@testable import CIFARLab

/// `optlab cifar --models`: runs labelled by model, each with its recipe, the same image order.
final class ModelComparisonTests: XCTestCase {
    func testEachModelTrainsWithItsRecipeFromTheSameImageOrder() throws {
        let folder = try DataLocation.find(option: nil).folder
        let train = try CIFAR10.load(.train, from: folder), test = try CIFAR10.load(.test, from: folder).prefix(250)
        let grid = try ModelComparison.grid(["tutorial", "labnet"], seeds: [4]) { model in
            try TrainingPlan.recipe(model: model, epochs: 1, trainSubset: 96, comparing: true)
        }
        XCTAssertEqual(grid.map(\.spec.label), ["tutorial", "labnet"])
        XCTAssertEqual(grid.map(\.plan.batchSize), [32, 256], "each model's own recipe")
        XCTAssertEqual(grid.map(\.plan.optimizer), ["sgd(lr=0.01,momentum=0.9)",
                                                   try OptimizerSpec.parse(CIFARModels.recipe(for: "labnet").optimizer(1)).description])
        let loaders = try grid.map { try Trainer($0.plan, train: train, test: test).trainLoader }
        XCTAssertEqual(loaders[0].order(epoch: 0), loaders[1].order(epoch: 0), "the same images in the same order")

        let state = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-models-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: state) }
        guard case .finished(let runs) = try Comparison.run(JobGrid(runs: grid.map { JobGrid.Run(label: $0.spec.label, plan: $0.plan) }),
                                                            in: JobFolder(state.path), optlab: "/opt/optlab", data: "/data", threads: nil,
                                                            train: train, test: { test }) else { return XCTFail("expected both runs to finish") }
        XCTAssertEqual(runs.map(\.label), ["tutorial", "labnet"])
        XCTAssert(runs.allSatisfy { $0.epochs.count == 1 && $0.seed == 4 })
        let costs = try Dictionary(uniqueKeysWithValues: ["tutorial", "labnet"].map { ($0, try ModelComparison.cost(of: $0)) })
        let table = ModelComparison.costCSV(runs, costs: costs)
        XCTAssertEqual(table.header, ["model", "optimizer", "parameters", "multiply_adds", "seconds_per_epoch"])
        XCTAssertEqual(table.rows.count, 2)
        XCTAssertEqual(costs["tutorial"], ModelComparison.Cost(parameters: 62_006, multiplyAdds: 651_720))
        XCTAssert(ModelComparison.costSummary(runs, costs: costs).contains("0.7 M"))
    }

    func testOneOptimizerForEveryModel() throws {
        let grid = try ModelComparison.grid(["tutorial", "vgg-small"], seeds: [0, 1]) { model in
            try TrainingPlan.recipe(model: model, optimizer: "adam", epochs: 1, comparing: true)
        }
        XCTAssertEqual(grid.map(\.spec.label), ["tutorial", "vgg-small", "tutorial", "vgg-small"])
        XCTAssertEqual(grid.map(\.plan.seed), [0, 0, 1, 1])
        XCTAssertEqual(Set(grid.map { $0.spec.name }), ["adam"])
        XCTAssertTrue(ModelComparison.comparesModels(JobGrid(runs: grid.map { JobGrid.Run(label: $0.spec.label, plan: $0.plan) })))
    }
}
