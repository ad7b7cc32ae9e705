import Foundation

/// Steps parameters with one torch.optim algorithm and its learning-rate schedule.
///
/// Every algorithm file documents its update rule in the same notation:
///
///     θ  parameter           g  gradient (negated first when maximize=true)
///     γ  learning rate (the schedule's current value)       t  step number, from 1
///     λ  weight_decay        μ  momentum        τ  dampening        ε  eps
///     m  exp_avg             v  exp_avg_sq      b  momentum_buffer
///     β₁, β₂  betas          ρ  rho (Adadelta)  α  alpha (RMSprop)
///
/// Numerics follow torch's CPU single-tensor path operation by operation: where torch's kernels
/// compute `x + a·y` they fuse it into one fma (its AVX2 kernels do, for add with alpha, addcmul
/// and lerp), so the same places here use `addingProduct`. Powers such as β₁ᵗ are running products
/// instead of `pow` calls: equal within a few ulps and much faster. On torch's float64 fixtures most
/// algorithms agree to the last bit; the Adam family within 3e-11 relative.
///
/// Of torch's parameter groups it keeps what a learning-rate sweep needs: parameter i may have a
/// learning rate of its own (γ above), which the schedule then scales as torch scales each
/// group's. So one optimizer steps many 2-D paths at different rates in one loop.
///
/// A onecycle schedule also sets the momentum (SGD, RMSprop) or β₁ (Adam family) before every
/// step, as torch's OneCycleLR writes it into the parameter group.
public final class Optimizer<Scalar: BinaryFloatingPoint> {
    public let spec: OptimizerSpec
    public let parameters: [Parameter<Scalar>]
    let rule: Rule<Scalar>
    // Mutated every step: a dynamic exclusivity check costs more than updating a 2-D point, and
    // these are only touched from step(), scheduleStep() and loadState().
    @exclusivity(unchecked) var schedule: LRSchedule
    @exclusivity(unchecked) public private(set) var stepCount = 0

    /// `learningRates[i]`, if given, replaces the spec's lr for parameter i (not with onecycle or
    /// cyclic, which set every rate from their own options).
    public init(_ spec: OptimizerSpec, parameters: [Parameter<Scalar>], learningRates: [Double]? = nil) throws {
        for (i, p) in parameters.enumerated() where p.grad.count != p.value.count {
            let name = p.name.isEmpty ? "parameter \(i)" : "parameter \(i) '\(p.name)'"
            throw OptimError("\(name) has \(p.value.count) values but \(p.grad.count) gradients")
        }
        let options = spec.options
        if let lr = (learningRates ?? [options.learningRate]).first(where: { !($0 >= 0 && $0.isFinite) }) {
            throw OptimError("\(spec.name): lr=\(SpecValue.format(lr)) must be ≥ 0")
        }
        if let learningRates, learningRates.count != parameters.count {
            throw OptimError("\(learningRates.count) learning rates for \(parameters.count) parameters")
        }
        if learningRates != nil, let schedule = spec.schedule, let source = schedule.ratesSetFrom {
            throw OptimError("\(spec.name): \(schedule.name) sets every learning rate from its \(source), so rates per parameter (a learning-rate sweep) would all be the same")
        }
        self.spec = spec
        self.parameters = parameters
        schedule = try LRSchedule(spec.schedule?.schedule,
                                  baseLRs: learningRates ?? Array(repeating: options.learningRate, count: parameters.count))
        // Like OneCycleLR and CyclicLR, which write their momentum into the group before the optimizer's first
        // step creates any state: SGD and RMSprop then keep a momentum buffer even if the spec had none.
        var initial = options
        if let m = schedule.momentum { initial.setMomentum(m) }
        rule = Rule(initial, parameters)
    }

    /// The learning rate of every parameter for the next `step()`.
    public var learningRates: [Double] { schedule.learningRates }

    /// The momentum (SGD, RMSprop) or β₁ (Adam family) a onecycle or cyclic schedule set for the next
    /// `step()`; nil when the schedule does not cycle it.
    public var momentum: Double? { schedule.momentum }

