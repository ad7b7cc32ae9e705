import Data
import Foundation
import NN
import Optim
import Support
import XCTest
@testable import CIFARLab

/// The landscape's plane, projections and loss grid on the tutorial net trained on 256 images.
final class LandscapeTests: XCTestCase {
    static let plan = TrainingPlan(model: "tutorial", optimizer: "sgd", epochs: 1, batchSize: 32, seed: 3, trainSubset: 256,
                                   augment: false, normalization: .tutorial)

    private func datasets() throws -> (train: Dataset, test: Dataset) {
        let folder = try DataLocation.find(option: nil).folder
        return (try CIFAR10.load(.train, from: folder), try CIFAR10.load(.test, from: folder).prefix(250))
    }

    private func paths(_ specs: [String], train: Dataset, test: Dataset) throws -> [LandscapePath] {
        try specs.map { try XCTUnwrap(LandscapePath.train(try OptimizerSpec.parse($0), plan: Self.plan, train: train, test: test, every: 2)) }
    }

    func testTheStartProjectsToTheOriginAndEachEndOntoItsOwnAxis() throws {
        let (train, test) = try datasets()
        let runs = try paths(["sgd(lr=0.05,momentum=0.9)", "adam(lr=0.003)"], train: train, test: test)
        XCTAssertEqual(runs[0].steps, [0, 2, 4, 6, 8])
        XCTAssertEqual(runs[0].iterates[0], runs[1].iterates[0], "one start θ₀ for every run")
        let plane = try Landscape.plane(for: runs, model: "tutorial")
        let start = plane.project(runs[0].iterates[0])
        XCTAssertEqual(start.x, 0, accuracy: 1e-9)
        XCTAssertEqual(start.y, 0, accuracy: 1e-9)
        let first = plane.project(runs[0].end), second = plane.project(runs[1].end)
        XCTAssertGreaterThan(first.x, 0)
        XCTAssertEqual(first.y, 0, accuracy: 1e-4 * first.x, "the first end lies on the x axis")
        XCTAssertGreaterThan(second.y, 0)
        // Both ends lie in the plane: the point at their coordinates is the end itself.
        for (run, coordinates) in zip(runs, [first, second]) {
            let point = plane.point(x: coordinates.x, y: coordinates.y)
            let error = zip(point, run.end).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(error, 1e-4 * run.end.map(abs).max()!)
        }
    }

    func testPrincipalComponentsAreOrthonormalAndOrderedByVariance() throws {
        let (train, test) = try datasets()
        let runs = try paths(["sgd(lr=0.05,momentum=0.9)", "adam(lr=0.003)", "rmsprop(lr=0.001)"], train: train, test: test)
        let plane = try Landscape.plane(for: runs, model: "tutorial")
        let (a, b) = (plane.axes[0], plane.axes[1])
        XCTAssertEqual(dot(a, a), 1, accuracy: 1e-5)
        XCTAssertEqual(dot(b, b), 1, accuracy: 1e-5)
        XCTAssertEqual(dot(a, b), 0, accuracy: 1e-5)
        let fractions = try XCTUnwrap(plane.varianceFractions)
        XCTAssertGreaterThanOrEqual(fractions[0], fractions[1])
        XCTAssertLessThanOrEqual(fractions[0] + fractions[1], 1 + 1e-9)
        XCTAssert(plane.axisLabels[0].hasPrefix("PC1 ("), plane.axisLabels[0])
        let start = plane.project(runs[0].iterates[0])
        XCTAssertEqual(start.x, 0, accuracy: 1e-9)
        XCTAssertEqual(start.y, 0, accuracy: 1e-9)
    }

    func testEigenvectorsOfASymmetricMatrix() {
        let matrix: [Double] = [4, 1, 0, 1, 3, 1, 0, 1, 2]
        let (values, vectors) = symmetricEigen(matrix, size: 3)
        for k in 0..<3 {
            for i in 0..<3 {
                let product = (0..<3).reduce(0.0) { $0 + matrix[i * 3 + $1] * vectors[$1 * 3 + k] }
                XCTAssertEqual(product, values[k] * vectors[i * 3 + k], accuracy: 1e-12)
            }
        }
        XCTAssertEqual(values.reduce(0, +), 9, accuracy: 1e-12)
    }

    /// The lattice's centre is θ₀, whose loss is the untrained model's own (the tutorial net has no
    /// batch norm, so training mode is evaluation mode); an interrupted grid continues to the same values.
    func testTheGridCentreIsTheModelsLossAtTheStartAndAnInterruptedGridContinues() throws {
        let (train, test) = try datasets()
        let runs = try paths(["sgd(lr=0.05,momentum=0.9)", "adam(lr=0.003)"], train: train, test: test)
        let plane = try Landscape.plane(for: runs, model: "tutorial")
        let probe = try LossProbe(plan: Self.plan, train: train, test: test, images: 100)
        let start = try CIFARModels.make("tutorial", seed: Self.plan.seed)
        let expected = try Trainer.evaluate(start, on: Trainer.testLoader(train.prefix(100), .tutorial)).loss

        let cancellation = Cancellation()
        var grid = LandscapeGrid(xs: [-1, 0, 1], ys: [-1, 0, 1])
        XCTAssertFalse(try grid.evaluate(plane, probe: probe, cancellation: cancellation) { _ in cancellation.request() })
        XCTAssertEqual(grid.rows.count, 1)
        XCTAssertTrue(try grid.evaluate(plane, probe: probe) { _ in })
        XCTAssertEqual(grid.rows[1][1], expected, accuracy: 1e-6)
        var whole = LandscapeGrid(xs: [-1, 0, 1], ys: [-1, 0, 1])
        XCTAssertTrue(try whole.evaluate(plane, probe: probe) { _ in })
        XCTAssertEqual(whole.rows, grid.rows)
        XCTAssertEqual(grid.csv.header, ["x", "y", "loss"])
        XCTAssertEqual(grid.csv.rows.count, 9)
    }

