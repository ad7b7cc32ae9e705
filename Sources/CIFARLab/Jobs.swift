import Data
import Foundation
import Optim
import Support

/// A grid of independent training runs (a comparison's specs × seeds; later tuning trials and
/// models): a plain list of run plans, each with the label the CSV and the figure give it.
public struct JobGrid: Codable, Equatable, Sendable {
    public struct Run: Codable, Equatable, Sendable {
        public var label: String
        public var plan: TrainingPlan
        /// A tuning's trial or final run; nil in a comparison.
        public var phase: TuningPhase?

        public init(label: String, plan: TrainingPlan, phase: TuningPhase? = nil) {
            self.label = label
            self.plan = plan
            self.phase = phase
        }
    }

    public var format = JobFolder.gridFormat
    public var runs: [Run]

    public init(runs: [Run]) { self.runs = runs }

    /// The runs of `optlab cifar --compare`, in its order.
    public static func comparison(_ specs: [OptimizerSpec], seeds: [UInt64], plan: TrainingPlan) -> JobGrid {
        JobGrid(runs: Comparison.grid(specs, seeds: seeds, plan: plan).map { Run(label: $0.spec.label, plan: $0.plan) })
    }
}

/// One run of a grid as a file that `optlab job FILE` runs on any machine seeing the same files:
/// it names the optlab executable and the data folder by absolute paths.
public struct JobFile: Codable, Equatable, Sendable {
    public var format = JobFolder.jobFormat
    /// 1-based position in the grid: the Slurm array task id that runs it.
    public var index: Int
    public var label: String
    public var plan: TrainingPlan
    public var optlab: String
    public var data: String
    /// Kernel threads; nil = every core the machine has.
    public var threads: Int?
    /// A tuning's trial never loads the test set; nil in a comparison.
    public var phase: TuningPhase?

    /// Whether the run reads the test set: everything but a tuning's trials.
    public var readsTestSet: Bool { phase != .trial }
}

/// A run's end: its per-epoch metrics, and where it diverged if it did (a result too: the
/// comparison draws it as a cross).
public struct JobResult: Codable, Equatable, Sendable {
    public struct Divergence: Codable, Equatable, Sendable {
        public var epoch: Int
        public var batch: Int
        public var seconds: Double
    }

    public var epochs: [EpochMetrics]
    public var diverged: Divergence?
}

/// What a job last said about itself while it had no result: written when it starts and when it
/// stops without one, so `--collect` can say why a run is missing.
public struct JobStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case running, interrupted, failed
    }

    public var state: State
    public var host: String
    public var pid: Int32
    /// Seconds since 1970 when the state was written.
    public var time: Double
    /// Why it stopped: the signal or the error.
    public var reason: String?
}

/// A folder of jobs: `grid.json` (the grid, what makes a folder "the same grid"), `runs/0001.json`…
/// (one job file per run) beside each run's checkpoint (`0001.safetensors`), status
/// (`0001.status.json`) and result (`0001.result.json`), `slurm.sbatch`, `commands.txt` and `logs/`.
/// Every file is written atomically, so any shared filesystem works and nothing needs a server.
public struct JobFolder: Sendable {
    static let gridFormat = "optlab-grid-1"
    static let jobFormat = "optlab-job-1"
    public let path: String

