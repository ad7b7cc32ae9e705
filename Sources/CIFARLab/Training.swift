import Data
import Foundation
import NN
import Optim
import Support

/// Everything that defines a CIFAR-10 training run besides the data; the same plan gives the same
/// run, bit for bit. Stored in every checkpoint so a run can be resumed or evaluated later.
public struct TrainingPlan: Codable, Equatable, Sendable {
    public var model: String
    /// The optimizer spec in canonical form, e.g. `sgd(lr=0.05,momentum=0.9)`.
    public var optimizer: String
    public var epochs: Int
    public var batchSize: Int
    /// Seeds the initial weights, the data order and the augmentation.
    public var seed: UInt64
    /// Train on the first N images only (quick looks); nil = all 50,000 (less the validation split).
    public var trainSubset: Int?
    /// Training images held out to validate on every epoch, the same for every run; nil = none.
    public var validation: ValidationSplit?
    /// Random crop (padding 4) and horizontal flip on the training images.
    public var augment: Bool
    /// With `augment`: airbench's random translation by up to this many pixels with reflected
    /// borders instead of the zero-padded crop; nil = RandomCrop(padding: 4).
    public var translation: Int?
    /// With `augment`: airbench's alternating flips (each image mirrored in every other epoch)
    /// instead of a coin per image and epoch.
    public var alternatingFlips: Bool
    /// The last epoch's evaluations (validation and test) average the logits over flipped and
    /// translated views (`TestTimeAugmentation`); earlier epochs evaluate plainly, as airbench does.
    public var testTimeAugmentation: Bool
    public var labelSmoothing: Float
    public var normalization: Normalization
    /// airbench's frozen patch-whitening first layer (`Network.whitenFirstConvolution`), computed
    /// from the first `whiteningImages` images trained on (never the validation split).
    public var patchWhitening: Bool
    /// Learning-rate multipliers by kind of parameter (`ParameterRole` names, `norm-bias` = 64 as
    /// airbench): those parameters step at that multiple of the scheduled rate, with weight decay
    /// divided by it (`Optimizer`'s multipliers). Kinds not named keep ×1.
    public var learningRateMultipliers: [String: Double]
    /// Batch norm's momentum in every batch-norm layer (torch's: the weight of the newest batch in
    /// the running statistics); nil = the layers' own (0.1, torch's default).
    public var batchNormMomentum: Float?
    /// airbench's lookahead (`StateAverage`, its schedule in `Trainer.lookahead`): every 5 steps the
    /// model's weights and batch-norm statistics are pulled to their running average.
    public var emaLookahead: Bool

    public enum Normalization: String, Codable, Sendable, CaseIterable {
        /// The PyTorch tutorial's (0.5, 0.5, 0.5) / (0.5, 0.5, 0.5).
        case tutorial
        /// The training images' per-channel mean and standard deviation.
        case dataset
    }

    public init(model: String, optimizer: String, epochs: Int, batchSize: Int, seed: UInt64 = 0, trainSubset: Int? = nil,
                validation: ValidationSplit? = nil, augment: Bool, translation: Int? = nil, alternatingFlips: Bool = false, testTimeAugmentation: Bool = false,
                labelSmoothing: Float = 0, normalization: Normalization, patchWhitening: Bool = false,
                learningRateMultipliers: [String: Double] = [:], batchNormMomentum: Float? = nil, emaLookahead: Bool = false) {
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.trainSubset = trainSubset
        self.validation = validation
        self.augment = augment
        self.translation = translation
        self.alternatingFlips = alternatingFlips
        self.testTimeAugmentation = testTimeAugmentation
        self.labelSmoothing = labelSmoothing
        self.normalization = normalization
        self.patchWhitening = patchWhitening
        self.learningRateMultipliers = learningRateMultipliers
        self.batchNormMomentum = batchNormMomentum
        self.emaLookahead = emaLookahead
    }

    private enum CodingKeys: String, CodingKey {
        case model, optimizer, epochs, batchSize, seed, trainSubset, validation, augment, translation, alternatingFlips,
             testTimeAugmentation, labelSmoothing, normalization, patchWhitening, learningRateMultipliers, batchNormMomentum, emaLookahead
    }

