import ArgumentParser
import Data
import Foundation
import CIFARLab
import NN
import Optim
import Support

/// Options `train` and `cifar` share: the data, the model and how long and on what to train.
struct TrainingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The cifar-10-batches-bin folder (default: see `optlab data --help`).", valueName: "dir"))
    var data: String?

    @Option(help: "The network: labnet (this lab's own, the default), tutorial, vgg-small or resnet18.")
    var model: String?

    @Option(help: "Epochs (default: the model's recipe).")
    var epochs: Int?

    @Option(help: "Images per training step (default: the model's recipe).")
    var batchSize: Int?

    @Option(help: "Seeds the initial weights, the data order and the augmentation (default 0).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Train on the first N training images only (quick looks).", valueName: "n"))
    var trainSubset: Int?

    @Option(help: ArgumentHelp("""
        Hold out N training images (N/10 of every class, the same images for every run and seed) \
        and report validation loss and accuracy every epoch; never trained on.
        """, valueName: "n"))
    var validation: Int?

    @Option(help: ArgumentHelp("Label smoothing of the cross-entropy loss (default: the model's recipe).", valueName: "ε"))
    var labelSmoothing: Float?

    @Flag(inversion: .prefixedNo, help: "Random crop (padding 4) and horizontal flip (default: the model's recipe).")
    var augment: Bool?

    @Option(help: ArgumentHelp("With --augment, airbench's random translation by up to N pixels with reflected borders instead of the zero-padded crop (default: the model's recipe).", valueName: "n"))
    var translate: Int?

    @Flag(inversion: .prefixedNo, help: "With --augment, airbench's alternating flips: each image mirrored in every other epoch instead of by a coin each epoch (default: the model's recipe).")
    var alternatingFlips: Bool?

    @Flag(name: .customLong("tta"), inversion: .prefixedNo, help: "Test-time augmentation in the last epoch's evaluations: logits averaged over the image, its mirror and one-pixel translations (default: the model's recipe).")
    var testTimeAugmentation: Bool?

    @Flag(inversion: .prefixedNo, help: "airbench's patch-whitening first layer: the first convolution's filters become the whitening eigenvectors of the patches of 5,000 training images, frozen (default: the model's recipe).")
    var whiten: Bool?

    @Option(help: ArgumentHelp("Learning-rate multipliers by kind of parameter (weight, bias, norm-weight, norm-bias), composing with any schedule; weight decay is divided by the same factor, as airbench's ×64 for batch-norm biases; none for none (default: the model's recipe).", valueName: "kind=x,..."))
    var lrMultipliers: String?

    @Option(help: ArgumentHelp("Batch norm's momentum in every layer, torch's meaning (default: the model's recipe, else 0.1).", valueName: "m"))
    var bnMomentum: Float?

    @Flag(inversion: .prefixedNo, help: "airbench's lookahead: every 5 steps the weights and batch-norm statistics move to their running average, decay 0.95⁵·(t/T)³, and the run ends at the average (default: the model's recipe).")
    var emaLookahead: Bool?

    @OptionGroup var kernels: KernelOptions

    func validate() throws {
        try checkingOptions { try plan(optimizer: nil).check() }
    }

    func plan(optimizer: String?, comparing: Bool = false) throws -> TrainingPlan {
        try TrainingPlan.recipe(model: model ?? CIFARModels.defaultModel, optimizer: optimizer, epochs: epochs,
                                batchSize: batchSize, seed: seed ?? 0, trainSubset: trainSubset, validation: validation,
                                augment: augment, translation: translate, alternatingFlips: alternatingFlips, testTimeAugmentation: testTimeAugmentation,
                                labelSmoothing: labelSmoothing, patchWhitening: whiten,
                                learningRateMultipliers: try lrMultipliers.map { try TrainingPlan.multipliers(parsing: $0) },
                                batchNormMomentum: bnMomentum, emaLookahead: emaLookahead, comparing: comparing)
    }

    /// Both splits, every file checked; a missing folder says where optlab looked.
    func datasets() throws -> (train: Dataset, test: Dataset) {
        let folder = try DataLocation.find(option: data).folder
        return (try CIFAR10.load(.train, from: folder), try CIFAR10.load(.test, from: folder))
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CIFAR-10 classifier, with a checkpoint after every epoch.",
        discussion: """
            Prints per epoch the mean training loss, training accuracy and test accuracy, and writes \
            the checkpoint (model weights under PyTorch's names, optimizer state, epoch, metrics) \
            atomically after every epoch. Ctrl-C stops cleanly between two steps with a checkpoint \
            that --resume continues exactly; a non-finite loss stops the run and keeps the last \
            good checkpoint. A second run given the same --out fails at once while the first holds \
            it (an advisory lock), and a full disk stops the run with the previous checkpoint kept. \
            A schedule in --optimizer (schedule=NAME(...): torch.optim.lr_scheduler's \
            classes minus "LR" in snake_case, with torch's keywords and defaults) advances once per \
            epoch after the evaluation, plateau with the epoch's validation loss (--validation; the \
            training loss without one), except onecycle and cyclic, which advance after every batch \
            (onecycle by default spans the run: epochs × batches). --resume replays a schedule's \
            steps; plateau's state is in the checkpoint. Schedules:
            \(ScheduleSpec.usage)

            Beyond torch's classic set: sam(base=SPEC) and lbfgs take torch's step(closure) and \
            evaluate the same batch again (twice per step; LBFGS up to max_eval times); \
            adamw_schedulefree and sgd_schedulefree are evaluated and checkpointed at their averaged \
            weights x, with batch-norm statistics recomputed over 50 training batches (the iterate \
            training continues from is saved beside the optimizer state). muon steps every \
            convolution weight (viewed [out, in·kh·kw]) and every linear weight except the classifier \
            head (the last linear layer); biases, batch norm and the head go to rest=SPEC, default \
            adamw(lr=3e-4,betas=(0.9,0.95),weight_decay=0), which a schedule scales with muon's lr.

            Examples:
              optlab train                                   # labnet with its recipe
              optlab train --model tutorial --epochs 4 --threads 1
              optlab train --model airbench94                # airbench94's network and recipe
              optlab train --precision bf16                  # bf16 convolutions and linear layers
              optlab train --precision bf16-backward         # only their backward in bf16
              optlab train --model tutorial --optimizer "sgd(lr=0.01,momentum=0.9)"
              optlab train --optimizer adam --epochs 5 --out checkpoints/adam.safetensors
              optlab train --out checkpoints/run.safetensors --resume
              optlab train --epochs 2 --optimizer "nesterov(schedule=onecycle(max_lr=0.2))"
              optlab train --validation 5000                 # 500 images of each class held out
              optlab train --epochs 6 --no-tta --no-alternating-flips   # labnet's recipe without airbench's two
              optlab train --whiten --lr-multipliers norm-bias=64    # frozen whitening layer, ×64 for batch-norm biases
              optlab train --epochs 4 --translate 2          # ~86 % in 4 minutes on two cores: airbench's reflected translation, not the crop
              optlab train --epochs 11 --translate 2 --eval-every 11   # ~90 % in 10 minutes on two cores, evaluated once, at the end
              optlab train --model airbench94 --ema-lookahead --bn-momentum 0.4   # airbench's lookahead
              optlab train --bn-momentum 0.4 --optimizer "lookahead(k=5,alpha=0.5,base=nesterov(lr=0.2,weight_decay=5e-4),schedule=onecycle(max_lr=0.2))"
              # warm-up then cosine decay:
              optlab train --model tutorial --epochs 10 --optimizer "sgd(lr=0.05, momentum=0.9, \
            schedule=sequential(schedulers=(linear(start_factor=0.1, total_iters=2), cosine(T_max=8)), milestones=2))"
              optlab train --model tutorial --epochs 10 --validation 2000 --optimizer "adam(schedule=plateau(patience=1))"
              optlab train --model tutorial --optimizer "muon(lr=0.02,rest=adam(lr=0.001))"
              optlab train --model tutorial --optimizer "sam(rho=0.05,base=sgd(lr=0.01,momentum=0.9))"
            """
    )

    @OptionGroup var options: TrainingOptions

    @Option(help: "The optimizer spec, e.g. adam or \"sgd(lr=0.1,momentum=0.9,schedule=cosine(T_max=10))\" (default: the model's recipe).")
    var optimizer: String?

    @Option(help: ArgumentHelp("The checkpoint file.", valueName: "file"))
    var out = "checkpoints/run.safetensors"

    @Flag(help: "Continue the run saved in --out (the model, optimizer and seed come from it; --epochs may extend it).")
    var resume = false

    @Option(help: ArgumentHelp("Evaluate (validation and test) after every N-th epoch and the last only; the weights are the same at any N, the run shorter.", valueName: "n"))
    var evalEvery = 1

    func validate() throws {
        guard evalEvery >= 1 else { throw ValidationError("--eval-every must be at least 1 epoch, got \(evalEvery)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lock = try PathLock(out)
        defer { withExtendedLifetime(lock) {} }
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists && !resume {
            throw Failure("\(out) exists: pass --resume to continue that run, or choose another --out")
        }
        options.kernels.apply()
        let (train, test) = try options.datasets()
        let trainer: Trainer
        if resume && exists {
            trainer = try Checkpoint.resume(url, train: train, test: test, epochs: options.epochs)
            try checkConsistent(trainer.plan)
            print("Resuming \(out) at epoch \(trainer.completedEpochs + 1) of \(trainer.plan.epochs)")
        } else {
            if resume { print("No checkpoint at \(out) yet: starting a new run.") }
            trainer = try Trainer(try options.plan(optimizer: optimizer), train: train, test: test)
        }
        do { try trainer.evaluate(every: evalEvery) } catch let error as SettingError { throw Failure("--eval-every \(error.problem)") }
        let plan = trainer.plan
        let multipliers: String = plan.learningRateMultipliers.sorted { $0.key < $1.key }
            .map { ", \($0.key) lr ×\(String(format: "%g", $0.value))" }.joined()
        let airbench: String = (plan.patchWhitening ? ", frozen whitening first layer" : "") + multipliers
            + (plan.batchNormMomentum.map { ", batch-norm momentum \($0)" } ?? "") + (plan.emaLookahead ? ", lookahead" : "")
        print("Training \(plan.model) with \(plan.optimizer), batch \(plan.batchSize), seed \(plan.seed), "
              + "\(trainer.trainLoader.dataset.count.grouped) training images\(plan.augment ? " (\(plan.translation.map { "translate \($0)" } ?? "crop") + \(plan.alternatingFlips ? "alternating flips" : "flip"))" : "")"
            + (trainer.validationLoader.map { ", \($0.dataset.count.grouped) held out for validation" } ?? "") + airbench)
        let cancellation = Interrupt.watch()
        defer { Interrupt.stopWatching() }
        do {
            let outcome = try trainer.run(checkpoint: url, progress: { ProgressBar("epoch \($0)/\($1)", total: $2) },
                                          cancellation: cancellation) {
                printNow(Self.line($0, of: plan.epochs, augmented: plan.testTimeAugmentation && $0.epoch == plan.epochs))
            }
            switch outcome {
            case .finished:
                let last = trainer.history.last!
                print(String(format: "Done: test accuracy %.2f %% after %d epochs in %.1f min", 100 * (last.testAccuracy ?? .nan),
                             last.epoch, last.seconds / 60) + "; checkpoint \(out)")
            case .interrupted(let epoch, let batch):
                print("Interrupted in epoch \(epoch) before batch \(batch + 1): saved \(out); continue with --resume")
                throw ExitCode(130)
            }
        } catch let error as TrainingError {
            let kept = trainer.completedEpochs > 0 ? "the last good checkpoint \(out) (epoch \(trainer.completedEpochs)) is kept" : "no checkpoint written"
            throw Failure("\(error); \(kept)")
        }
    }

    /// What the assignment's script prints per epoch, plus validation (with a split) and test accuracy.
    /// `augmented`: the evaluations used test-time augmentation (the last epoch's, when planned).
    static func line(_ m: EpochMetrics, of epochs: Int, augmented: Bool = false) -> String {
        var validation = ""
        if let accuracy = m.validationAccuracy, let loss = m.validationLoss {
            validation = String(format: "  val acc %.2f %%  val loss %.4f", 100 * accuracy, loss)
        }
        return String(format: "epoch %d/%d  loss %.4f  train acc %.2f %%", m.epoch, epochs, m.trainLoss, 100 * m.trainAccuracy)
            + (augmented ? "  (test-time augmented)" : "") + validation
            + (m.testAccuracy.map { String(format: "  test acc %.2f %%  test loss %.4f", 100 * $0, m.testLoss ?? .nan) } ?? "")
            + String(format: "  %.0f s", m.seconds)
    }

    /// On --resume, options that contradict the checkpoint are an error rather than silently ignored.
    private func checkConsistent(_ saved: TrainingPlan) throws {
        var conflicts: [String] = []
        if let model = options.model, model != saved.model { conflicts.append("--model \(model) (checkpoint: \(saved.model))") }
        if let optimizer {
            // A onecycle schedule's total_steps was filled in when the run started.
            let savedTotal = try OptimizerSpec.parse(saved.optimizer).schedule?.totalSteps
            let requested = try CIFARModels.withDefaultLearningRate(try OptimizerSpec.parse(optimizer), model: saved.model)
                .fillingTotalSteps(savedTotal ?? 1).description
            if requested != saved.optimizer { conflicts.append("--optimizer \(requested) (checkpoint: \(saved.optimizer))") }
        }
        if let batchSize = options.batchSize, batchSize != saved.batchSize {
            conflicts.append("--batch-size \(batchSize) (checkpoint: \(saved.batchSize))")
        }
        if let seed = options.seed, seed != saved.seed { conflicts.append("--seed \(seed) (checkpoint: \(saved.seed))") }
        if let validation = options.validation, validation != saved.validation?.count {
            conflicts.append("--validation \(validation) (checkpoint: \(saved.validation?.count ?? 0))")
        }
        if !conflicts.isEmpty {
            throw Failure("--resume continues the saved run; these differ from it: " + conflicts.joined(separator: ", "))
        }
    }
}

/// Prints and flushes at once, so per-epoch lines reach a log file or `tee` while training goes on.
func printNow(_ line: String) {
    print(line)
    fflush(nil)  // all output streams; naming `stdout` is not concurrency-safe in Swift 6
}

/// A runtime failure: ArgumentParser prints it as one `Error:` line and exits with status 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