    /// `path` made absolute, as the scripts must name it.
    public init(_ path: String) {
        self.path = URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The file that makes a folder a job folder, written last.
    public static let gridFileName = "grid.json"
    var gridPath: String { path + "/" + Self.gridFileName }
    public var sbatchPath: String { path + "/slurm.sbatch" }
    public var commandsPath: String { path + "/commands.txt" }
    public func jobPath(_ index: Int) -> String { path + "/runs/" + String(format: "%04d", index) + ".json" }

    public enum WriteOutcome: Equatable {
        case written(runs: Int)
        /// The folder already holds this grid: nothing was written.
        case unchanged(done: Int, runs: Int)
    }

    /// Writes the grid as job files and the two ways to run them. A folder that holds this grid
    /// already is left as it is; one that holds anything else is refused.
    public func write(_ grid: JobGrid, optlab: String, data: String, threads: Int? = nil) throws -> WriteOutcome {
        guard !grid.runs.isEmpty else { throw TrainingError.plan("an empty grid has no jobs to write") }
        // Two processes writing one folder would interleave its job files.
        try OutputFolder.createParent(of: path)
        let lock = try PathLock(path)
        defer { withExtendedLifetime(lock) {} }
        if let saved = try existingGrid() {
            guard saved == grid else {
                throw TrainingError.plan("\(path) holds a different grid (\(saved.runs.count) runs: \(Self.describe(saved))): choose another folder, or remove it")
            }
            return .unchanged(done: (1...grid.runs.count).filter { JobRunner.isDone(jobPath($0)) }.count, runs: grid.runs.count)
        }
        if let contents = try? FileManager.default.contentsOfDirectory(atPath: path), !contents.isEmpty {
            throw TrainingError.plan("\(path) is not empty and holds no optlab grid: choose an empty or new folder")
        }
        try OutputFolder.create(path + "/runs")
        try OutputFolder.create(path + "/logs")
        var commands = ""
        for (offset, run) in grid.runs.enumerated() {
            let job = JobFile(index: offset + 1, label: run.label, plan: run.plan, optlab: optlab, data: data, threads: threads,
                              phase: run.phase)
            try AtomicFile.write(try Self.json(job), to: jobPath(job.index))
            commands += "\(Self.quoted(optlab)) job \(Self.quoted(jobPath(job.index)))\n"
        }
        try AtomicFile.write(commands, to: commandsPath)
        try AtomicFile.write(sbatch(runs: grid.runs.count, optlab: optlab, threads: threads ?? 1), to: sbatchPath)
        // Last: a folder with grid.json is complete.
        try AtomicFile.write(try Self.json(grid), to: gridPath)
        return .written(runs: grid.runs.count)
    }

    /// A Slurm array job, one task per run; `sbatch --array=3,7 slurm.sbatch` runs some again.
    func sbatch(runs: Int, optlab: String, threads: Int) -> String {
        """
        #!/bin/bash
        # optlab grid of \(runs) runs, one array task per run; each resumes from its checkpoint and
        # skips itself when finished. Submit: sbatch \(sbatchPath)
        # Again for some runs only: sbatch --array=3,7 \(sbatchPath)
        # Then: optlab cifar --collect \(path)
        #SBATCH --job-name=optlab
        #SBATCH --array=1-\(runs)
        #SBATCH --cpus-per-task=\(threads)
        #SBATCH --output=\(path)/logs/%A_%a.out
        #SBATCH --open-mode=append
        exec \(Self.quoted(optlab)) job "$(printf '\(path)/runs/%04d.json' "$SLURM_ARRAY_TASK_ID")" --threads "${SLURM_CPUS_PER_TASK:-\(threads)}"

        """
    }

    /// The grid this folder holds, nil when it holds none.
    func existingGrid() throws -> JobGrid? {
        guard FileManager.default.fileExists(atPath: gridPath) else { return nil }
        let grid: JobGrid = try Self.read(gridPath, what: "grid")
        guard grid.format == Self.gridFormat else { throw TrainingError.plan("\(gridPath): not an \(Self.gridFormat) file") }
        return grid
    }

    private static func describe(_ grid: JobGrid) -> String {
        let labels = grid.runs.map(\.label).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return "\(grid.runs.first!.plan.model), " + labels.joined(separator: ", ")
    }

    /// A path as one shell word.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func read<T: Decodable>(_ path: String, what: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError("cannot read \(what) '\(path)'") }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw TrainingError.plan("\(path): not a readable optlab \(what) file")
        }
    }
}

