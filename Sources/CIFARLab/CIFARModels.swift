import NN
import Optim

/// The CIFAR-10 models `train`, `evaluate` and `cifar` know (NN's built-ins and this lab's own
/// `labnet`), and for each the recipe used when a flag is left out.
public enum CIFARModels {
    /// The lab's own design, the default model.
    public static let defaultModel = "labnet"

    /// `labnet`: a compact residual network in the style of the fast CIFAR-10 training records
    /// (Page's ResNet-9, Keller Jordan's airbench), narrowed for a 2-core CPU. Each stage is
    /// conv 3×3 → max-pool 2 → batch-norm → ReLU (pooling before the norm halves its cost), two
    /// stages add a residual BasicBlock; global average pool and a linear layer end it.
    ///
    ///     prep    conv 3→w            32×32
    ///     layer1  conv w→2w, pool      16×16   + BasicBlock(2w)
    ///     layer2  conv 2w→4w, pool     8×8
    ///     layer3  conv 4w→8w, pool     4×4     + BasicBlock(8w)
    ///     head    avg-pool, linear 8w→10
    static func labnet(width w: Int) -> @Sendable () -> Module {
        {
            func stage(_ input: Int, _ output: Int, pool: Bool, residual: Bool) -> Module {
                var layers: [Module] = [Conv2d(input, output, kernel: 3, padding: 1, bias: false)]
                if pool { layers.append(MaxPool2d(2)) }
                layers += [BatchNorm2d(output), ReLU(inPlace: true)]
                if residual { layers.append(BasicBlock(output, output)) }
                return Sequential(layers)
            }
            return Sequential(named: [
                ("prep", stage(3, w, pool: false, residual: false)),
                ("layer1", stage(w, 2 * w, pool: true, residual: true)),
                ("layer2", stage(2 * w, 4 * w, pool: true, residual: false)),
                ("layer3", stage(4 * w, 8 * w, pool: true, residual: true)),
                ("pool", AdaptiveAvgPool2d()), ("flatten", Flatten()),
                ("fc", Linear(8 * w, 10)),
            ])
        }
    }

    private static let registration: Void = {
        Models.register(defaultModel, labnet(width: 16))
    }()

    public static var names: [String] {
        _ = registration
        return Models.names
    }

    /// A freshly initialised network (PyTorch's default initialisation from `seed`).
    public static func make(_ name: String, seed: UInt64) throws -> Network {
        _ = registration
        return try Models.make(name, seed: seed)
    }

    /// Per-model defaults: what a PyTorch user would pick for that network.
    public struct Recipe: Sendable {
        public var epochs: Int
        /// Epochs per run in `optlab cifar --compare`, which trains one run per optimizer.
        public var compareEpochs: Int
        public var batchSize: Int
        /// The optimizer `train` uses by default, for a run of the given number of epochs.
        public var optimizer: @Sendable (_ epochs: Int) -> String
        /// Learning rates for bare optimizer names (`sgd`, `adam`) by torch algorithm name; asgd,
        /// plain SGD with an average beside it, takes SGD's (at torch's 0.01 it trains labnet slower);
        /// rprop's initial step on labnet is a tenth of torch's (README, "On labnet").
        public var learningRates: [String: Double]
        public var augment: Bool
        public var translation: Int? = nil
        public var alternatingFlips = false
        public var testTimeAugmentation = false
        public var labelSmoothing: Float
        public var normalization: TrainingPlan.Normalization
        public var patchWhitening = false
        public var learningRateMultipliers: [String: Double] = [:]
        public var batchNormMomentum: Float? = nil
        public var emaLookahead = false
    }

