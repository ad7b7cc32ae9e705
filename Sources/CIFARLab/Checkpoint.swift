import Data
import Foundation
import NN
import Optim
import Support

/// Checkpoints: the assignment's `{epoch, model_state_dict, optimizer_state_dict, loss}` as one
/// safetensors file. The model's `state_dict()` sits under PyTorch's names at the top level (so
/// `model.load_state_dict(load_file(path), strict=False)` loads it in PyTorch), the optimizer's
/// state under `optimizer.` (torch's names: `optimizer.state.0.momentum_buffer`, …), and the
/// metadata holds `epoch`, `loss`, `model`, `optimizer`, `seed` and, as JSON, the plan, the metrics
/// so far, the normalisation and the position within the run. A schedule is saved as its step
/// count (`optimizer.schedule.last_epoch`): onecycle's rate and momentum are functions of it, and
/// the plan's spec names the total_steps they were computed with. plateau, which depends on the
/// losses it saw, also keeps its state in float64 under `scheduler.` (torch's names: `best`,
/// `num_bad_epochs`, `cooldown_counter`, and `lr`, the rates it reduced to). A run that records
/// its iterates (`optlab landscape`) keeps them as `recorded.iterates` (iterates × parameters) and
/// `recorded.steps`, with `recorded_every` in the metadata; one with airbench's lookahead keeps the
/// average under `lookahead.` and the model's state names.
public enum Checkpoint {
    static let format = "optlab-checkpoint-1"
    static let optimizerPrefix = "optimizer."
    static let schedulerPrefix = "scheduler."
    static let trainingWeightsPrefix = "training_weights."
    static let recordPrefix = "recorded."
    static let lookaheadPrefix = "lookahead."

    /// Everything needed to continue or evaluate the run, written atomically.
    public static func save(_ trainer: Trainer, to url: URL) throws {
        var file = SafeTensors()
        // The model's weights are where it is evaluated (schedule-free: x, with the batch-norm
        // statistics its evaluation recomputed); training resumes from the optimizer's own
        // iterate (y), saved beside the optimizer's state.
        if trainer.optimizer.hasEvaluationPoint {
            for p in trainer.network.parameters {
                file.set(optimizerPrefix + trainingWeightsPrefix + p.name, floats: Array(p.value), shape: p.shape)
            }
        }
        trainer.optimizer.withEvaluationValues { trainer.network.save(into: &file) }
        for tensor in trainer.optimizer.stateTensors() {
            file.set(optimizerPrefix + tensor.name, floats: tensor.values, shape: tensor.shape)
        }
        for tensor in trainer.optimizer.scheduleState {
            file.set(schedulerPrefix + tensor.name, doubles: tensor.values, shape: [tensor.values.count])
        }
        trainer.stateAverage?.save(into: &file, prefix: lookaheadPrefix, of: trainer.network)
        if let record = trainer.iterateRecord {
            file.set(recordPrefix + "iterates", rows: record.iterates)
            file.set(recordPrefix + "steps", int64s: record.steps.map(Int64.init), shape: [record.steps.count])
        }
        file.metadata = [
            "format": format,
            "model": trainer.plan.model,
            "optimizer": trainer.plan.optimizer,
            "seed": String(trainer.plan.seed),
            "epoch": String(trainer.completedEpochs),
            "loss": trainer.history.last.map { String($0.trainLoss) } ?? "",
            "plan": try json(trainer.plan),
            "metrics": try json(trainer.history),
            "position": try json(trainer.position),
            "normalization": try json(trainer.normalization),
            "seconds": String(trainer.seconds),
        ]
        if let record = trainer.iterateRecord { file.metadata["recorded_every"] = String(record.every) }
        try OutputFolder.createParent(of: url.path)
        try file.write(to: url)
    }

    /// What a checkpoint says about its run, without building the network: for listings such as
    /// `optlab serve`'s dashboard.
    public struct Summary: Sendable {
        public let plan: TrainingPlan
        public let metrics: [EpochMetrics]
        public var isFinished: Bool { (metrics.last?.epoch ?? 0) >= plan.epochs }
    }

    public static func summary(_ url: URL) throws -> Summary {
        let file = try SafeTensors(contentsOf: url)
        return Summary(plan: try metadata(file, "plan"), metrics: try metadata(file, "metrics"))
    }