extension JobFolder {
    /// One job of a folder run here: its 1-based index, the folder's count of jobs, and the job.
    public struct Step: Sendable {
        public var index: Int
        public var count: Int
        public var job: JobFile
    }

    /// Where running a folder's jobs here stopped: cancelled in job `index`, whose checkpoint holds
    /// the position (`epoch`, and the batches done in it).
    public struct Interruption: Equatable, Sendable {
        public var index: Int
        public var epoch: Int
        public var batch: Int
    }

    /// Runs every job of the folder here, in order (`JobRunner.run`: a finished job is skipped, an
    /// interrupted one resumes from its checkpoint), so calling it again after a cancellation
    /// continues in the job it stopped in. `epochReport` gets every epoch trained, `report` each
    /// job's end. The interruption, or nil when every job has ended.
    public func runHere(train: Dataset, test: () throws -> Dataset, progress: ((Step) -> Trainer.EpochProgress)? = nil,
                        cancellation: Cancellation? = nil, epochReport: (Step, EpochMetrics) -> Void = { _, _ in },
                        report: (Step, JobRunner.Outcome) -> Void = { _, _ in }) throws -> Interruption? {
        guard let grid = try existingGrid() else { throw TrainingError.plan("\(path) holds no optlab grid (no grid.json)") }
        for index in 1...grid.runs.count {
            let step = Step(index: index, count: grid.runs.count, job: try JobRunner.load(jobPath(index)))
            let outcome = try JobRunner.run(jobPath(index), train: train, test: test, progress: progress?(step),
                                            cancellation: cancellation, interruption: { Interrupt.signalName ?? "a cancellation" },
                                            report: { epochReport(step, $0) })
            report(step, outcome)
            if case .interrupted(let epoch, let batch) = outcome { return Interruption(index: index, epoch: epoch, batch: batch) }
        }
        return nil
    }
}

/// Runs one job idempotently: a finished run is skipped, an interrupted one resumes from its
/// checkpoint, and the result is written atomically only when the run has ended.
public enum JobRunner {
    public enum Outcome: Equatable {
        case alreadyDone
        case finished(JobResult)
        case interrupted(epoch: Int, batch: Int)
    }

    public static func load(_ path: String) throws -> JobFile {
        let job: JobFile = try JobFolder.read(path, what: "job")
        guard job.format == JobFolder.jobFormat else { throw TrainingError.plan("\(path): not an \(JobFolder.jobFormat) file") }
        return job
    }

    static func stem(_ path: String) -> String { (path as NSString).deletingPathExtension }
    public static func checkpointPath(_ path: String) -> String { stem(path) + ".safetensors" }
    public static func resultPath(_ path: String) -> String { stem(path) + ".result.json" }
    static func statusPath(_ path: String) -> String { stem(path) + ".status.json" }
    public static func isDone(_ path: String) -> Bool { FileManager.default.fileExists(atPath: resultPath(path)) }

