import CIFARLab
import Data
import Figures
import Foundation
import Optim
import Support

/// The dashboard's view of a folder of runs: the checkpoints `optlab train` writes after every
/// epoch (safetensors whose metadata holds the plan and the metrics so far), the metrics CSVs
/// `optlab cifar` writes, and the job folders of `optlab cifar --jobs` (a grid.json, each run's
/// status, checkpoint and result). It only reads them; a checkpoint or CSV is read again only when
/// it changed.
public final class RunFolder: @unchecked Sendable {
    public let folder: URL
    /// Where CIFAR-10 is for evaluating finished runs (`--data`; nil: optlab's usual look-up).
    let data: String?
    /// Files deeper than this below the folder, or past this many, are not listed.
    static let maxDepth = 4, maxFiles = 500

    private let lock = NSLock()
    private var cache: [String: (stamp: FileStamp, runs: [RunReply])] = [:]
    private var checkpointEpochs: [String: (stamp: FileStamp, epochs: [EpochMetrics])] = [:]
    private var evaluations: [String: (stamp: FileStamp, reply: EvaluationReply)] = [:]
    private let evaluating = NSLock()

    public init(folder: URL, data: String? = nil) {
        self.folder = folder.standardizedFileURL
        self.data = data
    }

    /// `GET /api/runs`: every run found, with its metrics so far.
    func runs() throws -> Reply {
        var runs: [RunReply] = []
        let all = files()
        let grids = all.filter { $0.lastPathComponent == JobFolder.gridFileName }.map { $0.deletingLastPathComponent().path }
        for grid in grids { runs += jobRuns(grid) }
        // A job folder's checkpoints are its runs, listed with their grid above.
        for file in all where file.lastPathComponent != JobFolder.gridFileName && !grids.contains(where: { file.path.hasPrefix($0 + "/") }) {
            let stamp = FileStamp(file)
            let id = relativePath(file)
            if let cached = lock.withLock({ cache[id] }), cached.stamp == stamp {
                runs += cached.runs
                continue
            }
            // A file being replaced or not optlab's: skipped rather than failing the listing.
            guard let read = try? Self.read(file, id: id) else { continue }
            lock.withLock { cache[id] = (stamp, read) }
            runs += read
        }
        return try .json(RunsReply(folder: folder.path, runs: runs))
    }

    /// The runs of the job folder at `path`, each in its state, with its epochs so far; none when
    /// its grid cannot be read (being written, or not optlab's).
    private func jobRuns(_ path: String) -> [RunReply] {
        let grid = relativePath(URL(fileURLWithPath: path))
        guard let progress = try? JobProgress(JobFolder(path), epochs: cachedEpochs) else { return [] }
        return progress.runs.map { run in
            let checkpoint = relativePath(URL(fileURLWithPath: JobRunner.checkpointPath(JobFolder(path).jobPath(run.index))))
            return RunReply(id: checkpoint, kind: "job", label: run.label, model: run.plan.model, optimizer: run.plan.optimizer,
                            color: Self.color(ofSpec: run.plan.optimizer), seed: run.plan.seed, epochs: run.plan.epochs,
                            finished: run.state == .done, diverged: run.diverged, metrics: run.epochs.map(MetricsRow.init),
                            plan: try? Self.planText(run.plan), grid: grid.isEmpty ? "." : grid, state: run.state.rawValue,
                            reason: run.reason)
        }
    }

    /// A checkpoint's metrics, read again only when the file changed.
    private func cachedEpochs(_ url: URL) -> [EpochMetrics]? {
        let stamp = FileStamp(url)
        if let cached = lock.withLock({ checkpointEpochs[url.path] }), cached.stamp == stamp { return cached.epochs }
        guard let epochs = try? Checkpoint.summary(url).metrics else { return nil }
        lock.withLock { checkpointEpochs[url.path] = (stamp, epochs) }
        return epochs
    }

