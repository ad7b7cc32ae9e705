import NN
import Optim
import Support

/// `optlab cifar --models labnet,resnet18`: one run per model (and seed), each with its own recipe
/// or one optimizer spec for all, labelled by model. Every run takes the same seed, so every model
/// sees the same images in the same order each epoch (the seed's shuffle; batches of its own
/// recipe's size).
public enum ModelComparison {
    /// What a model costs, counted from its layers: learnable parameters and the multiply-adds of
    /// one image's forward pass (convolutions and linear layers).
    public struct Cost: Equatable, Sendable {
        public let parameters: Int
        public let multiplyAdds: Int
    }

    public static func cost(of model: String) throws -> Cost {
        let network = try CIFARModels.make(model, seed: 0)
        return Cost(parameters: network.parameterCount, multiplyAdds: network.multiplyAddsPerImage())
    }

    /// The runs in order, seed by seed and every model with each: `plan(model)` with the seed, its
    /// spec labelled by the model. One list for a local run and for its jobs (`JobGrid`).
    public static func grid(_ models: [String], seeds: [UInt64], plan: (String) throws -> TrainingPlan) throws
        -> [(spec: OptimizerSpec, plan: TrainingPlan)] {
        let plans = try models.map(plan)
        return try seeds.flatMap { seed in
            try zip(models, plans).map { model, plan in
                var runPlan = plan
                runPlan.seed = seed
                var spec = try OptimizerSpec.parse(plan.optimizer)
                spec.label = model
                return (spec, runPlan)
            }
        }
    }

    /// Whether a job grid compares models (its runs train more than one).
    public static func comparesModels(_ grid: JobGrid) -> Bool { Set(grid.runs.map(\.plan.model)).count > 1 }

    /// Mean seconds per epoch (training and evaluation) of the finished runs of each model.
    static func secondsPerEpoch(_ runs: [Comparison.Run]) -> Double? {
        let finished = runs.filter { $0.divergedAt == nil }.compactMap(\.epochs.last)
        return finished.isEmpty ? nil : Comparison.mean(finished.map { $0.seconds / Double($0.epoch) })
    }

    /// `model,optimizer,parameters,multiply_adds,seconds_per_epoch`, one row per model.
    public static func costCSV(_ runs: [Comparison.Run], costs: [String: Cost]) -> CSVTable {
        var table = CSVTable(header: ["model", "optimizer", "parameters", "multiply_adds", "seconds_per_epoch"])
        for (model, group) in Comparison.grouped(runs) {
            let cost = costs[model]
            table.append([model, group[0].spec.description, cost.map { "\($0.parameters)" } ?? "", cost.map { "\($0.multiplyAdds)" } ?? "",
                          secondsPerEpoch(group).map { "\($0)" } ?? ""])
        }
        return table
    }

    /// One line per model: its optimizer, parameters, multiply-adds per image and seconds per epoch.
    public static func costSummary(_ runs: [Comparison.Run], costs: [String: Cost]) -> String {
        let groups = Comparison.grouped(runs)
        let width = max(5, groups.map(\.label.count).max() ?? 0)
        func pad(_ text: String, _ n: Int) -> String { text.padding(toLength: max(n, text.count), withPad: " ", startingAt: 0) }
        var lines = [pad("model", width) + "  parameters  multiply-adds/image  s/epoch  optimizer"]
        for (model, group) in groups {
            let cost = costs[model]
            lines.append(pad(model, width) + "  " + pad(cost.map { $0.parameters.grouped } ?? "—", 10) + "  "
                         + pad(cost.map { String(format: "%.1f M", Double($0.multiplyAdds) / 1e6) } ?? "—", 19) + "  "
                         + pad(secondsPerEpoch(group).map { String(format: "%.1f", $0) } ?? "—", 7) + "  " + group[0].spec.description)
        }
        return lines.joined(separator: "\n")
    }
}
