/// Everything optlab knows about optimization algorithms is registered here: one line per
/// algorithm file. Adding an optimizer is that file plus its line in `Algorithms.all`.
enum Algorithms {
    static let all: [Algorithm] = [
        SGDOptions.algorithm, AdagradOptions.algorithm, RMSpropOptions.algorithm, AdadeltaOptions.algorithm,
        AdamOptions.algorithm, NAdamOptions.algorithm, RAdamOptions.algorithm, AdamaxOptions.algorithm,
        RpropOptions.algorithm, ASGDOptions.algorithm, AdafactorOptions.algorithm, MuonOptions.algorithm, LBFGSOptions.algorithm,
        LionOptions.algorithm, ScheduleFreeOptions.algorithm, ProdigyOptions.algorithm,
        SAMOptions.algorithm, LookaheadOptions.algorithm,
    ]

    /// Spec names, in registration order.
    static let names = all.flatMap(\.names)

    static func named(_ name: String) -> Algorithm? { all.first { $0.names.contains(name) } }
}

/// An algorithm's names and how to read its options from a spec.
struct Algorithm: Sendable {
    /// The spec names it answers to (`adam` and `adamw`: AdamW is Adam with decoupled decay).
    let names: [String]
    /// Reads the keyword arguments of the spec name given, with torch's defaults and checks.
    let read: @Sendable (_ name: String, _ reader: inout ArgumentReader) throws -> any AlgorithmOptions
    /// Whether it wraps a base=SPEC (sam, lookahead).
    var wraps = false
}

/// What OneCycleLR's cycle_momentum sets in an algorithm: torch's `momentum` or `betas[0]`.
enum CycledMomentum { case momentum, beta1 }

/// The hyperparameters of one algorithm, read from a spec with torch's defaults. The rule
/// constructors are written out for Float and Double in each algorithm's file: there Scalar is
/// concrete, so its update loops are compiled specialised.
protocol AlgorithmOptions: Sendable {
    var lr: Double { get set }
    /// What a onecycle schedule may cycle; nil if the algorithm has neither momentum nor betas.
    var cycledMomentum: CycledMomentum? { get }
    mutating func setMomentum(_ m: Double)
    /// Whether each parameter's update depends on that parameter alone. Sweeps step many paths
    /// as the parameters of one optimizer, which is right only then; a rule that takes a global
    /// norm (SAM, Prodigy) or flattens all parameters into one vector (LBFGS) is not separable.
    var isSeparable: Bool { get }
    /// Whether a step evaluates the loss more than once (SAM, LBFGS): `Optimizer.step(closure:)`.
    var needsClosure: Bool { get }
    /// Whether the model is evaluated elsewhere than at the iterate (schedule-free's x).
    var hasEvaluationPoint: Bool { get }
    /// What its learning rate multiplies, which decides the rates worth tuning over.
    var learningRateFamily: LearningRateFamily { get }
    /// The torch name of a state buffer that holds a second point worth drawing beside the
    /// iterate (ASGD's averaged `ax`); nil for most.
    var averagedPoint: String? { get }
    func rule(_ parameters: [Parameter<Float>]) throws -> AnyRule<Float>
    func rule(_ parameters: [Parameter<Double>]) throws -> AnyRule<Double>
}

extension AlgorithmOptions {
    var cycledMomentum: CycledMomentum? { nil }
    mutating func setMomentum(_ m: Double) { preconditionFailure("OptimizerSpec rejects cycle_momentum for algorithms without momentum") }
    var isSeparable: Bool { true }
    var needsClosure: Bool { false }
    var hasEvaluationPoint: Bool { false }
    var learningRateFamily: LearningRateFamily { .perCoordinate }
    var averagedPoint: String? { nil }
}

/// Algorithms grouped by the scale of their learning rate: the default log-spaced range a tuning
/// searches (`optlab cifar --tune`), DeepOBS's and AlgoPerf's ranges for the two classic families.
public enum LearningRateFamily: String, Sendable, CaseIterable {
    /// The step is the rate times the gradient (or momentum of it): sgd, asgd, sgd_schedulefree, muon.
    case gradient
    /// The step is normalised per coordinate (the Adam family, rmsprop, adagrad, rprop, adafactor).
    case perCoordinate
    /// The step is the rate times a sign (lion): a tenth of Adam's rates.
    case sign
    /// The rate multiplies a step the algorithm estimates itself (adadelta, prodigy, lbfgs): about 1.
    case multiplier

    public var tuningRange: ClosedRange<Double> {
        switch self {
        case .gradient: 1e-4...1
        case .perCoordinate: 1e-5...1e-1
        case .sign: 1e-6...1e-2
        case .multiplier: 1e-2...10
        }
    }
}

/// A wrapper's options (sam, lookahead): a base spec whose rule it holds, and whose learning
/// rate and cycled momentum are the wrapper's, as the wrapped optimizer shares its parameter
/// groups with its base in torch.
protocol WrapperOptions: AlgorithmOptions {
    var base: OptimizerSpec { get set }
}

extension WrapperOptions {
    var lr: Double {
        get { base.options.lr }
        set { base.setLearningRate(newValue) }
    }
    var cycledMomentum: CycledMomentum? { base.options.cycledMomentum }
    var learningRateFamily: LearningRateFamily { base.options.learningRateFamily }
    mutating func setMomentum(_ m: Double) { base.setMomentum(m) }
    var averagedPoint: String? { base.options.averagedPoint }
}

/// A wrapper's rule: its own buffers (saved under their names) and its base rule's.
protocol WrapperRule: UpdateRule {
    var base: AnyRule<Scalar> { get }
    var ownBuffers: [StateBuffers<Scalar>] { get }
}

extension WrapperRule {
    var buffers: [StateBuffers<Scalar>] { ownBuffers + base.rule.buffers }
    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] { base.rule.scalarState(i) }
    func restore(t: Int, scalars: [[String: Scalar]]) { base.rule.restore(t: t, scalars: scalars) }
    func setMomentum(_ m: Double) { base.rule.setMomentum(m) }
    var hasEvaluationPoint: Bool { base.rule.hasEvaluationPoint }
    func setEvaluationValues(_ parameters: [Parameter<Scalar>]) { base.rule.setEvaluationValues(parameters) }
}

extension ArgumentReader {
    /// A wrapper's required base=SPEC: any optimizer spec without a schedule of its own.
    mutating func base() throws -> OptimizerSpec {
        guard let call = try call("base") else {
            throw OptimError("\(owner): missing base=SPEC (required), the optimizer it wraps, e.g. base=sgd(lr=0.1); valid: \(OptimizerSpec.names.joined(separator: ", "))")
        }
        let spec = try OptimizerSpec(call)
        guard spec.schedule == nil else {
            throw OptimError("\(owner): base=\(call.name) has a schedule; give schedule= to \(owner) instead (it schedules the base's learning rate)")
        }
        return spec
    }
}
