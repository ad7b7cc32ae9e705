import ArgumentParser
import CIFARFigures
import CIFARLab
import Data
import Figures
import Foundation
import Optim
import Support

struct LandscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landscape",
        abstract: "The loss landscape of a CIFAR-10 network with every optimizer's path on it.",
        discussion: """
            Trains each --compare spec from one start θ₀ (the --seed's initial weights, the same \
            data order), saving --snapshots iterates per run (or reads finished runs' checkpoints: \
            --from, their start recomputed from their seed), then draws the training loss over a \
            plane through θ₀ with every run's path projected onto it. Two runs: the plane through \
            θ₀ and both ends (x toward the first run's end; y toward the second's, orthogonalised). More: the first two principal components of all saved iterates, centred \
            at θ₀ (not at their mean: the plane must hold the common start). Distances are \
            filter-normalised (Li et al. 2018) as the plane's inner product: each filter's change \
            counts relative to its norm at θ₀, so the ends stay in the plane; both axes are unit \
            vectors of it, so the picture is to scale. The loss is the \
            runs' training criterion on the first --loss-images training images, unaugmented, with \
            batch norm normalising each batch of 250 by its own statistics (as the training steps \
            did; running statistics exist for one trained network only). Writes the figure, the \
            grid (x,y,loss) and the projected paths (optimizer,step,x,y) as CSVs. Ctrl-C keeps the \
            finished runs, the interrupted run's checkpoint (its iterates so far included) and the \
            grid rows in <out>.partial/; the same command continues from them to the same outputs.

            Examples:
              optlab landscape --model tutorial --compare "momentum,adam,lion" --epochs 2 --train-subset 10000 --grid 21 --loss-images 1000 --snapshots 30
              optlab landscape --compare sgd,adam --epochs 2 --train-subset 10000 --grid 17 --loss-images 1000   # labnet
              optlab landscape --from checkpoints/sgd.safetensors checkpoints/adam.safetensors
            """
    )

    @Option(help: "Comma-separated optimizer specs, each trained from the same start θ₀ (default momentum,adam).")
    var compare: String?

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Finished runs' checkpoints instead of training (same model and seed).", valueName: "ckpt"))
    var from: [String] = []

    @Option(help: ArgumentHelp("Lattice points per side of the plane (the loss is evaluated grid × grid times).", valueName: "n"))
    var grid = Landscape.defaultGrid

    @Option(help: ArgumentHelp("Training images the loss is evaluated on (the first ones of the runs' training images).", valueName: "n"))
    var lossImages = Landscape.defaultLossImages

    @Option(help: ArgumentHelp("Iterates saved per run, evenly spaced in steps (plus θ₀ and the end).", valueName: "n"))
    var snapshots = Landscape.defaultSnapshots

    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("The figure (.png, .svg or .pdf; default plots/landscape.png).", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("The grid CSV (default: beside the figure); the paths go to <csv>-paths.csv.", valueName: "file"))
    var csv: String?

    func validate() throws {
        guard (3...201).contains(grid) else { throw ValidationError("--grid must be in 3...201, got \(grid)") }
        guard lossImages >= 1 else { throw ValidationError("--loss-images must be at least 1, got \(lossImages)") }
        guard snapshots >= 1 else { throw ValidationError("--snapshots must be at least 1, got \(snapshots)") }
        if !from.isEmpty {
            guard from.count >= 2 else { throw ValidationError("--from needs at least two checkpoints to span a plane") }
            if compare != nil { throw ValidationError("--compare trains runs and --from reads finished ones: give one of them") }
            let trainingOptions = [options.model.map { _ in "--model" }, options.epochs.map { _ in "--epochs" },
                                   options.seed.map { _ in "--seed" }, options.batchSize.map { _ in "--batch-size" },
                                   options.trainSubset.map { _ in "--train-subset" }, options.validation.map { _ in "--validation" }]
            if let given = trainingOptions.compactMap({ $0 }).first {
                throw ValidationError("\(given) does not apply with --from: the checkpoints' plans say how they were trained")
            }
        }
        if let out { try FigureOutput.check(out) }
    }

    /// What the unfinished work in the `.partial` folder belongs to.
    private struct Settings: Codable {
        var plan: TrainingPlan?
        var specs: [String]
        var from: [String]
        var snapshots: Int
        var lossImages: Int
        var precision: String
    }

    func run() throws {
        let out = try self.out ?? FigureOutput.defaultPath("landscape")
        let csvPath = csv ?? (out as NSString).deletingPathExtension + ".csv"
        let pathsCSV = (csvPath as NSString).deletingPathExtension + "-paths.csv"
        let workPath = (out as NSString).deletingPathExtension + ".partial"
        options.kernels.apply()
        let (train, test) = try options.datasets()
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }

        var plan: TrainingPlan
        var specs: [OptimizerSpec] = []
        var checkpointRuns: [LandscapePath] = []
        if from.isEmpty {
            plan = try options.plan(optimizer: nil, comparing: true)
            specs = try OptimizerSpec.parseList(compare ?? "momentum,adam", defaultBase: CIFARModels.defaultBase(model: plan.model))
                .map { CIFARModels.withDefaultLearningRate($0, model: plan.model) }
            guard specs.count >= 2 else { throw Failure("--compare needs at least two optimizers to span a plane, got \(specs.count)") }
        } else {
            let loaded = try from.map { try LandscapePath.fromCheckpoint(URL(fileURLWithPath: $0), train: train) }
            plan = loaded[0].plan
            for (file, run) in zip(from, loaded) where !Self.sameStart(run.plan, plan) {
                throw Failure("\(file) did not start where \(from[0]) did (model, seed, data and normalisation must agree)")
            }
            checkpointRuns = loaded.map(\.path)
        }
        try checkBudget(plan: plan, runs: max(specs.count, from.count), train: train)
        let probe: LossProbe
        do { probe = try LossProbe(plan: plan, train: train, test: test, images: lossImages) } catch let error as SettingError {
            throw Failure("--loss-images \(error.problem)")
        }

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let settings = Settings(plan: from.isEmpty ? plan : nil, specs: specs.map(\.description),
                                from: from.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                                snapshots: snapshots, lossImages: lossImages, precision: options.kernels.precision.rawValue)
        let work = try LandscapeWork(workPath, settings: String(decoding: try encoder.encode(settings), as: UTF8.self))

        let paths: [LandscapePath]
        if from.isEmpty {
            print("Landscape of \(plan.model): \(specs.map(\.label).joined(separator: ", ")) from one start (seed \(plan.seed)), "
                  + "\(plan.epochs) epochs, batch \(plan.batchSize)")
            let trained = try work.runs(specs, plan: plan, snapshots: snapshots, train: train, test: test,
                                        progress: { spec in { ProgressBar("\(spec.label) epoch \($0)/\($1)", total: $2) } },
                                        cancellation: cancellation) { spec, event in
                switch event {
                case .readEarlier: printNow("\(spec.label): finished earlier, read from \(workPath)")
                case .continued: printNow("\(spec.label): continuing from its checkpoint in \(workPath)")
                case .epoch(let metrics): printNow("\(spec.label): " + TrainCommand.line(metrics, of: plan.epochs))
                case .diverged(let epoch, let batch): printNow("\(spec.label): diverged in epoch \(epoch), batch \(batch); its path stops there")
                }
            }
            guard let trained else {
                print("Interrupted: the finished runs and the interrupted run's checkpoint are kept in \(workPath); the same command continues")
                throw ExitCode(130)
            }
            paths = trained
        } else {
            paths = checkpointRuns
            print("Landscape of \(plan.model) from \(from.count) checkpoints (seed \(plan.seed)): paths are straight from θ₀ to each end")
        }

        let plane = try Landscape.plane(for: paths, model: plan.model)
        var lattice = LandscapeGrid(around: paths.flatMap { $0.iterates.map(plane.project) }, size: grid)
        lattice.rows = try work.rows(for: lattice)
        if !lattice.rows.isEmpty { print("Continuing the grid at row \(lattice.rows.count + 1) of \(grid)") }
        let bar = ProgressBar("loss grid \(grid)×\(grid)", total: grid * (grid - lattice.rows.count), unit: .items("point"))
        guard try lattice.evaluate(plane, probe: probe, progress: bar, cancellation: cancellation, rowDone: work.save) else {
            print("Interrupted after \(lattice.rows.count) of \(grid) rows: kept in \(workPath); the same command continues")
            throw ExitCode(130)
        }

        let startLoss = try probe.loss(at: plane.space.origin)
        print("Axes: x = \(plane.axisLabels[0]); y = \(plane.axisLabels[1])")
        print(String(format: "θ₀: loss %.4f", startLoss))
        let endLosses = try paths.map { try probe.loss(at: $0.end) }
        for (path, endLoss) in zip(paths, endLosses) {
            let (x, y) = plane.project(path.end)
            print(String(format: "%@ end: (%.3f, %.3f), loss %.4f", path.label, x, y, endLoss)
                  + (path.divergedAt.map { " (diverged in epoch \($0.epoch), batch \($0.batch))" } ?? ""))
        }
        try OutputFolder.createParent(of: out)
        try OutputFolder.createParent(of: csvPath)
        try AtomicFile.write(lattice.csv.text, to: csvPath)
        try AtomicFile.write(Landscape.pathsCSV(paths, plane: plane).text, to: pathsCSV)
        let kind = paths.count == 2 ? "The plane through θ₀ and both ends" : "The plane of the iterates' first two principal components about θ₀"
        let subtitle = "\(kind) · \(plan.epochs) epoch\(plan.epochs == 1 ? "" : "s") × \(Landscape.trainingImages(plan, train: train).grouped) images, "
            + "batch \(plan.batchSize)   ■ θ₀ (common start)   ● end"
        try LandscapeFigure.make(lattice, plane: plane, paths: paths, startLoss: startLoss, endLosses: endLosses,
                                 title: "Loss landscape of \(plan.model) with each optimizer's path", subtitle: subtitle,
                                 lossLabel: "training loss on \(probe.imageCount.grouped) training images").save(to: out)
        try work.remove()
        print("Wrote \(out), \(csvPath) and \(pathsCSV)")
    }

    /// Refuses, before any work, a landscape too big for the machine: the iterates in memory
    /// (twice, for the principal components) and the multiply-adds of training and of the grid.
    private func checkBudget(plan: TrainingPlan, runs: Int, train: Dataset) throws {
        let network = try CIFARModels.make(plan.model, seed: 0)
        let perImage = Double(network.multiplyAddsPerImage())
        let iterates = Double(runs * (from.isEmpty ? snapshots + 2 : 2))
        let trainingImages = from.isEmpty ? Double(runs * plan.epochs * Landscape.trainingImages(plan, train: train)) : 0
        // A training step is a forward and a backward pass: about three forwards.
        let multiplyAdds = perImage * (Double(grid * grid * lossImages) + 3 * trainingImages)
        let request = "landscape: \(runs) runs and a \(grid)×\(grid) grid over \(lossImages.grouped) images"
        try Budget.check(request, bytes: 2 * iterates * Double(network.parameterCount) * 4, steps: 0,
                         advice: "lower --snapshots")
        try Budget.check(request, multiplyAdds: multiplyAdds, advice: "lower --grid or --loss-images (or --epochs, --train-subset)")
    }

    /// Whether two checkpoints' runs started from the same weights on the same data.
    private static func sameStart(_ a: TrainingPlan, _ b: TrainingPlan) -> Bool {
        a.model == b.model && a.seed == b.seed && a.trainSubset == b.trainSubset && a.validation == b.validation
            && a.normalization == b.normalization && a.labelSmoothing == b.labelSmoothing
    }
}