    /// `GET /api/evaluation?run=ID`: per-class accuracy and the confusion matrix of a finished
    /// checkpoint on the 10,000 test images (computed once per checkpoint version, one at a time).
    func evaluation(_ query: Query) throws -> Reply {
        let id = try query.string("run", maxLength: 1000)
        guard let file = files().first(where: { relativePath($0) == id && $0.pathExtension == "safetensors" }) else {
            throw RequestError("run: no checkpoint '\(id)' under \(folder.path)")
        }
        let stamp = FileStamp(file)
        return try evaluating.withLock {
            if let cached = lock.withLock({ evaluations[id] }), cached.stamp == stamp { return try .json(cached.reply) }
            guard try Checkpoint.summary(file).isFinished else { throw RequestError("run: '\(id)' has not finished yet") }
            let dataFolder = try DataLocation.find(option: data).folder
            let test = try CIFAR10.load(.test, from: dataFolder)
            let (_, report) = try Evaluation.run(checkpoint: file, model: nil, test: test) { try CIFAR10.load(.train, from: dataFolder) }
            let reply = EvaluationReply(accuracy: report.accuracy, classes: report.classNames, perClass: report.perClass,
                                        confusion: report.confusion)
            lock.withLock { evaluations[id] = (stamp, reply) }
            return try .json(reply)
        }
    }

    /// The checkpoints, CSVs and job grids below the folder, skipping hidden files (atomic writes'
    /// temporaries).
    private func files() -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else { return [] }
        var found: [URL] = []
        for case let url as URL in walker {
            if walker.level > Self.maxDepth { walker.skipDescendants(); continue }
            guard ["safetensors", "csv"].contains(url.pathExtension) || url.lastPathComponent == JobFolder.gridFileName else { continue }
            found.append(url.standardizedFileURL)
            if found.count >= Self.maxFiles { break }
        }
        return found.sorted { $0.path < $1.path }
    }

    private func relativePath(_ url: URL) -> String {
        String(url.path.dropFirst(folder.path.count).drop { $0 == "/" })
    }

    static func read(_ file: URL, id: String) throws -> [RunReply] {
        if file.pathExtension == "safetensors" {
            let summary = try Checkpoint.summary(file)
            let plan = summary.plan
            return [RunReply(id: id, kind: "train", label: id, model: plan.model, optimizer: plan.optimizer,
                             color: color(ofSpec: plan.optimizer), seed: plan.seed, epochs: plan.epochs,
                             finished: summary.isFinished, diverged: false, metrics: summary.metrics.map(MetricsRow.init),
                             plan: try planText(plan), grid: nil, state: nil, reason: nil)]
        }
        return try comparisonRuns(String(contentsOf: file, encoding: .utf8), id: id)
    }

    /// The runs of an `optlab cifar` CSV (optimizer, seed, epoch, train_loss, train_acc, val_loss,
    /// val_acc, test_loss, test_acc, seconds, …), its columns found by name.
    static func comparisonRuns(_ text: String, id: String) throws -> [RunReply] {
        let rows = CSVTable.parse(text)
        guard let header = rows.first else { throw RequestError("\(id): empty") }
        let needed = ["optimizer", "seed", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"]
        let column = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        guard needed.allSatisfy({ column[$0] != nil }) else { throw RequestError("\(id): not an optlab cifar CSV") }
        var runs: [RunReply] = []
        for row in rows.dropFirst() where row.count == header.count {
            func value(_ name: String) -> Double? { column[name].flatMap { Double(row[$0]) } }
            let metrics = MetricsRow(epoch: Int(value("epoch") ?? 0), trainLoss: value("train_loss") ?? .nan,
                                     trainAccuracy: value("train_acc") ?? .nan, validationLoss: value("val_loss"),
                                     validationAccuracy: value("val_acc"), testLoss: value("test_loss") ?? .nan,
                                     testAccuracy: value("test_acc") ?? .nan, seconds: value("seconds") ?? .nan)
            let optimizer = row[column["optimizer"]!], seed = UInt64(row[column["seed"]!]) ?? 0
            if let last = runs.indices.last, runs[last].optimizer == optimizer, runs[last].seed == seed {
                runs[last].metrics.append(metrics)
                runs[last].diverged = runs[last].diverged || !metrics.trainLoss.isFinite
            } else {
                runs.append(RunReply(id: "\(id)#\(optimizer)#\(seed)", kind: "cifar", label: "\(optimizer) seed \(seed) (\(id))",
                                     model: nil, optimizer: optimizer, color: color(ofSpec: optimizer), seed: seed, epochs: nil,
                                     finished: true, diverged: !metrics.trainLoss.isFinite, metrics: [metrics], plan: nil,
                                     grid: nil, state: nil, reason: nil))
            }
        }
        return runs
    }

    /// The optimizer's colour in every figure; grey for a label that is not a spec.
    static func color(ofSpec text: String) -> String {
        (try? OptimizerSpec.parse(text)).map { OptimizerStyle.color($0).hexString } ?? "#999999"
    }

    static func planText(_ plan: TrainingPlan) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(plan), as: UTF8.self)
    }
}