    /// A landscape cut short in the middle of its second run continues that run from its
    /// checkpoint, the iterates saved so far included, instead of restarting it; the runs, the grid
    /// and both CSVs equal an uninterrupted landscape's byte for byte.
    func testALandscapeCutShortMidRunContinuesItToTheSameOutputs() throws {
        let (train, test) = try datasets()
        var plan = Self.plan
        plan.epochs = 2
        // 8 steps an epoch, 16 a run; 5 snapshots: every 3 steps, and the end.
        let specs = try OptimizerSpec.parseList("sgd(lr=0.05,momentum=0.9),adam(lr=0.003),lion(lr=0.0003)")
        let probe = try LossProbe(plan: plan, train: train, test: test, images: 100)
        func landscape(in folder: String, observer: any ProgressObserver, cancellation: Cancellation? = nil) throws
            -> (runs: [LandscapePath], grid: String, paths: String)? {
            let work = try LandscapeWork(folder, settings: "tiny")
            guard let runs = try work.runs(specs, plan: plan, snapshots: 5, train: train, test: test,
                                           progress: { _ in { _, _, _ in observer } }, cancellation: cancellation) else { return nil }
            let plane = try Landscape.plane(for: runs, model: "tutorial")
            var grid = LandscapeGrid(around: runs.flatMap { $0.iterates.map(plane.project) }, size: 5)
            XCTAssertTrue(try grid.evaluate(plane, probe: probe) { _ in })
            return (runs, grid.csv.text, Landscape.pathsCSV(runs, plane: plane).text)
        }
        let straightFolder = temporaryFolder(), folder = temporaryFolder()
        let straight = try XCTUnwrap(try landscape(in: straightFolder, observer: StepCounter()))

        // The 27th step is the second run's 11th: epoch 2, batch 3.
        let cancellation = Cancellation()
        XCTAssertNil(try landscape(in: folder, observer: CancelAfter(steps: 27, cancellation), cancellation: cancellation))
        let checkpoint = try LandscapeWork(folder, settings: "tiny").checkpointFile(1)
        let cut = try Checkpoint.resume(checkpoint, train: train, test: test)
        XCTAssertEqual(cut.stepsTaken, 11)
        XCTAssertEqual(cut.iterateRecord?.steps, [0, 3, 6, 9], "the checkpoint holds the iterates saved so far")

        let counter = StepCounter()
        let resumed = try XCTUnwrap(try landscape(in: folder, observer: counter))
        XCTAssertEqual(counter.steps, 5 + 16, "the first run is read, the second continues, the third runs")
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path), "a finished run's checkpoint goes")
        XCTAssertEqual(resumed.runs.map(\.steps), Array(repeating: [0, 3, 6, 9, 12, 15, 16], count: 3))
        XCTAssertEqual(resumed.runs.map(\.iterates), straight.runs.map(\.iterates))
        let withoutSeconds = { (runs: [LandscapePath]) in runs.map { $0.epochs.map { var m = $0; m.seconds = 0; return m } } }
        XCTAssertEqual(withoutSeconds(resumed.runs), withoutSeconds(straight.runs))
        XCTAssertEqual(resumed.grid, straight.grid)
        XCTAssertEqual(resumed.paths, straight.paths)
    }

    private func temporaryFolder() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("landscape-\(UUID())").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testTheWorkFolderKeepsRunsAndRowsForItsSettingsOnly() throws {
        let folder = temporaryFolder()
        let work = try LandscapeWork(folder, settings: "a")
        let run = LandscapePath(spec: try OptimizerSpec.parse("adam(lr=0.01)"), steps: [0, 5], iterates: [[1, 2], [3, 4]],
                                divergedAt: (2, 7))
        XCTAssertNil(try work.run(0))
        try work.save(run, index: 0)
        let read = try XCTUnwrap(try LandscapeWork(folder, settings: "a").run(0))
        XCTAssertEqual(read.spec, run.spec)
        XCTAssertEqual(read.steps, run.steps)
        XCTAssertEqual(read.iterates, run.iterates)
        XCTAssertEqual(read.divergedAt?.batch, 7)
        let grid = LandscapeGrid(xs: [0, 1], ys: [0, 1], rows: [[5, 6]])
        try work.save(grid)
        XCTAssertEqual(try work.rows(for: LandscapeGrid(xs: [0, 1], ys: [0, 1])), [[5, 6]])
        XCTAssertEqual(try work.rows(for: LandscapeGrid(xs: [0, 2], ys: [0, 1])), [], "another lattice starts afresh")
        XCTAssertThrowsError(try LandscapeWork(folder, settings: "b")) { XCTAssert("\($0)".contains("other settings"), "\($0)") }
    }
}

/// Counts training steps as a progress bar sees them.
private final class StepCounter: ProgressObserver, @unchecked Sendable {  // used from the training thread only
    private(set) var steps = 0

    func advance(by count: Int) { steps += 1 }
    func finish() {}
}