    public static func recipe(for model: String) -> Recipe {
        switch model {
        case "tutorial":
            // The tutorial's SGD(lr=0.001, momentum=0.9) at batch 4, scaled to batch 32.
            return Recipe(epochs: 4, compareEpochs: 4, batchSize: 32, optimizer: { _ in "sgd(lr=0.01,momentum=0.9)" },
                          learningRates: ["sgd": 0.01, "asgd": 0.01, "adam": 1e-3, "muon": 0.02, "lion": 1e-4, "adamw_schedulefree": 1e-3], augment: false, labelSmoothing: 0, normalization: .tutorial)
        case defaultModel:
            // One cycle per run, stepped every batch (Page's ResNet-9 recipe), with torch's
            // OneCycleLR defaults: a run of any length ends annealed, a single epoch included.
            // Lengths fit the time goals (15 min per run, 10 per two-way comparison) with about a
            // third to spare at ~47 s per epoch on two cores. airbench's alternating flips and
            // test-time augmentation (the last epoch's evaluation only) were chosen on a validation
            // split (README); its whitening layer, ×64 batch-norm bias rate and lookahead with fast
            // batch-norm momentum were tried the same way and did not gain in 4 epochs. Its
            // translation by 2 pixels (`--translate 2`) beat the crop there (2 seeds) and over 12
            // epochs (1 seed) and is what short runs should use; the crop stays until the figures
            // measured with it are measured again.
            return Recipe(epochs: 12, compareEpochs: 4, batchSize: 256, optimizer: { _ in "nesterov(lr=0.2,weight_decay=5e-4,schedule=onecycle(max_lr=0.2))" },
                          learningRates: ["sgd": 0.1, "asgd": 0.1, "rprop": 1e-3, "adam": 2e-3, "muon": 0.02, "lion": 3e-4, "adamw_schedulefree": 2e-3], augment: true,
                          alternatingFlips: true, testTimeAugmentation: true, labelSmoothing: 0.2, normalization: .dataset)
        case "airbench94":
            // airbench94's recipe, less the freezing of the whitening bias after 3 epochs (a speed
            // measure) and with 12 epochs for its 9.9 (chosen on the validation split, README).
            // Nesterov SGD, momentum 0.85, airbench's lr 10 and weight decay 0.015 per 1024 examples
            // for a summed loss, here for a mean loss over batches of 1000: lr 10/(1024·(1 + 1/0.15))
            // ·1000 = 1.2738 and weight_decay 0.015·1000/(1024·(1 + 1/0.15))/lr/1000 = 1.5e-3 (the
            // same step); ×64 for batch-norm biases; a linear one-cycle from 0.2× the peak, peaking
            // at 20 %, down to ~0; translate 2 with reflection, alternating flips, label smoothing
            // 0.2, whitening from 5,000 images, its lookahead with batch-norm momentum 0.4 (its 0.6),
            // test-time augmentation. Bare optimizer names take labnet's rates (untuned here).
            return Recipe(epochs: 12, compareEpochs: 4, batchSize: 1000,
                          optimizer: { _ in "nesterov(lr=1.2738,momentum=0.85,weight_decay=1.5e-3,schedule=onecycle(max_lr=1.2738,pct_start=0.2,anneal_strategy=linear,div_factor=5,cycle_momentum=false))" },
                          learningRates: recipe(for: defaultModel).learningRates, augment: true, translation: 2,
                          alternatingFlips: true, testTimeAugmentation: true, labelSmoothing: 0.2, normalization: .dataset,
                          patchWhitening: true, learningRateMultipliers: ["norm-bias": 64], batchNormMomentum: 0.4, emaLookahead: true)
        default:  // vgg-small, resnet18 and other batch-normed networks
            return Recipe(epochs: 10, compareEpochs: 3, batchSize: 128, optimizer: { "nesterov(lr=0.05,weight_decay=5e-4,schedule=cosine(T_max=\($0)))" },
                          learningRates: ["sgd": 0.05, "asgd": 0.05, "adam": 1e-3, "muon": 0.02, "lion": 1e-4, "adamw_schedulefree": 1e-3], augment: true, labelSmoothing: 0.1, normalization: .dataset)
        }
    }

    /// What a wrapper named without base= wraps in a comparison (`sam` → `sam(base=sgd(lr=0.1,momentum=0.9))`):
    /// SGD with momentum at the model's SGD rate, as the SAM paper trains.
    public static func defaultBase(model: String) -> String {
        "sgd(lr=\(recipe(for: model).learningRates["sgd"] ?? 0.01),momentum=0.9)"
    }

    /// The spec with the model's learning rate filled in when it names none (`sgd` → `sgd(lr=0.05)`).
    public static func withDefaultLearningRate(_ spec: OptimizerSpec, model: String) -> OptimizerSpec {
        guard !spec.hasExplicitLearningRate, let lr = recipe(for: model).learningRates[spec.name] else { return spec }
        return spec.with(learningRate: lr)
    }
}