    /// Checkpoints written before translation, alternating flips, test-time augmentation, whitening,
    /// multipliers, batch-norm momentum and the lookahead existed lack them: off (the layers' own momentum).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(model: try c.decode(String.self, forKey: .model), optimizer: try c.decode(String.self, forKey: .optimizer),
                  epochs: try c.decode(Int.self, forKey: .epochs), batchSize: try c.decode(Int.self, forKey: .batchSize),
                  seed: try c.decode(UInt64.self, forKey: .seed), trainSubset: try c.decodeIfPresent(Int.self, forKey: .trainSubset),
                  validation: try c.decodeIfPresent(ValidationSplit.self, forKey: .validation),
                  augment: try c.decode(Bool.self, forKey: .augment),
                  translation: try c.decodeIfPresent(Int.self, forKey: .translation),
                  alternatingFlips: try c.decodeIfPresent(Bool.self, forKey: .alternatingFlips) ?? false,
                  testTimeAugmentation: try c.decodeIfPresent(Bool.self, forKey: .testTimeAugmentation) ?? false,
                  labelSmoothing: try c.decode(Float.self, forKey: .labelSmoothing),
                  normalization: try c.decode(Normalization.self, forKey: .normalization),
                  patchWhitening: try c.decodeIfPresent(Bool.self, forKey: .patchWhitening) ?? false,
                  learningRateMultipliers: try c.decodeIfPresent([String: Double].self, forKey: .learningRateMultipliers) ?? [:],
                  batchNormMomentum: try c.decodeIfPresent(Float.self, forKey: .batchNormMomentum),
                  emaLookahead: try c.decodeIfPresent(Bool.self, forKey: .emaLookahead) ?? false)
    }
}

/// One line of the per-epoch report, and one row of the comparison CSV.
public struct EpochMetrics: Codable, Equatable, Sendable {
    /// 1-based, as the assignment's script prints it.
    public var epoch: Int
    /// Mean cross-entropy over the epoch's training images (train mode, before each step).
    public var trainLoss: Double
    public var trainAccuracy: Double
    /// On the plan's validation split (eval mode); nil without one, or in an epoch that skipped its
    /// evaluations (`Trainer.evaluationInterval`), as is the test set's.
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// nil when the run never reads the test set (a tuning's trials).
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// Wall-clock seconds of training and evaluation since the run started (resumes included).
    public var seconds: Double
}

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss became NaN or infinite; the weights are those before the failing step.
    case diverged(epoch: Int, batch: Int, loss: Float)
    case plan(String)

    public var description: String {
        switch self {
        case .diverged(let epoch, let batch, let loss):
            return "the loss became \(loss) at epoch \(epoch), batch \(batch): the run diverged (too high a learning rate?)"
        case .plan(let message):
            return message
        }
    }
}

/// Trains a network on CIFAR-10 with one optimizer, epoch by epoch, and evaluates on the test set.
///
/// The position within the run (completed epochs, the next batch, the running sums of the current
/// epoch) is explicit state, saved in checkpoints: since the loader's order and augmentation are
/// pure functions of (seed, epoch, batch), resuming continues exactly where the run stopped.
public final class Trainer {
    public let plan: TrainingPlan
    public let network: Network
    public let optimizer: Optimizer<Float>
    public let trainLoader: DataLoader
    /// nil for a run that must never read the test set (a tuning's trials).
    public let testLoader: DataLoader?
    /// The held-out training images, when the plan has a validation split.
    public let validationLoader: DataLoader?
    public let normalization: InputNormalization
    public internal(set) var history: [EpochMetrics] = []
    var position = Position()
    /// Seconds spent in earlier sessions of this run (before a resume).
    var earlierSeconds: Double = 0
    let criterion: CrossEntropyLoss
    let inputs = InputTensors()
    /// The weights recorded along the run (`recordIterates(every:)`); part of the run's state, so
    /// checkpoints save it and a resume continues it.
    public internal(set) var iterateRecord: IterateRecord?
    /// The running average of the plan's `emaLookahead`; part of the run's state, like the optimizer's.
    let stateAverage: StateAverage?

