import ArgumentParser
import CIFARLab
import Data
import Foundation
import Optim
import Support

/// `optlab cifar --models`: models compared instead of optimizers.
struct ModelComparisonOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Compare models instead of optimizers: comma-separated names (labnet, tutorial, vgg-small, \
        resnet18), each trained with its recipe (or --optimizer) from the same seed and image order; \
        the summary adds parameters, multiply-adds per image and seconds per epoch.
        """, valueName: "models"))
    var models: String?

    @Option(help: ArgumentHelp("With --models: one optimizer spec for every model (default: each model's recipe).", valueName: "spec"))
    var optimizer: String?

    func validate() throws {
        if optimizer != nil && models == nil { throw ValidationError("--optimizer applies to --models (--compare takes the specs to compare)") }
        guard let names = modelNames else { return }
        if let unknown = names.first(where: { !CIFARModels.names.contains($0) }) {
            throw ValidationError("--models: unknown model '\(unknown)' (known: \(CIFARModels.names.joined(separator: ", ")))")
        }
        guard Set(names).count == names.count, names.count >= 2 else {
            throw ValidationError("--models needs at least two different models, got '\(models!)'")
        }
        if let optimizer { _ = try OptimizerSpec.parse(optimizer) }
    }

    /// The --models list, nil without it.
    var modelNames: [String]? {
        models.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}

extension CIFARCommand {
    /// --out, or a comparison's default figure.
    var comparisonFigurePath: String { out ?? "plots/cifar-compare.png" }
    /// `cifar --models`' costs beside the metrics CSV: `<csv>-models.csv`.
    var modelCostPath: String { ((csv ?? (comparisonFigurePath as NSString).deletingPathExtension + ".csv") as NSString).deletingPathExtension + "-models.csv" }

    func compareModels(_ models: [String]) throws {
        if let model = options.model { throw Failure("--model \(model) and --models both name the network: give one of them") }
        let firstSeed = options.seed ?? 0
        let seedList = (0..<UInt64(seeds)).map { firstSeed + $0 }
        // The options were checked with labnet's recipe (TrainingOptions.validate); every recipe takes them.
        let grid = try ModelComparison.grid(models, seeds: seedList) { model in
            try TrainingPlan.recipe(model: model, optimizer: modelOptions.optimizer, epochs: options.epochs, batchSize: options.batchSize,
                                    seed: firstSeed, trainSubset: options.trainSubset, validation: options.validation,
                                    augment: options.augment, labelSmoothing: options.labelSmoothing, comparing: true)
        }
        if let dir = jobOptions.jobs {
            return try jobOptions.write(JobGrid(runs: grid.map { JobGrid.Run(label: $0.spec.label, plan: $0.plan) }), to: dir,
                                        data: options.data, threads: options.kernels.threads, collecting: target.map { " --target \($0)" } ?? "")
        }
        let outputs = try lockedOutputs(also: [modelCostPath])
        options.kernels.apply()
        let runs = try runHere(JobGrid(runs: grid.map { JobGrid.Run(label: $0.spec.label, plan: $0.plan) }),
                               announcing: "Comparing \(models.joined(separator: ", ")) from seed \(firstSeed)…\(firstSeed + UInt64(seeds) - 1) "
                                   + "(the same images in the same order): "
                                   + grid.prefix(models.count).map { "\($0.spec.label) \($0.plan.epochs) epochs of \($0.plan.optimizer), batch \($0.plan.batchSize)" }
                                       .joined(separator: "; "))
        try writeModels(runs, validation: grid[0].plan.validation, missing: false, to: outputs)
    }

    /// What `write` writes, titled by the models, and their costs: printed and as `<csv>-models.csv`.
    func writeModels(_ runs: [Comparison.Run], validation: ValidationSplit?, missing: Bool, to outputs: Outputs) throws {
        let models = Comparison.grouped(runs).map(\.label)
        let costs = Dictionary(uniqueKeysWithValues: try models.map { ($0, try ModelComparison.cost(of: $0)) })
        try write(runs, model: models.joined(separator: " vs "), validation: validation,
                  title: "CIFAR-10: \(models.joined(separator: " vs ")) from the same seed and image order", to: outputs)
        let costPath = modelCostPath
        try AtomicFile.write(ModelComparison.costCSV(runs, costs: costs).text, to: costPath)
        print(ModelComparison.costSummary(runs, costs: costs))
        print("Wrote \(costPath)")
        if missing { throw ExitCode(2) }
    }
}