    /// One update of every parameter from its gradient.
    public func step() {
        stepCount += 1
        if let m = schedule.momentum { rule.setMomentum(m) }
        let lr = schedule.learningRates
        switch rule {
        case .sgd(let r): r.step(parameters, lr: lr, t: stepCount)
        case .adagrad(let r): r.step(parameters, lr: lr, t: stepCount)
        case .rmsprop(let r): r.step(parameters, lr: lr, t: stepCount)
        case .adadelta(let r): r.step(parameters, lr: lr, t: stepCount)
        case .adam(let r): r.step(parameters, lr: lr, t: stepCount)
        case .nadam(let r): r.step(parameters, lr: lr, t: stepCount)
        case .radam(let r): r.step(parameters, lr: lr, t: stepCount)
        case .adamax(let r): r.step(parameters, lr: lr, t: stepCount)
        }
    }

    /// Advances the learning-rate schedule once (torch's `scheduler.step()`; plateau's
    /// `step(loss)` needs the loss). Throws, as torch does, when a onecycle schedule would step
    /// beyond its total_steps.
    public func scheduleStep(loss: Double? = nil) throws { try schedule.advance(loss: loss) }

    /// The state as named flat tensors, torch's state_dict names: `state.<i>.<buffer>` for
    /// parameter i (`step`, the algorithm's buffers such as `exp_avg`, NAdam's `mu_product`) and
    /// `schedule.last_epoch`. Loading them back resumes bit-exactly: the schedule (a onecycle
    /// curve's rate and momentum included) is recomputed from last_epoch as stepping computed it,
    /// except plateau's, which is restored from `scheduleState`.
    public func stateTensors() -> [(name: String, shape: [Int], values: [Scalar])] {
        var tensors: [(name: String, shape: [Int], values: [Scalar])] = []
        let scalars = rule.base.scalarState
        for i in parameters.indices {
            tensors.append(("state.\(i).step", [], [Scalar(stepCount)]))
            for s in scalars { tensors.append(("state.\(i).\(s.name)", [], [s.value])) }
            for b in rule.base.buffers {
                tensors.append(("state.\(i).\(b.name)", [b[i].count], Array(b[i])))
            }
        }
        tensors.append(("schedule.last_epoch", [], [Scalar(schedule.lastEpoch)]))
        return tensors
    }

    /// What a schedule that depends on the losses it saw (plateau) keeps besides its step count,
    /// in float64 whatever `Scalar` is, under torch's state_dict names (`best`, `num_bad_epochs`,
    /// `cooldown_counter`, `lr`); empty for the schedules that replaying restores.
    public var scheduleState: [(name: String, values: [Double])] { schedule.state }

