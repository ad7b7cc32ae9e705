import Data
import Foundation
import NN
import Optim
import Support

/// One optimizer's run for the landscape: its iterates (θ₀ first, the end last) and the steps
/// they were taken at.
public struct LandscapePath: Sendable {
    public var spec: OptimizerSpec
    public var steps: [Int]
    public var iterates: [[Float]]
    public var epochs: [EpochMetrics]
    /// The epoch and batch where the loss became non-finite; the iterates stop before it.
    public var divergedAt: (epoch: Int, batch: Int)?

    public init(spec: OptimizerSpec, steps: [Int], iterates: [[Float]], epochs: [EpochMetrics] = [], divergedAt: (epoch: Int, batch: Int)? = nil) {
        self.spec = spec
        self.steps = steps
        self.iterates = iterates
        self.epochs = epochs
        self.divergedAt = divergedAt
    }

    public var label: String { spec.label }
    public var end: [Float] { iterates[iterates.count - 1] }

    /// Trains `plan` (its optimizer is `spec`) from its seed's initial weights, saving the weights
    /// at the start, every `every` steps and at the end. With `checkpoint`, the run, its iterates
    /// included, is saved there after every epoch and when cancelled, and continues from there when
    /// the file exists, to the same iterates as an uninterrupted run. nil when cancelled. A diverged
    /// run keeps the iterates before the failing step.
    public static func train(_ spec: OptimizerSpec, plan: TrainingPlan, train: Dataset, test: Dataset, every: Int,
                             checkpoint: URL? = nil, progress: Trainer.EpochProgress? = nil, cancellation: Cancellation? = nil,
                             report: (EpochMetrics) -> Void = { _ in }) throws -> LandscapePath? {
        var plan = plan
        plan.optimizer = spec.description
        let trainer = if let checkpoint, FileManager.default.fileExists(atPath: checkpoint.path) {
            try Checkpoint.resume(checkpoint, train: train, test: test)
        } else {
            try Trainer(plan, train: train, test: test)
        }
        try trainer.recordIterates(every: every)
        var divergedAt: (epoch: Int, batch: Int)?
        do {
            let outcome = try trainer.run(checkpoint: checkpoint, progress: progress, cancellation: cancellation, report: report)
            if case .interrupted = outcome { return nil }
        } catch TrainingError.diverged(let epoch, let batch, _) {
            divergedAt = (epoch, batch)
        }
        var record = trainer.iterateRecord!
        // The end, when the run ran to it and it is no multiple of `every`.
        if divergedAt == nil && record.steps.last != trainer.stepsTaken { record.append(trainer.stepsTaken, trainer.network) }
        return LandscapePath(spec: spec, steps: record.steps, iterates: record.iterates, epochs: trainer.history, divergedAt: divergedAt)
    }

    /// The run a checkpoint ends: θ₀ (its plan's seed's initial weights) and its weights, nothing
    /// between. Returns the plan too, which every checkpoint of one landscape must share but for
    /// the optimizer.
    public static func fromCheckpoint(_ url: URL, train: Dataset) throws -> (path: LandscapePath, plan: TrainingPlan) {
        let (network, plan, _) = try Checkpoint.network(url)
        guard let plan else { throw TrainingError.plan("\(url.path) has no optlab metadata: its start θ₀ is unknown") }
        let start = try CIFARModels.make(plan.model, seed: plan.seed)
        let path = LandscapePath(spec: try OptimizerSpec.parse(plan.optimizer), steps: [0, Landscape.steps(of: plan, train: train)],
                                 iterates: [ParameterSpace.values(of: start), ParameterSpace.values(of: network)])
        return (path, plan)
    }
}

/// The loss a landscape shows: the run's training criterion (label smoothing included) on a fixed
/// set of training images, without augmentation, normalised as training normalised them. Batch
/// norm runs in training mode, normalising each batch of 250 images by its own statistics as the
/// training steps did: the running statistics belong to one trained network and are undefined at
/// other points of the plane, and batch statistics make the loss a function of the weights alone.
public final class LossProbe {
    let network: Network
    /// The images normalised once: every point of the grid reads the same batches.
    let batches: [Batch]
    public let imageCount: Int
    let criterion: CrossEntropyLoss
    let inputs = InputTensors()

    public init(model: String, images: Dataset, normalization: InputNormalization, labelSmoothing: Float) throws {
        network = try CIFARModels.make(model, seed: 0)
        batches = Array(Trainer.testLoader(images, normalization).batches(epoch: 0))
        imageCount = images.count
        criterion = CrossEntropyLoss(labelSmoothing: labelSmoothing)
    }

    /// The probe for a plan's runs: its first `images` training images (after the validation
    /// split and the subset).
    public convenience init(plan: TrainingPlan, train: Dataset, test: Dataset, images: Int) throws {
        let trainer = try Trainer(plan, train: train, test: test)
        let available = trainer.trainLoader.dataset.count
        guard images <= available else {
            throw SettingError("loss_images", "must be at most the \(available) training images, got \(images)")
        }
        try self.init(model: plan.model, images: trainer.trainLoader.dataset.prefix(images),
                      normalization: trainer.normalization, labelSmoothing: plan.labelSmoothing)
    }

