import ArgumentParser
import CIFARLab
import Data
import Foundation
import NN
import Optim
import Support

/// `optlab job FILE`: one run of a grid that `--jobs DIR` wrote, as a scheduler runs it.
struct JobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Run one job of a grid written by --jobs (what each Slurm array task runs).",
        discussion: """
            Idempotent: a finished run is skipped, an interrupted one (SIGTERM from a time limit \
            or scancel, Ctrl-C, a killed node) resumes from its checkpoint, written after every \
            epoch and on SIGTERM/SIGINT. The result file beside the job file appears, atomically, \
            only when the run has ended (finished or diverged); `optlab cifar --collect DIR` reads it. \
            A job already running in another process is refused.

            Examples:
              optlab job jobs/compare/runs/0003.json
              optlab job jobs/compare/runs/0003.json --threads 4 --data /scratch/cifar
              xargs -P 2 -I{} sh -c {} < jobs/compare/commands.txt
            """
    )

    @Argument(help: ArgumentHelp("A job file (DIR/runs/NNNN.json).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The cifar-10-batches-bin folder (default: the one the job file names).", valueName: "dir"))
    var data: String?

    @Option(help: "Kernel threads (default: the job file's, else every core).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let job = try JobRunner.load(file)
        let name = "job \(job.index) (\(job.label), seed \(job.plan.seed))"
        if JobRunner.isDone(file) {
            print("\(name) is finished already: nothing to do (\(JobRunner.resultPath(file)))")
            return
        }
        if let threads = threads ?? job.threads { Threads.set(threads) }
        let folder = try DataLocation.find(option: data ?? job.data).folder
        let train = try CIFAR10.load(.train, from: folder)
        let resuming = FileManager.default.fileExists(atPath: JobRunner.checkpointPath(file))
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }
        printNow("\(resuming ? "Resuming" : "Starting") \(name): \(job.plan.model), \(job.plan.optimizer), \(job.plan.epochs) epochs")
        let outcome = try JobRunner.run(file, train: train, test: { try CIFAR10.load(.test, from: folder) },
                                        progress: { ProgressBar("epoch \($0)/\($1)", total: $2) }, cancellation: cancellation,
                                        interruption: { Interrupt.signalName ?? "a cancellation" }) {
            printNow(TrainCommand.line($0, of: job.plan.epochs))
        }
        switch outcome {
        case .alreadyDone:
            print("\(name) is finished already: nothing to do")
        case .finished(let result):
            if let d = result.diverged {
                print("\(name) diverged in epoch \(d.epoch), batch \(d.batch): recorded as such in \(JobRunner.resultPath(file))")
            } else {
                print("\(name) finished: \(JobRunner.resultPath(file))")
            }
        case .interrupted(let epoch, let batch):
            print("\(name) stopped in epoch \(epoch) before batch \(batch + 1): checkpoint saved; run the same command to resume")
            throw ExitCode(130)
        }
    }
}

/// `--jobs DIR` and `--collect DIR` of `optlab cifar`.
struct JobOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Write the grid as jobs in DIR instead of running it: one job file per run, DIR/slurm.sbatch \
        (a Slurm array job) and DIR/commands.txt (one command per line, for GNU parallel or xargs).
        """, valueName: "dir"))
    var jobs: String?

    @Option(help: ArgumentHelp("""
        Read the finished results in DIR (from --jobs) and write exactly the figure and CSVs a local \
        run writes; lists the runs still missing, with the reason, and then exits with status 2.
        """, valueName: "dir"))
    var collect: String?

    @Option(help: ArgumentHelp("The optlab executable the jobs run (default: this one), by absolute path.", valueName: "path"))
    var optlab: String?

    func validate() throws {
        if jobs != nil && collect != nil { throw ValidationError("--jobs writes a grid and --collect reads one: give one of them") }
        if optlab != nil && jobs == nil { throw ValidationError("--optlab names the executable of --jobs: add --jobs DIR") }
    }

    /// This executable's absolute path, which the job files and scripts name.
    static var thisExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// `collecting` holds the options (such as --target) that only `--collect` applies.
    func write(_ grid: JobGrid, to dir: String, data: String?, threads: Int?, collecting: String = "") throws {
        let folder = JobFolder(dir)
        let dataFolder = URL(fileURLWithPath: try DataLocation.find(option: data).folder.path).standardizedFileURL.path
        let executable = URL(fileURLWithPath: optlab ?? Self.thisExecutable).standardizedFileURL.path
        switch try folder.write(grid, optlab: executable, data: dataFolder, threads: threads) {
        case .written(let runs):
            print("""
                Wrote \(runs) jobs to \(folder.path) (optlab \(executable), data \(dataFolder)). Run them with one of:
                  sbatch \(folder.sbatchPath)
                  parallel --jobs 1 --sshloginfile hosts < \(folder.commandsPath)
                  xargs -P 2 -I{} sh -c {} < \(folder.commandsPath)
                then: optlab cifar --collect \(folder.path)\(collecting)
                """)
        case .unchanged(let done, let runs):
            print("\(folder.path) holds this grid already: \(done) of \(runs) runs done; nothing written")
        }
    }

    /// Loads the folder's results; prints what is missing.
    func collected(_ dir: String) throws -> JobCollection {
        let collection = try JobCollection(JobFolder(dir))
        for run in collection.runs {
            if let d = run.divergedAt { print("\(run.label) seed \(run.seed): diverged in epoch \(d.epoch), batch \(d.batch)") }
        }
        if !collection.missing.isEmpty {
            print("\(collection.missing.count) of \(collection.grid.runs.count) runs have no result:")
            for m in collection.missing { print("  job \(m.index) (\(m.label), seed \(m.seed)): \(m.reason)") }
            print("Run them again: sbatch --array=\(collection.missing.map { "\($0.index)" }.joined(separator: ",")) \(JobFolder(dir).sbatchPath)")
        }
        return collection
    }
}