    /// Where the run is: `epoch` epochs are complete; the next one continues at `batch`.
    struct Position: Codable, Equatable {
        var epoch = 0
        var batch = 0
        var lossSum: Double = 0
        var correct = 0
        var seen = 0
    }

    /// Test images per evaluation batch: divides 10,000, so every evaluation batch has one shape.
    static let evaluationBatch = 250

    /// Training images whose patches a whitening layer is computed from (airbench's count).
    public static let whiteningImages = 5000

    /// A fresh run: initial weights from `plan.seed`. A onecycle schedule without total_steps gets
    /// the run's epochs × batches per epoch, and the plan (as checkpoints store it) names it.
    /// `train` is the whole training split: the validation split is taken from it before the subset.
    /// Without `test` the run is validated only: its metrics have no test figures.
    public init(_ plan: TrainingPlan, train: Dataset, test: Dataset?) throws {
        try plan.check()
        let (remaining, validation) = try plan.validation.map { try $0.apply(to: train) } ?? (train, nil)
        let train = remaining.prefix(plan.trainSubset)
        let batches = DataLoader(train, batchSize: plan.batchSize).batchCount
        let spec = try OptimizerSpec.parse(plan.optimizer).fillingTotalSteps(plan.epochs * batches)
        if let total = spec.schedule?.totalSteps, total < plan.epochs * batches {
            throw TrainingError.plan("schedule onecycle: total_steps=\(total) is shorter than the run's \(plan.epochs) epochs × \(batches) batches = \(plan.epochs * batches) steps")
        }
        var plan = plan
        plan.optimizer = spec.description
        self.plan = plan
        network = try CIFARModels.make(plan.model, seed: plan.seed)
        criterion = CrossEntropyLoss(labelSmoothing: plan.labelSmoothing)
        switch plan.normalization {
        case .tutorial: normalization = .tutorial
        case .dataset: normalization = InputNormalization(statisticsOf: train)
        }
        if plan.patchWhitening {
            let loader = DataLoader(train.prefix(Self.whiteningImages), batchSize: Self.whiteningImages, transforms: [normalization.transform])
            let images = loader.batch(0, epoch: 0, order: loader.order(epoch: 0)).images
            do {
                try network.whitenFirstConvolution(with: Tensor(shape: images.shape, values: images.pixels))
            } catch let error as ShapeError { throw TrainingError.plan("--whiten: \(error)") }
        }
        if let m = plan.batchNormMomentum { network.setBatchNormMomentum(m) }
        stateAverage = plan.emaLookahead ? StateAverage(of: network) : nil
        let roles = network.parameterRoles.map(\.rawValue)
        optimizer = try Optimizer(spec, parameters: network.parameters,
                                  multipliers: plan.learningRateMultipliers.isEmpty ? nil : roles.map { plan.learningRateMultipliers[$0] ?? 1 })
        trainLoader = DataLoader(train, batchSize: plan.batchSize, shuffle: true, seed: plan.seed,
                                 transforms: (plan.augment ? [plan.translation.map { .randomTranslate(pixels: $0) } ?? .randomCrop(padding: 4), plan.alternatingFlips ? .alternatingFlip : .horizontalFlip] : [])
                                    + [normalization.transform])
        testLoader = if let test { Self.testLoader(test, normalization) } else { nil }
        validationLoader = if let validation { Self.testLoader(validation, normalization) } else { nil }
        stepsSchedulePerBatch = spec.schedule?.advancesEveryStep == true
    }

    /// onecycle and cyclic advance after every optimizer step (torch users step them in the batch
    /// loop), other schedules once per epoch.
    private let stepsSchedulePerBatch: Bool

    /// Epochs between evaluations (validation and test); the last epoch always evaluates. Neither
    /// split feeds training, so the weights are the same bits at any interval; only the time spent
    /// differs (airbench evaluates once, at the end). Not part of the plan: a resume sets it again.
    public private(set) var evaluationInterval = 1