    /// Multiply-adds of one evaluation.
    public var multiplyAdds: Double { Double(network.multiplyAddsPerImage()) * Double(imageCount) }

    /// The mean loss with the network's parameters set to `point`.
    public func loss(at point: [Float]) throws -> Double {
        ParameterSpace.load(point, into: network)
        var sum = 0.0
        for batch in batches {
            let logits = try network.forward(inputs.tensor(batch.images), training: true)
            sum += Double(try criterion(logits, batch.labels)) * Double(batch.labels.count)
        }
        return sum / Double(imageCount)
    }
}

/// The loss over an N × N lattice of the plane, row by row (y outer, x inner).
public struct LandscapeGrid: Sendable {
    public let xs: [Double], ys: [Double]
    /// Rows evaluated so far, each `xs.count` losses.
    public var rows: [[Double]]

    public init(xs: [Double], ys: [Double], rows: [[Double]] = []) {
        self.xs = xs
        self.ys = ys
        self.rows = rows
    }

    /// A square window (equal scale on both axes) around `points` widened by `Landscape.margin`
    /// on each side, sampled at `size` points per side.
    public init(around points: [(x: Double, y: Double)], size: Int) {
        let xs = points.map(\.x), ys = points.map(\.y)
        let span = max(xs.max()! - xs.min()!, ys.max()! - ys.min()!, 1e-6) * (1 + 2 * Landscape.margin)
        let center = ((xs.max()! + xs.min()!) / 2, (ys.max()! + ys.min()!) / 2)
        let axis = { (c: Double) in (0..<size).map { c - span / 2 + span * Double($0) / Double(size - 1) } }
        self.init(xs: axis(center.0), ys: axis(center.1))
    }

    public var isComplete: Bool { rows.count == ys.count }

    /// Evaluates the remaining rows, calling `rowDone` after each (to save it) and `progress` per
    /// point; returns false when cancelled between two points (the finished rows are kept).
    public mutating func evaluate(_ plane: LandscapePlane, probe: LossProbe, progress: (any ProgressObserver)? = nil,
                                  cancellation: Cancellation? = nil, rowDone: (LandscapeGrid) throws -> Void) throws -> Bool {
        defer { progress?.finish() }
        while !isComplete {
            var row: [Double] = []
            for x in xs {
                if cancellation?.isRequested == true { return false }
                row.append(try probe.loss(at: plane.point(x: x, y: ys[rows.count])))
                progress?.advance(by: 1)
            }
            rows.append(row)
            try rowDone(self)
        }
        return true
    }

    /// `x,y,loss`, y outer.
    public var csv: CSVTable {
        var table = CSVTable(header: ["x", "y", "loss"])
        for (y, row) in zip(ys, rows) { for (x, loss) in zip(xs, row) { table.append([x, y, loss]) } }
        return table
    }
}

extension Landscape {
    /// `optimizer,step,x,y`: every saved iterate of every run projected onto the plane.
    public static func pathsCSV(_ paths: [LandscapePath], plane: LandscapePlane) -> CSVTable {
        var table = CSVTable(header: ["optimizer", "step", "x", "y"])
        for path in paths {
            for (step, point) in zip(path.steps, path.iterates) {
                let (x, y) = plane.project(point)
                table.append([path.label, step, x, y])
            }
        }
        return table
    }

    /// The plane for the runs: toward the two ends, or the iterates' principal components.
    public static func plane(for paths: [LandscapePath], model: String) throws -> LandscapePlane {
        guard paths.count >= 2 else { throw SettingError("compare", "needs at least two optimizers to span a plane, got \(paths.count)") }
        let shapes = try CIFARModels.make(model, seed: 0).parameters.map(\.shape)
        let space = ParameterSpace(origin: paths[0].iterates[0], shapes: shapes)
        if paths.count == 2 {
            return try LandscapePlane.towardEnds(space, (paths[0].label, paths[0].end), (paths[1].label, paths[1].end))
        }
        return try LandscapePlane.principalComponents(space, iterates: paths.flatMap { $0.iterates.dropFirst() })
    }
}

/// A landscape's unfinished work, so an interrupted landscape continues where it stopped: each
/// finished run's iterates (`run-1.safetensors`, …), the checkpoint of the run in progress
/// (`run-2.checkpoint.safetensors`: the training core's, with the iterates so far) and the grid
/// rows evaluated so far (`grid.safetensors`), under a folder that records the settings they
/// belong to (`settings.json`). Removed once the figure and CSVs are written.
public struct LandscapeWork {
    public let path: String
    static let format = "optlab-landscape-1"

    /// Opens (or creates) the folder for `settings`; a folder holding other settings is refused.
    public init(_ path: String, settings: String) throws {
        self.path = path
        let file = path + "/settings.json"
        if let saved = try? String(contentsOfFile: file, encoding: .utf8) {
            guard saved == settings else {
                throw TrainingError.plan("\(path) holds an unfinished landscape with other settings: remove it, or repeat that command to finish it")
            }
        } else {
            try OutputFolder.create(path)
            try AtomicFile.write(settings, to: file)
        }
    }

