import ArgumentParser
import CIFARFigures
import CIFARLab
import Figures
import Foundation
import Optim
import Support

struct LRFindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "The learning-rate range test (Smith; fastai's lr_find) on a CIFAR-10 network.",
        discussion: """
            From the model's initial weights, trains one mini-batch per step at a rate growing \
            exponentially from --start to --end over --iters steps, smooths the loss as \
            pytorch-lr-finder does (s = β·loss + (1 − β)·s, β = --smooth) and stops once the smoothed \
            loss passes --diverge × its minimum. Prints fastai's suggestions (valley, steep, \
            minimum/10, slide), draws the losses against the rate with the suggestions marked, and \
            writes lr,loss,smoothed_loss beside the figure. --optimizer takes any spec without a \
            schedule (the test sets the rate); the model's recipe is tested without its schedule. \
            Never reads the test set; --validation images are held out of the batches.

            Examples:
              optlab lr-find                                        # labnet, its recipe's nesterov
              optlab lr-find --model tutorial --optimizer adam
              optlab lr-find --optimizer "adamw(weight_decay=0.05)" --iters 200 --train-subset 10000
              optlab lr-find --model resnet18 --batch-size 64 --start 1e-6 --end 1 --out plots/rn.png
            """
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "The optimizer spec without a schedule, e.g. adam or \"sgd(momentum=0.9,weight_decay=5e-4)\" (default: the model's recipe).")
    var optimizer: String?

    @Option(help: "The first learning rate.")
    var start = 1e-7

    @Option(help: "The learning rate the last step would reach.")
    var end = 10.0

    @Option(help: "Steps (mini-batches) from --start to --end.")
    var iters = 100

    @Option(help: ArgumentHelp("Weight β of the newest loss in the smoothed loss.", valueName: "β"))
    var smooth = 0.05

    @Option(help: ArgumentHelp("Stop once the smoothed loss exceeds this many times its minimum.", valueName: "factor"))
    var diverge = 4.0

    @Option(help: ArgumentHelp("The figure (.png, .svg or .pdf; default plots/lr-find-<model>.png).", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("The CSV (default: beside the figure).", valueName: "file"))
    var csv: String?

    private var settings: LRFinder.Settings {
        LRFinder.Settings(start: start, end: end, iterations: iters, smoothing: smooth, divergence: diverge)
    }

    func validate() throws {
        if options.epochs != nil { throw ValidationError("--epochs does not apply: the range test runs --iters steps") }
        try checkingOptions { try settings.check() }
        if let out { try FigureOutput.check(out) }
    }

    func run() throws {
        let plan = try options.plan(optimizer: optimizer)
        let spec = try LRFinder.spec(plan.optimizer, settings, droppingSchedule: optimizer == nil)
        let out = try self.out ?? FigureOutput.defaultPath("lr-find-\(plan.model)")
        let csvPath = csv ?? (out as NSString).deletingPathExtension + ".csv"
        try OutputFolder.createParent(of: out)
        try OutputFolder.createParent(of: csvPath)
        let locks = try PathLock.outputs([out, csvPath])
        defer { withExtendedLifetime(locks) {} }
        options.kernels.apply()
        let train = try options.datasets().train
        print("Range test: \(plan.model) with \(LRFinder.label(spec)), batch \(plan.batchSize), seed \(plan.seed), lr \(start) → \(end) over \(iters) steps"
              + (plan.validation.map { ", \($0.count.grouped) images held out" } ?? ""))
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }
        let finder = try LRFinder.run(plan, settings, droppingSchedule: optimizer == nil, train: train,
                                      progress: ProgressBar("lr-find", total: iters, unit: .items("step")), cancellation: cancellation)
        if cancellation.isRequested {
            print("Interrupted after \(finder.points.count) steps: nothing written (a range test restarts from the initial weights)")
            throw ExitCode(130)
        }
        print(finder.diverged ? "Stopped at lr \(String(format: "%.3g", finder.points.last!.lr)) after \(finder.points.count) steps: the loss ran away"
              : "Ran all \(finder.points.count) steps")
        for (name, lr) in finder.suggestions.named {
            print("  \(name.padding(toLength: 10, withPad: " ", startingAt: 0)) " + (lr.map { String(format: "%.3g", $0) } ?? "— (too few steps)"))
        }
        try AtomicFile.write(finder.csv.text, to: csvPath)
        try LRFindFigure.make(finder, model: plan.model, spec: spec, batchSize: plan.batchSize).save(to: out)
        print("Wrote \(out) and \(csvPath)")
    }
}