    /// Sets `evaluationInterval`. plateau with a validation split steps on every epoch's validation
    /// loss, so it needs every epoch evaluated.
    public func evaluate(every interval: Int) throws {
        guard interval >= 1 else { throw SettingError("eval_every", "must be at least 1 epoch, got \(interval)") }
        if interval > 1, validationLoader != nil, try OptimizerSpec.parse(plan.optimizer).schedule?.needsLoss == true {
            throw SettingError("eval_every", "must be 1 with plateau and a validation split (plateau steps on every epoch's validation loss), got \(interval)")
        }
        evaluationInterval = interval
    }

    /// Completed epochs.
    public var completedEpochs: Int { position.epoch }
    /// Optimizer steps since the run's start, earlier sessions included.
    public var stepsTaken: Int { position.epoch * trainLoader.batchCount + position.batch }
    public var isFinished: Bool { position.epoch >= plan.epochs }
    /// Seconds of training and evaluation so far, earlier sessions included.
    public var seconds: Double { earlierSeconds + sessionClock.timeIntervalSinceNow * -1 }
    private let sessionClock = Date()

    /// Records the weights now and after every `every`-th step of the run from here on; a resumed
    /// run that recorded already continues its record as it was.
    public func recordIterates(every: Int) throws {
        guard every >= 1 else { throw SettingError("every", "must be at least 1, got \(every)") }
        if let saved = iterateRecord?.every {
            guard saved == every else { throw TrainingError.plan("this run recorded its iterates every \(saved) steps, not every \(every)") }
            return
        }
        iterateRecord = IterateRecord(every: every, steps: [], iterates: [])
        iterateRecord?.append(stepsTaken, network)
    }

    public enum EpochOutcome: Equatable {
        case finished(EpochMetrics)
        /// Cancelled: stopped between two steps; the position says where to continue.
        case interrupted
    }

    /// Trains the rest of the current epoch and evaluates on the validation split (if any) and the
    /// test set (after every `evaluationInterval`-th epoch and the last); advances the schedule
    /// after every batch (onecycle, cyclic) or after the evaluation, plateau with the epoch's
    /// validation loss (the training loss without a validation split; never the test loss).
    /// `progress` is told how many images each step trained; `cancellation` is checked before
    /// every step. Throws `TrainingError.diverged` on a non-finite loss, before that step changes
    /// any weight.
    public func trainEpoch(progress: (any ProgressObserver)? = nil, cancellation: Cancellation? = nil) throws -> EpochOutcome {
        defer { progress?.finish() }
        let epoch = position.epoch
        for batch in trainLoader.batches(epoch: epoch, startingAt: position.batch) {
            if cancellation?.isRequested == true { return .interrupted }
            let images = inputs.tensor(batch.images)
            let logits = try network.forward(images, training: true)
            let loss = try criterion(logits, batch.labels)
            guard loss.isFinite else { throw TrainingError.diverged(epoch: epoch + 1, batch: position.batch + 1, loss: loss) }
            // Counted before a closure's evaluations reuse the logits tensor.
            let correct = Self.correctCount(logits, batch.labels)
            if optimizer.needsClosure {
                // torch's step(closure) on the same batch: the first evaluation is the forward above,
                // later ones (SAM's perturbed point, LBFGS's iterations) evaluate the batch again.
                var evaluated = false
                try optimizer.step {
                    let value = evaluated ? try criterion(network.forward(images, training: true), batch.labels) : loss
                    evaluated = true
                    network.backward(criterion.gradient)
                    return Double(value)
                }
            } else {
                network.backward(criterion.gradient)
                optimizer.step()
            }
            if stepsSchedulePerBatch { try scheduleStep() }
            position.lossSum += Double(loss) * Double(batch.labels.count)
            position.correct += correct
            position.seen += batch.labels.count
            position.batch += 1
            if let stateAverage { Self.lookahead(stateAverage, network, after: stepsTaken, of: plan.epochs * trainLoader.batchCount) }
            if let every = iterateRecord?.every, stepsTaken % every == 0 { iterateRecord?.append(stepsTaken, network) }
            progress?.advance(by: batch.labels.count)
        }
        // Both at the evaluation weights (schedule-free's x, batch-norm statistics recomputed once).
        let last = epoch + 1 == plan.epochs
        let augmented = plan.testTimeAugmentation && last
        let (validation, test) = last || (epoch + 1) % evaluationInterval == 0 ? try withEvaluationWeights {
            (try validationLoader.map { try Self.evaluate(network, on: $0, criterion: criterion, inputs: inputs, augmented: augmented) },
             try testLoader.map { try Self.evaluate(network, on: $0, criterion: criterion, inputs: inputs, augmented: augmented) })
        } : (nil, nil)
        let trainLoss = position.lossSum / Double(max(1, position.seen))
        if !stepsSchedulePerBatch { try scheduleStep(loss: validation?.loss ?? trainLoss) }
        let metrics = EpochMetrics(epoch: epoch + 1, trainLoss: trainLoss,
                                   trainAccuracy: Double(position.correct) / Double(max(1, position.seen)),
                                   validationLoss: validation?.loss, validationAccuracy: validation?.report.accuracy,
                                   testLoss: test?.loss, testAccuracy: test?.report.accuracy, seconds: seconds)
        history.append(metrics)
        position = Position(epoch: epoch + 1)
        return .finished(metrics)
    }