    private func runFile(_ index: Int) -> URL { URL(fileURLWithPath: path + "/run-\(index + 1).safetensors") }
    func checkpointFile(_ index: Int) -> URL { URL(fileURLWithPath: path + "/run-\(index + 1).checkpoint.safetensors") }
    private var gridFile: URL { URL(fileURLWithPath: path + "/grid.safetensors") }

    public func save(_ run: LandscapePath, index: Int) throws {
        var file = SafeTensors()
        file.set("iterates", rows: run.iterates)
        file.set("steps", int64s: run.steps.map(Int64.init), shape: [run.steps.count])
        let encoder = JSONEncoder()
        file.metadata = ["format": Self.format, "spec": run.spec.description,
                         "metrics": String(decoding: try encoder.encode(run.epochs), as: UTF8.self),
                         "diverged": run.divergedAt.map { "\($0.epoch),\($0.batch)" } ?? ""]
        try file.write(to: runFile(index))
    }

    /// The saved run `index`, nil when it has not finished.
    public func run(_ index: Int) throws -> LandscapePath? {
        guard FileManager.default.fileExists(atPath: runFile(index).path) else { return nil }
        let file = try SafeTensors(contentsOf: runFile(index))
        let diverged = (file.metadata["diverged"] ?? "").split(separator: ",").compactMap { Int($0) }
        return LandscapePath(spec: try OptimizerSpec.parse(file.metadata["spec"] ?? ""), steps: try file.int64s("steps").map(Int.init),
                             iterates: try file.rows("iterates"),
                             epochs: try JSONDecoder().decode([EpochMetrics].self, from: Foundation.Data((file.metadata["metrics"] ?? "[]").utf8)),
                             divergedAt: diverged.count == 2 ? (diverged[0], diverged[1]) : nil)
    }

    /// What `runs` says about each run as it goes.
    public enum RunEvent {
        /// Finished in an earlier session: read, not trained.
        case readEarlier
        /// Cut short in an earlier session: continues from its checkpoint.
        case continued
        case epoch(EpochMetrics)
        case diverged(epoch: Int, batch: Int)
    }

    /// Each spec's run from the plan's start θ₀ with `snapshots` iterates evenly spaced in steps, in
    /// order: read when it finished earlier, else trained (from its checkpoint when an earlier
    /// session was cut short in it) and saved. nil when cancelled: the run in progress has saved its
    /// checkpoint, and the same call continues it.
    public func runs(_ specs: [OptimizerSpec], plan: TrainingPlan, snapshots: Int, train: Dataset, test: Dataset,
                     progress: ((OptimizerSpec) -> Trainer.EpochProgress)? = nil, cancellation: Cancellation? = nil,
                     report: (OptimizerSpec, RunEvent) -> Void = { _, _ in }) throws -> [LandscapePath]? {
        let every = max(1, Landscape.steps(of: plan, train: train) / snapshots)
        var paths: [LandscapePath] = []
        for (index, spec) in specs.enumerated() {
            if let saved = try run(index) {
                report(spec, .readEarlier)
                paths.append(saved)
                continue
            }
            let checkpoint = checkpointFile(index)
            if FileManager.default.fileExists(atPath: checkpoint.path) { report(spec, .continued) }
            guard let path = try LandscapePath.train(spec, plan: plan, train: train, test: test, every: every, checkpoint: checkpoint,
                                                     progress: progress?(spec), cancellation: cancellation,
                                                     report: { report(spec, .epoch($0)) })
            else { return nil }
            if let d = path.divergedAt { report(spec, .diverged(epoch: d.epoch, batch: d.batch)) }
            try save(path, index: index)
            // None when the run diverged in its first epoch.
            if FileManager.default.fileExists(atPath: checkpoint.path) { try FileManager.default.removeItem(at: checkpoint) }
            paths.append(path)
        }
        return paths
    }

    public func save(_ grid: LandscapeGrid) throws {
        var file = SafeTensors()
        file.set("xs", doubles: grid.xs, shape: [grid.xs.count])
        file.set("ys", doubles: grid.ys, shape: [grid.ys.count])
        file.set("loss", doubles: grid.rows.flatMap { $0 }, shape: [grid.rows.count, grid.xs.count])
        try file.write(to: gridFile)
    }

    /// The rows saved for this lattice (none when there are none or the lattice differs).
    public func rows(for grid: LandscapeGrid) throws -> [[Double]] {
        guard FileManager.default.fileExists(atPath: gridFile.path) else { return [] }
        let file = try SafeTensors(contentsOf: gridFile)
        guard try file.doubles("xs") == grid.xs, try file.doubles("ys") == grid.ys else { return [] }
        let losses = try file.doubles("loss")
        let n = grid.xs.count
        return (0..<(losses.count / n)).map { Array(losses[($0 * n)..<(($0 + 1) * n)]) }
    }

    public func remove() throws { try FileManager.default.removeItem(atPath: path) }
}