    /// Restores what `stateTensors()` and `scheduleState` saved. Every tensor this optimizer
    /// keeps must be present with the right size; other `state.*`/`schedule.*` names are rejected.
    public func loadState(_ tensors: [String: [Scalar]], scheduleState: [String: [Double]] = [:]) throws {
        func scalar(_ name: String) throws -> Scalar {
            guard let v = tensors[name] else { throw OptimError("optimizer state: missing tensor '\(name)'") }
            guard v.count == 1 else { throw OptimError("optimizer state: '\(name)' has \(v.count) values, expected 1") }
            return v[0]
        }
        func count(_ name: String) throws -> Int {
            let x = try scalar(name)
            guard x >= 0, x == x.rounded(), let n = Int(exactly: Double(x)) else {
                throw OptimError("optimizer state: '\(name)' = \(x) is not a step count")
            }
            return n
        }
        let base = rule.base
        var expected: Set<String> = ["schedule.last_epoch"]
        let steps = parameters.isEmpty ? 0 : try count("state.0.step")
        var scalars: [String: Scalar] = [:]
        for i in parameters.indices {
            expected.insert("state.\(i).step")
            guard try count("state.\(i).step") == steps else {
                throw OptimError("optimizer state: 'state.\(i).step' differs from 'state.0.step'")
            }
            for s in base.scalarState {
                expected.insert("state.\(i).\(s.name)")
                scalars[s.name] = try scalar("state.\(i).\(s.name)")
            }
            for b in base.buffers {
                let name = "state.\(i).\(b.name)"
                expected.insert(name)
                guard let values = tensors[name] else { throw OptimError("optimizer state: missing tensor '\(name)'") }
                guard values.count == b[i].count else {
                    throw OptimError("optimizer state: '\(name)' has \(values.count) values, expected \(b[i].count)")
                }
            }
        }
        if let stray = tensors.keys.sorted().first(where: { ($0.hasPrefix("state.") || $0.hasPrefix("schedule.")) && !expected.contains($0) }) {
            throw OptimError("optimizer state: unexpected tensor '\(stray)' for \(spec.name)")
        }
        let replayed = try schedule.restored(lastEpoch: try count("schedule.last_epoch"), state: scheduleState)
        // All checks passed: now write, so a failed load leaves the optimizer untouched.
        for i in parameters.indices {
            for b in base.buffers { _ = b[i].update(from: tensors["state.\(i).\(b.name)"]!) }
        }
        stepCount = steps
        base.restore(t: steps, scalars: scalars)
        schedule = replayed
    }
}

/// What every algorithm provides besides its update loop.
protocol UpdateRule<Scalar>: AnyObject {
    associatedtype Scalar: BinaryFloatingPoint
    /// Per-parameter state buffers, under torch's names.
    var buffers: [StateBuffers<Scalar>] { get }
    /// Per-parameter scalar state besides `step` (NAdam's mu_product).
    var scalarState: [(name: String, value: Scalar)] { get }
    /// Resets running products to their values after t steps, as stepping computed them.
    func restore(t: Int, scalars: [String: Scalar])
}

extension UpdateRule {
    var scalarState: [(name: String, value: Scalar)] { [] }
    func restore(t: Int, scalars: [String: Scalar]) {}
}

/// The concrete algorithm, as an enum so `Optimizer.step()` calls each update loop directly and
/// the compiler specializes it for Float and Double (a protocol call would run generic code).
enum Rule<Scalar: BinaryFloatingPoint> {
    case sgd(SGD<Scalar>)
    case adagrad(Adagrad<Scalar>)
    case rmsprop(RMSprop<Scalar>)
    case adadelta(Adadelta<Scalar>)
    case adam(Adam<Scalar>)
    case nadam(NAdam<Scalar>)
    case radam(RAdam<Scalar>)
    case adamax(Adamax<Scalar>)

    init(_ options: AlgorithmOptions, _ parameters: [Parameter<Scalar>]) {
        switch options {
        case .sgd(let o): self = .sgd(SGD(o, parameters))
        case .adagrad(let o): self = .adagrad(Adagrad(o, parameters))
        case .rmsprop(let o): self = .rmsprop(RMSprop(o, parameters))
        case .adadelta(let o): self = .adadelta(Adadelta(o, parameters))
        case .adam(let o): self = .adam(Adam(o, parameters))
        case .nadam(let o): self = .nadam(NAdam(o, parameters))
        case .radam(let o): self = .radam(RAdam(o, parameters))
        case .adamax(let o): self = .adamax(Adamax(o, parameters))
        }
    }

    /// Sets what onecycle cycles: SGD's and RMSprop's momentum, the Adam family's β₁.
    @inline(__always)
    func setMomentum(_ m: Double) {
        switch self {
        case .sgd(let r): r.momentum = m
        case .rmsprop(let r): r.momentum = m
        case .adam(let r): r.beta1.set(m)
        case .nadam(let r): r.beta1 = m
        case .radam(let r): r.beta1.set(m)
        case .adamax(let r): r.beta1.set(m)
        case .adagrad, .adadelta: preconditionFailure("OptimizerSpec rejects cycle_momentum for algorithms without momentum")
        }
    }