    /// airbench's lookahead schedule: after every 5th step t of T the average moves with decay
    /// 0.95⁵·(t/T)³ (little averaging early, more as the rate anneals); after the last step the
    /// model takes the average.
    static func lookahead(_ average: StateAverage, _ network: Network, after step: Int, of total: Int) {
        if step % 5 == 0 { average.update(network, decay: Float(pow(0.95, 5) * pow(Double(step) / Double(total), 3))) }
        if step == total { average.update(network, decay: 1) }
    }

    /// A onecycle schedule shorter than the run fails here, as torch's does.
    private func scheduleStep(loss: Double? = nil) throws {
        do { try optimizer.scheduleStep(loss: loss) } catch let error as OptimError { throw TrainingError.plan("\(error)") }
    }

    /// Mean loss and the evaluation report of the network in eval mode on the test set (with the
    /// plan's test-time augmentation). A schedule-free optimizer's model is evaluated at its x
    /// weights, with the batch-norm statistics recomputed for them (`recomputeBatchNormStatistics`),
    /// as its package says.
    public func evaluate() throws -> (loss: Double, report: EvaluationReport) {
        guard let testLoader else { throw TrainingError.plan("this run was made without the test set: it is validated only") }
        return try withEvaluationWeights {
            try Self.evaluate(network, on: testLoader, criterion: criterion, inputs: inputs, augmented: plan.testTimeAugmentation)
        }
    }

    /// Runs `body` with the weights the model is evaluated at (schedule-free: x, batch-norm
    /// statistics recomputed for them first); the weights training continues from are put back.
    func withEvaluationWeights<R>(_ body: () throws -> R) throws -> R {
        guard optimizer.hasEvaluationPoint else { return try body() }
        return try optimizer.withEvaluationValues {
            try recomputeBatchNormStatistics()
            return try body()
        }
    }

    /// Batches of training-mode forward passes that refresh batch norm's running statistics
    /// for the current weights (the schedulefree README's recipe, 50 batches).
    static let batchNormRecomputeBatches = 50

    private func recomputeBatchNormStatistics() throws {
        guard network.stateShapes.contains(where: { $0.name.hasSuffix("running_mean") }) else { return }
        for batch in trainLoader.batches(epoch: position.epoch).prefix(Self.batchNormRecomputeBatches) {
            _ = try network.forward(inputs.tensor(batch.images), training: true)
        }
    }

    /// Evaluation images (test or validation) in file order, normalised as the training images were.
    public static func testLoader(_ test: Dataset, _ normalization: InputNormalization) -> DataLoader {
        DataLoader(test, batchSize: evaluationBatch, transforms: [normalization.transform])
    }

    /// `augmented`: logits averaged over `TestTimeAugmentation.views` (six forward passes a batch).
    public static func evaluate(_ network: Network, on loader: DataLoader, criterion: CrossEntropyLoss = CrossEntropyLoss(),
                                inputs: InputTensors = InputTensors(), augmented: Bool = false) throws -> (loss: Double, report: EvaluationReport) {
        var lossSum: Double = 0
        var predictions: [Int] = [], labels: [Int] = []
        for batch in loader.batches(epoch: 0) {
            let logits = try augmented ? augmentedLogits(network, batch.images, inputs: inputs)
                                       : network.forward(inputs.tensor(batch.images), training: false)
            lossSum += Double(try criterion(logits, batch.labels)) * Double(batch.labels.count)
            predictions += argmax(logits)
            labels += batch.labels
        }
        let report = EvaluationReport(classNames: loader.dataset.classNames, predictions: predictions, labels: labels)
        return (lossSum / Double(max(1, labels.count)), report)
    }