    /// Runs (or resumes, or skips) the job in `path`. `test` is asked for the test set only when
    /// the job reads it (`JobFile.readsTestSet`). `interruption` names what cancelled it (a
    /// signal) for the status file; `report` gets every epoch.
    public static func run(_ path: String, train: Dataset, test: () throws -> Dataset, progress: Trainer.EpochProgress? = nil,
                           cancellation: Cancellation? = nil, interruption: @escaping () -> String = { "cancelled" },
                           report: (EpochMetrics) -> Void = { _ in }) throws -> Outcome {
        if isDone(path) { return .alreadyDone }
        let job = try load(path)
        // One process at a time runs a job (a task submitted twice must not train it twice).
        let lock = try PathLock(path)
        defer { withExtendedLifetime(lock) {} }
        if isDone(path) { return .alreadyDone }  // finished by the process that held the lock
        let checkpoint = URL(fileURLWithPath: checkpointPath(path))
        try writeStatus(.running, path)
        do {
            let test = job.readsTestSet ? try test() : nil
            let trainer = FileManager.default.fileExists(atPath: checkpoint.path)
                ? try Checkpoint.resume(checkpoint, train: train, test: test)
                : try Trainer(job.plan, train: train, test: test)
            var result: JobResult
            do {
                switch try trainer.run(checkpoint: checkpoint, progress: progress, cancellation: cancellation, report: report) {
                case .finished:
                    result = JobResult(epochs: trainer.history)
                case .interrupted(let epoch, let batch):
                    try writeStatus(.interrupted, path, reason: "\(interruption()) in epoch \(epoch) before batch \(batch + 1)")
                    return .interrupted(epoch: epoch, batch: batch)
                }
            } catch TrainingError.diverged(let epoch, let batch, _) {
                result = JobResult(epochs: trainer.history, diverged: .init(epoch: epoch, batch: batch, seconds: trainer.seconds))
            }
            try AtomicFile.write(try JobFolder.json(result), to: resultPath(path))
            try? FileManager.default.removeItem(atPath: statusPath(path))
            return .finished(result)
        } catch {
            try? writeStatus(.failed, path, reason: "\(error)")
            throw error
        }
    }

    static func writeStatus(_ state: JobStatus.State, _ path: String, reason: String? = nil) throws {
        let status = JobStatus(state: state, host: ProcessInfo.processInfo.hostName, pid: getpid(),
                               time: Date().timeIntervalSince1970, reason: reason)
        try AtomicFile.write(try JobFolder.json(status), to: statusPath(path))
    }
}

/// The finished results of a job folder, as the comparison a local run makes, and the runs still
/// missing with the reason.
public struct JobCollection {
    public struct Missing: Equatable, Sendable {
        public var index: Int
        public var label: String
        public var seed: UInt64
        public var reason: String
    }

    public var grid: JobGrid
    /// The finished runs (diverged ones included), in the grid's order.
    public var runs: [Comparison.Run] = []
    public var missing: [Missing] = []

    public init(_ folder: JobFolder) throws {
        guard let grid = try folder.existingGrid() else { throw TrainingError.plan("\(folder.path) holds no optlab grid (no grid.json)") }
        self.grid = grid
        let host = ProcessInfo.processInfo.hostName
        for (offset, entry) in grid.runs.enumerated() {
            let path = folder.jobPath(offset + 1)
            if JobRunner.isDone(path) {
                let result: JobResult = try JobFolder.read(JobRunner.resultPath(path), what: "result")
                var spec = try OptimizerSpec.parse(entry.plan.optimizer)
                spec.label = entry.label
                var run = Comparison.Run(spec: spec, seed: entry.plan.seed)
                run.epochs = result.epochs
                run.divergedAt = result.diverged.map { ($0.epoch, $0.batch, $0.seconds) }
                runs.append(run)
            } else {
                let status: JobStatus? = FileManager.default.fileExists(atPath: JobRunner.statusPath(path))
                    ? try JobFolder.read(JobRunner.statusPath(path), what: "status") : nil
                missing.append(Missing(index: offset + 1, label: entry.label, seed: entry.plan.seed,
                                       reason: Self.reason(status, thisHost: host)))
            }
        }
    }

    /// Why a run has no result, from its last status.
    static func reason(_ status: JobStatus?, thisHost: String) -> String {
        guard let status else { return "not started" }
        let since = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: status.time))
        switch status.state {
        case .interrupted:
            return "stopped by \(status.reason ?? "a signal") (a time limit, scancel or Ctrl-C); it resumes from its checkpoint"
        case .failed:
            return "crashed: \(status.reason ?? "unknown error")"
        case .running where status.isOrphaned(thisHost: thisHost):
            return "crashed or killed: process \(status.pid) started \(since) ended without a result"
        case .running:
            return "running on \(status.host) (pid \(status.pid)) since \(since), or killed there without a word (see its log)"
        }
    }
}
