import Foundation
import Support

/// Where each run of a job folder stands, read from the files its jobs write anyway (the result,
/// the status, the checkpoint after every epoch): what `optlab serve`'s dashboard shows while a
/// grid runs, on this machine or a cluster sharing the folder.
public struct JobProgress: Sendable {
    public enum State: String, Sendable {
        /// Not started.
        case pending
        case running
        /// Stopped by a signal (a time limit, scancel, Ctrl-C); it resumes from its checkpoint.
        case interrupted
        /// Ended with an error, or its process died without a word.
        case failed
        /// Its result is written (a diverged run is done too).
        case done
    }

    public struct Run: Sendable {
        /// 1-based, as the job file's name.
        public var index: Int
        public var label: String
        public var plan: TrainingPlan
        public var state: State
        /// What the status says beyond the state: the error, the signal, the host running it.
        public var reason: String?
        /// Every epoch so far: the result's when done, else the checkpoint's.
        public var epochs: [EpochMetrics]
        public var diverged: Bool
    }

    public let grid: JobGrid
    public let runs: [Run]

    /// `epochs` reads a checkpoint's metrics so far (nil when it cannot be read yet); a caller
    /// polling the folder passes one that remembers unchanged files.
    public init(_ folder: JobFolder, epochs: (URL) -> [EpochMetrics]? = { try? Checkpoint.summary($0).metrics }) throws {
        guard let grid = try folder.existingGrid() else { throw TrainingError.plan("\(folder.path) holds no optlab grid (no grid.json)") }
        self.grid = grid
        let host = ProcessInfo.processInfo.hostName
        runs = try grid.runs.enumerated().map { offset, entry in
            let path = folder.jobPath(offset + 1)
            var run = Run(index: offset + 1, label: entry.label, plan: entry.plan, state: .pending, reason: nil, epochs: [], diverged: false)
            if JobRunner.isDone(path) {
                let result: JobResult = try JobFolder.read(JobRunner.resultPath(path), what: "result")
                (run.state, run.epochs, run.diverged) = (.done, result.epochs, result.diverged != nil)
                return run
            }
            if FileManager.default.fileExists(atPath: JobRunner.statusPath(path)) {
                let status: JobStatus = try JobFolder.read(JobRunner.statusPath(path), what: "status")
                run.reason = JobCollection.reason(status, thisHost: host)
                switch status.state {
                case .running: run.state = status.isOrphaned(thisHost: host) ? .failed : .running
                case .interrupted: run.state = .interrupted
                case .failed: run.state = .failed
                }
            }
            // A checkpoint being replaced is read at the next look.
            run.epochs = epochs(URL(fileURLWithPath: JobRunner.checkpointPath(path))) ?? []
            return run
        }
    }
}

extension JobStatus {
    /// A running status whose process, on this host, no longer exists: killed without a word.
    func isOrphaned(thisHost: String) -> Bool {
        state == .running && host == thisHost && kill(pid, 0) != 0 && errno == ESRCH
    }
}
