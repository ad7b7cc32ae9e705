import ArgumentParser
import CIFARFigures
import CIFARLab
import Data
import Figures
import Foundation
import Optim
import Support

/// The options only `optlab cifar --tune` reads.
struct TuneOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Tune each spec's learning rate (the fair protocol): a log-spaced grid of --trials rates, each \
        trained for the budget and validated; the best final validation accuracy wins (a diverged \
        trial fails); each winner is rerun with --seeds fresh seeds, reporting validation and test \
        accuracy. --validation defaults to 5000 here.
        """, valueName: "specs"))
    var tune: String?

    @Option(help: ArgumentHelp("""
        The rates to try, A...B (log-spaced, ends included). Default by the optimizer's family: \
        1e-4...1 for SGD-like (sgd, asgd, sgd_schedulefree, muon), 1e-5...0.1 for per-coordinate \
        ones (the Adam family, rmsprop, adagrad, …), 1e-6...0.01 for lion, 0.01...10 for adadelta, \
        prodigy and lbfgs.
        """, valueName: "A...B"))
    var lrRange: String?

    @Option(help: "Learning rates tried per optimizer.")
    var trials = 5

    func validate() throws {
        guard tune != nil || (lrRange == nil && trials == 5) else {
            throw ValidationError("--lr-range and --trials set up a tuning: add --tune SPECS")
        }
        guard (1...100).contains(trials) else { throw ValidationError("--trials must be in 1...100, got \(trials)") }
        _ = try range()
    }

    /// --lr-range as a range; nil for the families' defaults.
    func range() throws -> ClosedRange<Double>? {
        guard let lrRange else { return nil }
        let parts = lrRange.components(separatedBy: "...").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], a > 0, a <= b, b.isFinite else {
            throw ValidationError("--lr-range expects two positive rates A...B with A ≤ B, such as 1e-4...1, got '\(lrRange)'")
        }
        return a...b
    }
}

extension CIFARCommand {
    /// Held-out images a tuning chooses by when --validation is not given.
    static let tuningValidation = 5000

    /// The tuning's plan from the command line.
    func tuningPlan(_ specs: String) throws -> TuningPlan {
        var base = try options.plan(optimizer: nil, comparing: true)
        if base.validation == nil { base.validation = try ValidationSplit(count: Self.tuningValidation) }
        let parsed = try OptimizerSpec.parseList(specs, defaultBase: CIFARModels.defaultBase(model: base.model))
        var plan: TuningPlan?
        try checkingOptions(named: ["lr_range": "--lr-range"]) {
            plan = try TuningPlan(specs: parsed, range: try tuneOptions.range(), trials: tuneOptions.trials, seeds: seeds, base: base)
        }
        return plan!
    }

    var figurePath: String { out ?? "plots/cifar-tune.png" }

    /// The CSV of every trial and rerun (beside the figure by default) and the summary CSV.
    var tuningCSVPaths: (csv: String, summary: String) {
        let csvPath = csv ?? (figurePath as NSString).deletingPathExtension + ".csv"
        return (csvPath, (csvPath as NSString).deletingPathExtension + "-summary.csv")
    }

    /// `optlab cifar --tune SPECS`: here, or as cluster jobs with --jobs.
    func tune(_ specs: String) throws {
        let plan = try tuningPlan(specs)
        let dataFolder = URL(fileURLWithPath: try DataLocation.find(option: options.data).folder.path).standardizedFileURL.path
        if let dir = jobOptions.jobs { return try writeTuningJobs(plan, to: dir, data: dataFolder) }
        let folder = TuningFolder(stateFolder(figure: figurePath))
        try OutputFolder.createParent(of: figurePath)
        try FigureOutput.check(figurePath)
        try OutputFolder.createParent(of: tuningCSVPaths.csv)
        let locks = try PathLock.outputs([figurePath, tuningCSVPaths.csv, tuningCSVPaths.summary])
        defer { withExtendedLifetime(locks) {} }
        options.kernels.apply()
        let train = try CIFAR10.load(.train, from: URL(fileURLWithPath: dataFolder))
        let trials = plan.candidates.map(\.rates.count).reduce(0, +)
        print("Tuning \(plan.candidates.map(\.label).joined(separator: ", ")) on \(plan.base.model): \(trials) trials "
              + "(\(plan.candidates.map { "\($0.label) \(Self.rates($0.rates))" }.joined(separator: "; "))), "
              + "then \(plan.seeds.count) seed\(plan.seeds.count == 1 ? "" : "s") per winner; \(plan.base.epochs) epochs, "
              + "\(plan.base.trainSubset.map { $0.grouped } ?? "all") training images, validation \(plan.base.validation!.count); state in \(folder.path)")
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }
        let outcome = try Tuning.run(plan, in: folder, optlab: JobOptions.thisExecutable, data: dataFolder, threads: options.kernels.threads,
                                     train: train, test: { try CIFAR10.load(.test, from: URL(fileURLWithPath: dataFolder)) },
                                     progress: { step in
            { epoch, epochs, images in
                ProgressBar("\(step.phase) \(step.index)/\(step.count) \(step.job.label) lr \(Self.rate(step.job)) seed \(step.job.plan.seed) epoch \(epoch)/\(epochs)", total: images)
            }
        }, cancellation: cancellation) { step, outcome in
            if case .finished(let result) = outcome { printNow(Self.line(step, result)) }
        }
        switch outcome {
        case .finished(let results):
            try writeTuning(results)
        case .interrupted(let phase, let index, let epoch, let batch):
            print("Interrupted in \(phase) \(index), epoch \(epoch) before batch \(batch + 1): saved in \(folder.path); run the same command to resume")
            throw ExitCode(130)
        }
    }

    static func rates(_ rates: [Double]) -> String {
        rates.count <= 2 ? "lr " + rates.map { String(format: "%g", $0) }.joined(separator: ", ")
            : String(format: "lr %g…%g", rates.first!, rates.last!)
    }

    static func rate(_ job: JobFile) -> String {
        (try? OptimizerSpec.parse(job.plan.optimizer)).map { String(format: "%g", $0.learningRate) } ?? "?"
    }

    /// A finished trial or rerun in one line.
    static func line(_ step: Tuning.Step, _ result: JobResult) -> String {
        let name = "\(step.phase) \(step.index)/\(step.count) \(step.job.label) lr \(rate(step.job)) seed \(step.job.plan.seed): "
        if let d = result.diverged { return name + "diverged in epoch \(d.epoch), batch \(d.batch) (failed)" }
        guard let m = result.epochs.last else { return name + "no epoch" }
        return name + String(format: "val acc %.2f %%", 100 * (m.validationAccuracy ?? .nan))
            + (m.testAccuracy.map { String(format: "  test acc %.2f %%", 100 * $0) } ?? "") + String(format: "  %.0f s", m.seconds)
    }

    /// The figure, the CSV of every trial and rerun, the summary CSV, and the summary printed.
    func writeTuning(_ results: Tuning.Results) throws {
        let (csvPath, summaryPath) = tuningCSVPaths
        let target = self.target ?? Tuning.defaultTarget(results)
        try OutputFolder.createParent(of: figurePath)
        try OutputFolder.createParent(of: csvPath)
        try AtomicFile.write(Tuning.csv(results).text, to: csvPath)
        try AtomicFile.write(Tuning.summaryCSV(results, target: target).text, to: summaryPath)
        try TuningFigure.make(results, target: target).save(to: figurePath)
        print(Tuning.summary(results, target: target))
        if self.target == nil, let target {
            print(String(format: "Target: %.4g %% validation accuracy, the lowest final one of the reruns (set it with --target)", 100 * target))
        }
        print("Wrote \(figurePath), \(csvPath) and \(summaryPath)")
    }

    /// --jobs for a tuning: the plan and the trials' jobs; the reruns' jobs come from --collect.
    func writeTuningJobs(_ plan: TuningPlan, to dir: String, data: String) throws {
        let folder = TuningFolder(dir)
        let executable = URL(fileURLWithPath: jobOptions.optlab ?? JobOptions.thisExecutable).standardizedFileURL.path
        switch try folder.write(plan, optlab: executable, data: data, threads: options.kernels.threads) {
        case .written(let runs):
            print("""
                Wrote the tuning to \(folder.path): \(runs) trials (optlab \(executable), data \(data)). Run them with one of:
                  sbatch \(folder.trials.sbatchPath)
                  xargs -P 2 -I{} sh -c {} < \(folder.trials.commandsPath)
                then: optlab cifar --collect \(folder.path)    # chooses the rates and writes the reruns' jobs
                then the reruns the same way (\(folder.finals.sbatchPath)), and --collect again for the figure
                """)
        case .unchanged(let done, let runs):
            print("\(folder.path) holds this tuning already: \(done) of \(runs) trials done; nothing written")
        }
    }

    /// --collect of a tuning folder: the rerun jobs once the trials have ended, the outputs once
    /// the reruns have; status 2 while something is missing.
    func collectTuning(_ dir: String) throws {
        let folder = TuningFolder(dir)
        var results = try Tuning.Results(folder)
        if !results.missingTrials.isEmpty {
            report(missing: results.missingTrials, of: results.plan.candidates.map(\.rates.count).reduce(0, +), in: folder.trials)
            throw ExitCode(2)
        }
        if results.finals == nil {
            _ = try folder.writeFinals(results.plan, winners: results.winners)
            results = try Tuning.Results(folder)
            let reruns = results.finals?.missing.count ?? 0
            print(Tuning.summary(results, target: nil))
            print("""
                Every trial has ended: wrote \(reruns) reruns of the chosen rates to \(folder.finals.path). Run them with one of:
                  sbatch \(folder.finals.sbatchPath)
                  xargs -P 2 -I{} sh -c {} < \(folder.finals.commandsPath)
                then: optlab cifar --collect \(folder.path)
                """)
            throw ExitCode(2)
        }
        if let finals = results.finals, !finals.missing.isEmpty {
            report(missing: finals.missing, of: finals.grid.runs.count, in: folder.finals)
            throw ExitCode(2)
        }
        try writeTuning(results)
    }

    private func report(missing: [JobCollection.Missing], of count: Int, in jobs: JobFolder) {
        print("\(missing.count) of \(count) runs in \(jobs.path) have no result:")
        for m in missing { print("  job \(m.index) (\(m.label), seed \(m.seed)): \(m.reason)") }
        print("Run them again: sbatch --array=\(missing.map { "\($0.index)" }.joined(separator: ",")) \(jobs.sbatchPath)")
    }
}
