import ArgumentParser
import Data
import Foundation
import CIFARFigures
import CIFARLab
import Optim
import Support

struct CIFARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cifar",
        abstract: "Compare optimizers on CIFAR-10: accuracy and loss curves from identical starts.",
        discussion: """
            Trains one run per optimizer spec (and seed) from identical initial weights and identical \
            data order, then writes the figure (test accuracy and training loss against epoch and \
            against wall-clock seconds, mean and min–max band over seeds) and a CSV beside it, and \
            prints a summary. Bare names such as sgd and adam get the model's learning rate for them. \
            A diverged run is drawn as a cross and does not stop the others. A local run (as \
            --models) keeps its runs in --state (default checkpoints/<figure name>): Ctrl-C stops \
            it with each run checkpointed, and the same command continues where it stopped.

            Examples:
              optlab cifar --compare sgd,adam
              optlab cifar --compare "sgd(lr=0.1,momentum=0.9),adam(lr=0.003),rmsprop"
              optlab cifar --compare sgd,adam --seeds 3 --train-subset 5000
              optlab cifar --compare sgd,adam --validation 5000      # val_loss, val_acc in the CSV
              optlab cifar --compare sgd,adam --validation 5000 --target 0.7 --seeds 3
              optlab cifar --compare muon,lion,adamw_schedulefree,sam      # sam: over the model's SGD
              optlab cifar --model tutorial --epochs 3 --out plots/tutorial.png
              optlab cifar --compare sgd,adam --precision bf16
              optlab cifar --compare sgd,adam --state checkpoints/cmp   # Ctrl-C, then again
              optlab cifar --compare sgd,adam --seeds 5 --jobs jobs/cmp
              optlab cifar --collect jobs/cmp       # after: sbatch jobs/cmp/slurm.sbatch
              optlab cifar --tune sgd,adam,lion --epochs 3 --seeds 2 --train-subset 10000
              optlab cifar --tune adam --lr-range 1e-4...1e-2 --trials 3 --target 0.5
              optlab cifar --tune sgd,adam --jobs jobs/tune    # then --collect, twice
              optlab cifar --models labnet,resnet18                  # models, each with its recipe
              optlab cifar --models tutorial,vgg-small --optimizer adam --epochs 3
            """
    )

    @Option(help: "Comma-separated optimizer specs.")
    var compare = "sgd,adam"

    @Option(help: "Repeat each optimizer with this many seeds (seed, seed+1, …); with --tune, rerun each winner with seed+1, ….")
    var seeds = 1

    @Option(help: ArgumentHelp("""
        Time to target: the first epoch and second at which each run's validation accuracy reaches \
        ACC (a fraction, 0.8 = 80 %; needs --validation), the median over seeds per optimizer.
        """, valueName: "acc"))
    var target: Double?

    @Option(help: ArgumentHelp("""
        The local run's folder (--compare, --models, --tune): every run's job file, checkpoint and \
        result (default checkpoints/<figure name>: checkpoints/cifar-compare, checkpoints/cifar-tune). \
        Ctrl-C stops between two steps, each run checkpointed; the same command again skips the \
        finished runs and continues the cut one from its checkpoint. Kept afterwards (--collect \
        reads it); a different grid is refused: choose another folder, or remove it.
        """, valueName: "dir"))
    var state: String?

    @OptionGroup var options: TrainingOptions

    @OptionGroup var jobOptions: JobOptions

    @OptionGroup var tuneOptions: TuneOptions

    @OptionGroup var modelOptions: ModelComparisonOptions

    @Option(help: ArgumentHelp("The figure (.png, .svg or .pdf; default plots/cifar-compare.png, with --tune plots/cifar-tune.png).",
                               valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("The metrics CSV (default: beside the figure).", valueName: "file"))
    var csv: String?

    func validate() throws {
        if seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if tuneOptions.tune != nil && modelOptions.models != nil {
            throw ValidationError("--tune compares optimizers and --models compares networks: give one of them")
        }
        if state != nil && (jobOptions.jobs != nil || jobOptions.collect != nil) {
            throw ValidationError("--state is a local run's folder; --jobs and --collect name their own")
        }
        if jobOptions.jobs != nil && (options.kernels.precision != .fp32 || options.kernels.convolutions != .auto) {
            throw ValidationError("--jobs writes job files without --precision or --convolutions (each job runs fp32 with its machine's auto choice): leave them out, or run here")
        }
        if let target {
            guard target > 0, target <= 1 else { throw ValidationError("--target must be a fraction in (0, 1] (0.8 for 80 %), got \(target)") }
            guard options.validation != nil || jobOptions.collect != nil || tuneOptions.tune != nil else {
                throw ValidationError("--target reads validation accuracy, never the test set's: add --validation N (e.g. 5000)")
            }
        }
    }

    func run() throws {
        if let dir = jobOptions.collect { return try TuningFolder.holdsTuning(dir) ? collectTuning(dir) : collect(dir) }
        if let specs = tuneOptions.tune { return try tune(specs) }
        if let models = modelOptions.modelNames { return try compareModels(models) }
        let base = try options.plan(optimizer: nil, comparing: true)
        let specs = try OptimizerSpec.parseList(compare, defaultBase: CIFARModels.defaultBase(model: base.model))
            .map { CIFARModels.withDefaultLearningRate($0, model: base.model) }
        let firstSeed = base.seed
        let seedList = (0..<UInt64(seeds)).map { firstSeed + $0 }
        if let dir = jobOptions.jobs {
            return try jobOptions.write(JobGrid.comparison(specs, seeds: seedList, plan: base), to: dir, data: options.data,
                                        threads: options.kernels.threads, collecting: target.map { " --target \($0)" } ?? "")
        }
        let outputs = try lockedOutputs()
        options.kernels.apply()
        let runs = try runHere(JobGrid.comparison(specs, seeds: seedList, plan: base),
                               announcing: "Comparing \(specs.map(\.label).joined(separator: ", ")) on \(base.model), \(base.epochs) epochs, "
                                   + "batch \(base.batchSize), \(base.trainSubset.map { $0.grouped } ?? "all") training images, "
                                   + "seeds \(firstSeed)…\(firstSeed + UInt64(seeds) - 1)")
        try write(runs, model: base.model, validation: base.validation, to: outputs)
    }

    /// The figure, the metrics CSV and the summary CSV (and any `also`), their folders made and
    /// all locked (for as long as `locks` lives) before any work.
    struct Outputs {
        let figure: String, csv: String, summary: String
        let locks: [PathLock]
    }

    func lockedOutputs(also: [String] = []) throws -> Outputs {
        let out = comparisonFigurePath
        let csvPath = csv ?? (out as NSString).deletingPathExtension + ".csv"
        let summaryPath = (csvPath as NSString).deletingPathExtension + "-summary.csv"
        try OutputFolder.createParent(of: out)
        try OutputFolder.createParent(of: csvPath)
        for path in also { try OutputFolder.createParent(of: path) }
        return Outputs(figure: out, csv: csvPath, summary: summaryPath, locks: try PathLock.outputs([out, csvPath, summaryPath] + also))
    }

    /// The folder a local run keeps its state in: --state, or `checkpoints/<figure name>`.
    func stateFolder(figure: String) -> String {
        state ?? "checkpoints/" + ((figure as NSString).lastPathComponent as NSString).deletingPathExtension
    }

    /// Trains a comparison's grid here (`Comparison.run`), its state in `stateFolder`: every epoch
    /// and divergence printed, a progress bar per epoch; on Ctrl-C, where it stopped and exit 130.
    /// `announcing` is printed once the data is found.
    func runHere(_ grid: JobGrid, announcing: String) throws -> [Comparison.Run] {
        let data = URL(fileURLWithPath: try DataLocation.find(option: options.data).folder.path).standardizedFileURL.path
        let folder = JobFolder(stateFolder(figure: comparisonFigurePath))
        let train = try CIFAR10.load(.train, from: URL(fileURLWithPath: data))
        print(announcing + "; state in \(folder.path)")
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }
        func name(_ step: JobFolder.Step) -> String { "\(step.job.label) seed \(step.job.plan.seed)" }
        let outcome = try Comparison.run(grid, in: folder, optlab: JobOptions.thisExecutable, data: data, threads: options.kernels.threads,
                                         train: train, test: { try CIFAR10.load(.test, from: URL(fileURLWithPath: data)) },
                                         progress: { step in { epoch, epochs, images in
                                             ProgressBar("\(name(step)) epoch \(epoch)/\(epochs)", total: images) } },
                                         cancellation: cancellation,
                                         epochReport: { step, m in printNow("\(name(step)): " + TrainCommand.line(m, of: step.job.plan.epochs)) }) { step, outcome in
            switch outcome {
            case .alreadyDone: printNow("\(name(step)): finished earlier, kept from \(folder.path)")
            case .finished(let result): if let d = result.diverged { printNow("\(name(step)): diverged in epoch \(d.epoch), batch \(d.batch)") }
            case .interrupted: break
            }
        }
        switch outcome {
        case .finished(let runs): return runs
        case .interrupted(let stop):
            print("Interrupted in run \(stop.index)/\(grid.runs.count), epoch \(stop.epoch) before batch \(stop.batch + 1): saved in \(folder.path); run the same command to resume")
            throw ExitCode(130)
        }
    }

    /// The figure, the metrics CSV and the summary CSV, and the summary printed.
    func write(_ runs: [Comparison.Run], model: String, validation: ValidationSplit?, title: String? = nil, to outputs: Outputs) throws {
        try AtomicFile.write(Comparison.csv(runs, validation: validation).text, to: outputs.csv)
        try AtomicFile.write(Comparison.summaryCSV(runs, target: target).text, to: outputs.summary)
        try ComparisonFigure.make(runs, model: model, target: target, title: title).save(to: outputs.figure)
        print(Comparison.summary(runs, target: target))
        print("Wrote \(outputs.figure), \(outputs.csv) and \(outputs.summary)")
    }

    /// The outputs of a job folder's finished runs; status 2 when some are missing.
    private func collect(_ dir: String) throws {
        let collection = try jobOptions.collected(dir)
        guard !collection.runs.isEmpty else { throw Failure("no run in \(dir) has finished yet: nothing to collect") }
        let plan = collection.grid.runs[0].plan
        if ModelComparison.comparesModels(collection.grid) {
            return try writeModels(collection.runs, validation: plan.validation, missing: !collection.missing.isEmpty,
                                   to: try lockedOutputs(also: [modelCostPath]))
        }
        if target != nil && plan.validation == nil {
            throw Failure("--target reads validation accuracy, and the grid in \(dir) has no --validation split")
        }
        try write(collection.runs, model: plan.model, validation: plan.validation, to: try lockedOutputs())
        if !collection.missing.isEmpty { throw ExitCode(2) }
    }
}