    /// The network's eval-mode logits averaged over the test-time views, weighted.
    static func augmentedLogits(_ network: Network, _ images: ImageBatch, inputs: InputTensors) throws -> Tensor {
        var sum: Tensor?
        for view in TestTimeAugmentation.views {
            let logits = try network.forward(inputs.tensor(TestTimeAugmentation.apply(view, to: images)), training: false)
            let total = sum ?? Tensor(shape: logits.shape)
            for i in 0..<logits.count { total[i] += view.weight * logits[i] }
            sum = total
        }
        return sum!
    }

    static func argmax(_ logits: Tensor) -> [Int] {
        let (rows, classes) = (logits.shape[0], logits.shape[1])
        return (0..<rows).map { row in
            let base = row * classes
            return (0..<classes).max { logits[base + $0] < logits[base + $1] }!
        }
    }

    static func correctCount(_ logits: Tensor, _ labels: [Int]) -> Int {
        zip(argmax(logits), labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
    }
}

/// A network's weights along a run: after every `every`-th optimizer step, and at whatever step
/// recording started (0 = the initial weights). `optlab landscape` draws them as a path.
public struct IterateRecord: Equatable, Sendable {
    public var every: Int
    /// The step each iterate was taken after.
    public var steps: [Int]
    /// The parameters as flat vectors (`ParameterSpace.values`).
    public var iterates: [[Float]]

    mutating func append(_ step: Int, _ network: Network) {
        steps.append(step)
        iterates.append(ParameterSpace.values(of: network))
    }
}

/// Network input tensors, one per batch size, refilled for every batch: the network caches its
/// prepared kernels per input tensor, so reusing them keeps every step on the fast path.
public final class InputTensors {
    private var tensors: [Int: Tensor] = [:]

    public init() {}