/// Size and modification time: when both are unchanged, the file is.
struct FileStamp: Equatable {
    let size: Int, modified: Date?

    init(_ url: URL) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        size = (attributes?[.size] as? Int) ?? -1
        modified = attributes?[.modificationDate] as? Date
    }
}

struct RunsReply: Encodable {
    let folder: String
    let runs: [RunReply]
}

struct RunReply: Encodable, Sendable {
    let id: String
    /// "train" (a checkpoint), "cifar" (a row group of a comparison CSV) or "job" (a run of a job folder).
    let kind: String
    let label: String
    let model: String?
    let optimizer: String
    let color: String
    let seed: UInt64
    /// Planned epochs, when the file says.
    let epochs: Int?
    let finished: Bool
    var diverged: Bool
    var metrics: [MetricsRow]
    /// The training plan as JSON text, for checkpoints and jobs.
    let plan: String?
    /// A job's folder below the runs folder ("." for the folder itself), its state (pending,
    /// running, interrupted, failed, done) and what its status says; nil for other runs.
    let grid: String?
    let state: String?
    let reason: String?
}

struct MetricsRow: Encodable, Sendable {
    let epoch: Int
    let trainLoss, trainAccuracy: Double
    /// On the plan's validation split; nil without one.
    let validationLoss, validationAccuracy: Double?
    let testLoss, testAccuracy, seconds: Double

    init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double?, validationAccuracy: Double?,
         testLoss: Double, testAccuracy: Double, seconds: Double) {
        (self.epoch, self.trainLoss, self.trainAccuracy, self.validationLoss, self.validationAccuracy) =
            (epoch, trainLoss, trainAccuracy, validationLoss, validationAccuracy)
        (self.testLoss, self.testAccuracy, self.seconds) = (testLoss, testAccuracy, seconds)
    }

    init(_ m: EpochMetrics) {
        self.init(epoch: m.epoch, trainLoss: m.trainLoss, trainAccuracy: m.trainAccuracy, validationLoss: m.validationLoss,
                  validationAccuracy: m.validationAccuracy, testLoss: m.testLoss ?? .nan, testAccuracy: m.testAccuracy ?? .nan, seconds: m.seconds)
    }

    /// JSON has no nan: a missing or diverged epoch's values go out as null.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        for (key, value) in [(CodingKeys.trainLoss, trainLoss), (.trainAccuracy, trainAccuracy), (.validationLoss, validationLoss),
                             (.validationAccuracy, validationAccuracy), (.testLoss, testLoss), (.testAccuracy, testAccuracy),
                             (.seconds, seconds)] as [(CodingKeys, Double?)] {
            if let value, value.isFinite { try c.encode(value, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss, trainAccuracy, validationLoss, validationAccuracy, testLoss, testAccuracy, seconds
    }
}

struct EvaluationReply: Encodable, Sendable {
    let accuracy: Double
    let classes: [String]
    let perClass: [Double]
    /// Rows are the true class, columns the predicted one.
    let confusion: [[Int]]
}