    var base: any UpdateRule<Scalar> {
        switch self {
        case .sgd(let r): r
        case .adagrad(let r): r
        case .rmsprop(let r): r
        case .adadelta(let r): r
        case .adam(let r): r
        case .nadam(let r): r
        case .radam(let r): r
        case .adamax(let r): r
        }
    }
}

extension AlgorithmOptions {
    var learningRate: Double {
        get {
            switch self {
            case .sgd(let o): o.lr
            case .adagrad(let o): o.lr
            case .rmsprop(let o): o.lr
            case .adadelta(let o): o.lr
            case .adam(let o): o.lr
            case .nadam(let o): o.lr
            case .radam(let o): o.lr
            case .adamax(let o): o.lr
            }
        }
        set {
            switch self {
            case .sgd(var o): o.lr = newValue; self = .sgd(o)
            case .adagrad(var o): o.lr = newValue; self = .adagrad(o)
            case .rmsprop(var o): o.lr = newValue; self = .rmsprop(o)
            case .adadelta(var o): o.lr = newValue; self = .adadelta(o)
            case .adam(var o): o.lr = newValue; self = .adam(o)
            case .nadam(var o): o.lr = newValue; self = .nadam(o)
            case .radam(var o): o.lr = newValue; self = .radam(o)
            case .adamax(var o): o.lr = newValue; self = .adamax(o)
            }
        }
    }
}

extension AlgorithmOptions {
    /// Whether torch's optimizer has `momentum` or `betas`, which OneCycleLR's cycle_momentum sets.
    var hasMomentum: Bool {
        switch self {
        case .adagrad, .adadelta: false
        case .sgd, .rmsprop, .adam, .nadam, .radam, .adamax: true
        }
    }

    /// Sets SGD's and RMSprop's momentum, the Adam family's β₁ (betas[0]).
    mutating func setMomentum(_ m: Double) {
        switch self {
        case .sgd(var o): o.momentum = m; self = .sgd(o)
        case .rmsprop(var o): o.momentum = m; self = .rmsprop(o)
        case .adam(var o): o.beta1 = m; self = .adam(o)
        case .nadam(var o): o.beta1 = m; self = .nadam(o)
        case .radam(var o): o.beta1 = m; self = .radam(o)
        case .adamax(var o): o.beta1 = m; self = .adamax(o)
        case .adagrad, .adadelta: preconditionFailure("OptimizerSpec rejects cycle_momentum for algorithms without momentum")
        }
    }
}

/// β₁ and β₁ᵗ for the Adam family's bias correction. torch computes `beta1 ** step` with the
/// group's current β₁; while β₁ is constant a running product equals it within a few ulps and is
/// much faster, so that is used until a schedule sets β₁ (onecycle), and from then on each step
/// takes the power anew, as torch does.
struct Beta1 {
    private(set) var value: Double
    /// β₁ᵗ after `advance(to: t)`.
    private(set) var power = 1.0
    private var cycled = false

    init(_ value: Double) { self.value = value }

    mutating func set(_ v: Double) {
        value = v
        cycled = true
    }

    /// Called once per step, t = 1, 2, …
    @inline(__always)
    mutating func advance(to t: Int) { power = cycled ? pow(value, Double(t)) : power * value }

    /// β₁ᵗ as t steps of a constant β₁ computed it (a cycled β₁ recomputes it at the next step).
    mutating func restore(t: Int) {
        power = 1
        for _ in 0..<t { power *= value }
    }
}

extension BinaryFloatingPoint {
    /// torch.lerp(self, end, w) as its CPU kernel computes it (fused on AVX2).
    @inline(__always)
    func lerp(to end: Self, weight w: Self) -> Self {
        abs(w) < 0.5 ? addingProduct(w, end - self) : end.addingProduct(w - 1, end - self)
    }

    /// torch.maximum: NaN wins, unlike Swift.max.
    @inline(__always)
    func maximum(_ other: Self) -> Self { self > other || isNaN ? self : other }
}