    func tensor(_ images: ImageBatch) -> Tensor {
        let tensor = tensors[images.count] ?? Tensor(shape: images.shape)
        tensors[images.count] = tensor
        _ = tensor.storage.update(fromContentsOf: images.pixels)
        return tensor
    }
}

extension TrainingPlan {
    /// Throws a `SettingError` (torch's keyword names) for a value no run can take.
    public func check() throws {
        guard epochs >= 1 else { throw SettingError("epochs", "must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw SettingError("batch_size", "must be at least 1, got \(batchSize)") }
        if let trainSubset, trainSubset < 1 { throw SettingError("train_subset", "must be at least 1, got \(trainSubset)") }
        guard (0...1).contains(labelSmoothing) else { throw SettingError("label_smoothing", "must be in [0, 1], got \(labelSmoothing)") }
        for (role, m) in learningRateMultipliers.sorted(by: { $0.key < $1.key }) {
            guard ParameterRole(rawValue: role) != nil else {
                throw SettingError("lr_multipliers", "unknown kind of parameter '\(role)'; valid: \(ParameterRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard m > 0 && m.isFinite else { throw SettingError("lr_multipliers", "\(role)=\(m) must be > 0") }
        }
        if let translation, !(0...8).contains(translation) {
            throw SettingError("translate", "must be in 0...8 pixels, got \(translation)")
        }
        if let batchNormMomentum, !(0...1).contains(batchNormMomentum) {
            throw SettingError("bn_momentum", "must be in [0, 1], got \(batchNormMomentum)")
        }
    }

    /// `norm-bias=64,bias=2` as learning-rate multipliers by kind of parameter; `none` is no multiplier.
    public static func multipliers(parsing text: String) throws -> [String: Double] {
        if text.trimmingCharacters(in: .whitespaces) == "none" { return [:] }
        var multipliers: [String: Double] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let m = Double(parts[1]) else {
                throw SettingError("lr_multipliers", "'\(item)' is not KIND=NUMBER, e.g. norm-bias=64")
            }
            guard multipliers.updateValue(m, forKey: parts[0]) == nil else { throw SettingError("lr_multipliers", "\(parts[0]) is given twice") }
        }
        let plan = TrainingPlan(model: "", optimizer: "", epochs: 1, batchSize: 1, augment: false, normalization: .tutorial,
                                learningRateMultipliers: multipliers)
        try plan.check()
        return multipliers
    }

    /// A plan from what the user gave, the rest from the model's recipe. A bare optimizer name
    /// (`sgd`, `adam`) gets the model's learning rate for it.
    public static func recipe(model: String = CIFARModels.defaultModel, optimizer: String? = nil, epochs: Int? = nil,
                              batchSize: Int? = nil, seed: UInt64 = 0, trainSubset: Int? = nil, validation: Int? = nil,
                              augment: Bool? = nil, translation: Int? = nil, alternatingFlips: Bool? = nil, testTimeAugmentation: Bool? = nil,
                              labelSmoothing: Float? = nil, patchWhitening: Bool? = nil, learningRateMultipliers: [String: Double]? = nil,
                              batchNormMomentum: Float? = nil, emaLookahead: Bool? = nil, comparing: Bool = false) throws -> TrainingPlan {
        guard CIFARModels.names.contains(model) else {
            throw TrainingError.plan("unknown model \(model) (known: \(CIFARModels.names.joined(separator: ", ")))")
        }
        let recipe = CIFARModels.recipe(for: model)
        let epochs = epochs ?? (comparing ? recipe.compareEpochs : recipe.epochs)
        let spec = CIFARModels.withDefaultLearningRate(try OptimizerSpec.parse(optimizer ?? recipe.optimizer(epochs)), model: model)
        return TrainingPlan(model: model, optimizer: spec.description, epochs: epochs, batchSize: batchSize ?? recipe.batchSize,
                            seed: seed, trainSubset: trainSubset, validation: try validation.map { try ValidationSplit(count: $0) },
                            augment: augment ?? recipe.augment, translation: translation ?? recipe.translation, alternatingFlips: alternatingFlips ?? recipe.alternatingFlips,
                            testTimeAugmentation: testTimeAugmentation ?? recipe.testTimeAugmentation,
                            labelSmoothing: labelSmoothing ?? recipe.labelSmoothing, normalization: recipe.normalization,
                            patchWhitening: patchWhitening ?? recipe.patchWhitening,
                            learningRateMultipliers: learningRateMultipliers ?? recipe.learningRateMultipliers,
                            batchNormMomentum: batchNormMomentum ?? recipe.batchNormMomentum,
                            emaLookahead: emaLookahead ?? recipe.emaLookahead)
    }
}

extension Trainer {
    /// How a run ended when it did not throw.
    public enum RunOutcome: Equatable {
        case finished
        /// Cancelled: the checkpoint (if any) holds the position to resume from.
        case interrupted(epoch: Int, batch: Int)
    }

    /// Where each epoch's progress goes: given the epoch (1-based), the planned epochs and the
    /// images still to train in it, a reporter for them (the CLI's is a progress bar).
    public typealias EpochProgress = (_ epoch: Int, _ epochs: Int, _ images: Int) -> any ProgressObserver

    /// Trains the remaining epochs, writing `checkpoint` after every epoch and when cancelled,
    /// and calls `report` after each epoch. A non-finite loss throws `TrainingError.diverged`
    /// and leaves the last good checkpoint in place.
    public func run(checkpoint: URL?, progress: EpochProgress? = nil, cancellation: Cancellation? = nil,
                    report: (EpochMetrics) -> Void) throws -> RunOutcome {
        while !isFinished {
            let reporter = progress?(completedEpochs + 1, plan.epochs, trainLoader.imagesPerEpoch - position.batch * plan.batchSize)
            let outcome = try trainEpoch(progress: reporter, cancellation: cancellation)
            if let checkpoint { try Checkpoint.save(self, to: checkpoint) }
            switch outcome {
            case .finished(let metrics): report(metrics)
            case .interrupted: return .interrupted(epoch: completedEpochs + 1, batch: position.batch)
            }
        }
        return .finished
    }
}