    /// The saved run, ready to continue: weights, optimizer state, metrics, position and recorded
    /// iterates restored.
    /// `epochs` extends (or shortens) the planned number of epochs; without `test`, validated only.
    public static func resume(_ url: URL, train: Dataset, test: Dataset?, epochs: Int? = nil) throws -> Trainer {
        let file = try SafeTensors(contentsOf: url)
        var plan: TrainingPlan = try metadata(file, "plan")
        if let epochs { plan.epochs = epochs }
        let trainer = try Trainer(plan, train: train, test: test)
        try trainer.network.load(file)
        if trainer.optimizer.hasEvaluationPoint {
            for p in trainer.network.parameters {
                _ = p.value.update(from: try file.floats(optimizerPrefix + trainingWeightsPrefix + p.name, shape: p.shape))
            }
        }
        var state: [String: [Float]] = [:]
        for name in file.names where name.hasPrefix(optimizerPrefix) {
            state[String(name.dropFirst(optimizerPrefix.count))] = try file.floats(name)
        }
        var scheduleState: [String: [Double]] = [:]
        for name in file.names where name.hasPrefix(schedulerPrefix) {
            scheduleState[String(name.dropFirst(schedulerPrefix.count))] = try file.doubles(name)
        }
        do { try trainer.optimizer.loadState(state, scheduleState: scheduleState) } catch let error as OptimError {
            throw TrainingError.plan("\(url.path): \(error)")
        }
        try trainer.stateAverage?.load(file, prefix: lookaheadPrefix, of: trainer.network)
        trainer.history = try metadata(file, "metrics")
        trainer.position = try metadata(file, "position")
        trainer.earlierSeconds = Double(file.metadata["seconds"] ?? "") ?? 0
        if let every = file.metadata["recorded_every"].flatMap({ Int($0) }) {
            trainer.iterateRecord = IterateRecord(every: every, steps: try file.int64s(recordPrefix + "steps").map(Int.init),
                                                  iterates: try file.rows(recordPrefix + "iterates"))
        }
        return trainer
    }

    /// The trained network and its input normalisation, for evaluation. `model` names the expected
    /// model; it is required for a plain `state_dict` file without optlab's metadata.
    public static func network(_ url: URL, model: String? = nil) throws -> (network: Network, plan: TrainingPlan?, normalization: InputNormalization?) {
        let file = try SafeTensors(contentsOf: url)
        let saved = file.metadata["model"]
        if let saved, let model, saved != model {
            throw TrainingError.plan("\(url.path) is a checkpoint of model \(saved), not \(model)")
        }
        guard let name = saved ?? model else {
            throw TrainingError.plan("\(url.path) has no optlab metadata: say which model it holds with --model")
        }
        let network = try CIFARModels.make(name, seed: 0)
        try network.load(file)
        let plan: TrainingPlan? = file.metadata["plan"] == nil ? nil : try metadata(file, "plan")
        let normalization: InputNormalization? = file.metadata["normalization"] == nil ? nil : try metadata(file, "normalization")
        return (network, plan, normalization)
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func metadata<T: Decodable>(_ file: SafeTensors, _ key: String) throws -> T {
        guard let text = file.metadata[key] else {
            throw TrainingError.plan("\(file.source): not an optlab checkpoint (no \(key) in its metadata)")
        }
        do { return try JSONDecoder().decode(T.self, from: Foundation.Data(text.utf8)) } catch {
            throw TrainingError.plan("\(file.source): unreadable \(key) in its metadata")
        }
    }
}

extension SafeTensors {
    /// Equally long rows as one rows × length float tensor.
    mutating func set(_ name: String, rows: [[Float]]) {
        set(name, floats: rows.flatMap { $0 }, shape: [rows.count, rows.first?.count ?? 0])
    }

    /// The rows of a 2-D float tensor.
    func rows(_ name: String) throws -> [[Float]] {
        let shape = try entry(name, dtype: .f32).shape
        guard shape.count == 2 else { throw TrainingError.plan("\(source): tensor \(name) is not 2-D") }
        let flat = try floats(name), length = shape[1]
        return (0..<shape[0]).map { Array(flat[($0 * length)..<(($0 + 1) * length)]) }
    }
}
