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
/// group's. So one optimizer steps many 2-D paths at different rates in one loop. And parameter i
/// may have a learning-rate multiplier (airbench's ×64 for batch-norm biases): parameters of
/// one multiplier m form a group, stepped at m times the rate any schedule sets (onecycle and
/// cyclic included) with its weight_decay divided by m, so that its decay per step γλ stays the
/// spec's (airbench's `bias_scaler`).
///
/// A onecycle schedule also sets the momentum (SGD, RMSprop) or β₁ (Adam family) before every
/// step, as torch's OneCycleLR writes it into the parameter group.
public final class Optimizer<Scalar: BinaryFloatingPoint> {
    public let spec: OptimizerSpec
    public let parameters: [Parameter<Scalar>]
    /// One rule per learning-rate multiplier (a single group without multipliers).
    private let groups: [Group]
    /// With multipliers, parameter i's group and its index within that group (`place(_:)`).
    private let location: [(group: Int, index: Int)]
    /// Without multipliers (`grouped` false) the only group's rule, stepped in place: copying a
    /// group or a rule out of an array or an optional retains its references, and building the
    /// groups' index tables for every optimizer a sweep makes, together cost a 2-D path 40 % of its steps.
    private let rule: AnyRule<Scalar>
    private let grouped: Bool
    // Mutated every step: a dynamic exclusivity check costs more than updating a 2-D point, and
    // these are only touched from step(), scheduleStep() and loadState().
    @exclusivity(unchecked) var schedule: LRSchedule
    @exclusivity(unchecked) public private(set) var stepCount = 0

    /// Parameters stepped by one rule: those of one learning-rate multiplier.
    private struct Group {
        let rule: AnyRule<Scalar>
        let parameters: [Parameter<Scalar>]
        /// Their indices in `Optimizer.parameters` (with multipliers only: else every parameter).
        let members: [Int]
        let multiplier: Double
    }

    /// `learningRates[i]`, if given, replaces the spec's lr for parameter i (with onecycle or
    /// cyclic, which set every rate from their own options, the rates must all be the same).
    /// `multipliers[i]`, if given, multiplies parameter i's scheduled rate and divides its
    /// weight_decay (see above). Scalar must be Float or Double.
    public init(_ spec: OptimizerSpec, parameters: [Parameter<Scalar>], learningRates: [Double]? = nil,
                multipliers: [Double]? = nil) throws {
        // A sweep makes an optimizer per block of 64 paths: the checks must cost nothing when
        // they pass (naming every parameter up front took a tenth of SGD's sweep).
        for (i, p) in parameters.enumerated() where p.grad.count != p.value.count || p.shape.reduce(1, *) != p.value.count {
            let name = p.name.isEmpty ? "parameter \(i)" : "parameter \(i) '\(p.name)'"
            if p.grad.count != p.value.count { throw OptimError("\(name) has \(p.value.count) values but \(p.grad.count) gradients") }
            throw OptimError("\(name) has \(p.value.count) values but shape \(p.shape)")
        }
        let options = spec.options
        if let lr = (learningRates ?? [options.lr]).first(where: { !($0 >= 0 && $0.isFinite) }) {
            throw OptimError("\(spec.name): lr=\(SpecValue.format(lr)) must be ≥ 0")
        }
        if let learningRates, learningRates.count != parameters.count {
            throw OptimError("\(learningRates.count) learning rates for \(parameters.count) parameters")
        }
        if let learningRates, let schedule = spec.schedule, let source = schedule.ratesSetFrom, Set(learningRates).count > 1 {
            throw OptimError("\(spec.name): \(schedule.name) sets every learning rate from its \(source), so rates per parameter (a learning-rate sweep) would all be the same")
        }
        var distinct: [Double] = []
        if let multipliers {
            if multipliers.count != parameters.count {
                throw OptimError("\(multipliers.count) learning-rate multipliers for \(parameters.count) parameters")
            }
            if let m = multipliers.first(where: { !($0 > 0 && $0.isFinite) }) {
                throw OptimError("learning-rate multiplier \(SpecValue.format(m)) must be > 0")
            }
            for m in multipliers where !distinct.contains(m) { distinct.append(m) }
            if distinct.count > 1, options.needsClosure {
                throw OptimError("\(spec.name) evaluates the loss for all parameters at once in its step, so groups of parameters with learning-rate multipliers of their own cannot each take theirs")
            }
        }
        self.spec = spec
        self.parameters = parameters
        schedule = try LRSchedule(spec.schedule?.schedule,
                                  baseLRs: learningRates ?? Array(repeating: options.lr, count: parameters.count))
        let momentum = schedule.momentum
        func group(_ m: Double, _ members: [Int]) throws -> Group {
            // Like OneCycleLR and CyclicLR, which write their momentum into the group before the optimizer's first
            // step creates any state: SGD and RMSprop then keep a momentum buffer even if the spec had none.
            var initial = try m == 1 ? options : spec.dividingWeightDecay(by: m).options
            if let momentum { initial.setMomentum(momentum) }
            let subset = multipliers == nil ? parameters : members.map { parameters[$0] }
            return Group(rule: try AnyRule(initial, subset), parameters: subset, members: members, multiplier: m)
        }
        if let multipliers {
            groups = try distinct.map { m in try group(m, multipliers.indices.filter { multipliers[$0] == m }) }
            var location = Array(repeating: (group: 0, index: 0), count: parameters.count)
            for (g, group) in groups.enumerated() {
                for (j, i) in group.members.enumerated() { location[i] = (g, j) }
            }
            self.location = location
        } else {
            groups = [try group(1, [])]
            location = []
        }
        self.multipliers = multipliers
        rule = groups[0].rule
        grouped = multipliers != nil
        needsClosure = options.needsClosure
        hasEvaluationPoint = options.hasEvaluationPoint
        averagedPoint = options.averagedPoint
    }

    private let multipliers: [Double]?

    /// Parameter i's group and its index within that group.
    private func place(_ i: Int) -> (group: Int, index: Int) { grouped ? location[i] : (0, i) }

    /// The learning rate of every parameter for the next `step()` (multipliers applied).
    public var learningRates: [Double] {
        guard let multipliers else { return schedule.learningRates }
        return zip(schedule.learningRates, multipliers).map { $0 * $1 }
    }

    /// The momentum (SGD, RMSprop) or β₁ (Adam family) a onecycle or cyclic schedule set for the next
    /// `step()`; nil when the schedule does not cycle it.
    public var momentum: Double? { schedule.momentum }

    /// Whether the algorithm evaluates the loss more than once per step (SAM, LBFGS), so only
    /// `step(closure:)` can step it.
    public let needsClosure: Bool

    /// One update of every parameter from the gradients already in `grad`. Algorithms that need
    /// more evaluations per step (`needsClosure`) must be stepped by `step(closure:)`.
    public func step() {
        precondition(!needsClosure, "\(spec.name) evaluates the loss several times per step: use step(closure:)")
        stepCount += 1
        if !grouped {
            if let m = schedule.momentum { rule.rule.setMomentum(m) }
            rule.step(parameters, schedule.learningRates, stepCount)
            return
        }
        for group in groups {
            if let m = schedule.momentum { group.rule.rule.setMomentum(m) }
            group.rule.step(group.parameters, rates(group), stepCount)
        }
    }

    /// The rates of a group's parameters for this step: the schedule's, times the multiplier.
    @inline(__always)
    private func rates(_ group: Group) -> [Double] {
        let scheduled = schedule.learningRates
        if !grouped { return scheduled }
        return group.members.map { scheduled[$0] * group.multiplier }
    }

    /// torch's `optimizer.step(closure)`: `closure` sets every `grad` to the gradient at the
    /// parameters' current values and returns the loss there. It is called first, as torch does,
    /// and again wherever the algorithm needs another evaluation (SAM: at the perturbed point;
    /// LBFGS: every line-search point).
    public func step(closure: () throws -> Double) throws {
        stepCount += 1
        // The initialiser refuses groups for algorithms that take a closure: one group steps all.
        let group = groups[0]
        if let m = schedule.momentum { group.rule.rule.setMomentum(m) }
        try withoutActuallyEscaping(closure) { closure in
            try group.rule.closureStep(group.parameters, rates(group), stepCount, closure)
        }
    }

    /// Whether the algorithm evaluates the model elsewhere than where it takes gradients
    /// (schedule-free: at x, a mean of the iterates, while gradients are taken at y).
    public let hasEvaluationPoint: Bool

    /// The torch name of the state buffer that holds a second point worth drawing beside the
    /// iterate (ASGD's averaged `ax`), read by `stateBuffer(named:parameter:)`; nil for most.
    public let averagedPoint: String?

    /// Parameter i's state buffer of torch name `name` (`exp_avg`, ASGD's `ax`, ...), nil if the
    /// algorithm keeps none for it. Read-only; its values change with every step.
    public func stateBuffer(named name: String, parameter i: Int) -> UnsafeBufferPointer<Scalar>? {
        let (g, j) = place(i)
        return groups[g].rule.rule.buffers.first { $0.name == name && $0.count(j) > 0 }.map { UnsafeBufferPointer($0[j]) }
    }

    /// Runs `body` with the parameters set to where the model is evaluated (torch's
    /// `optimizer.eval()` of schedule-free), then puts back the exact values stepping continues
    /// from. For other algorithms this is just `body()`.
    public func withEvaluationValues<R>(_ body: () throws -> R) rethrows -> R {
        guard hasEvaluationPoint else { return try body() }
        let saved = parameters.map { Array($0.value) }
        for group in groups { group.rule.rule.setEvaluationValues(group.parameters) }
        defer { for (p, v) in zip(parameters, saved) { _ = p.value.update(from: v) } }
        return try body()
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
        for i in parameters.indices {
            let (g, j) = place(i), base = groups[g].rule.rule
            tensors.append(("state.\(i).step", [], [Scalar(stepCount)]))
            for s in base.scalarState(j) { tensors.append(("state.\(i).\(s.name)", [], [s.value])) }
            for b in base.buffers where b.count(j) > 0 {
                tensors.append(("state.\(i).\(b.name)", [b[j].count], Array(b[j])))
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
        var expected: Set<String> = ["schedule.last_epoch"]
        let steps = parameters.isEmpty ? 0 : try count("state.0.step")
        var scalars: [[String: Scalar]] = []
        for i in parameters.indices {
            let (g, j) = place(i), base = groups[g].rule.rule
            expected.insert("state.\(i).step")
            guard try count("state.\(i).step") == steps else {
                throw OptimError("optimizer state: 'state.\(i).step' differs from 'state.0.step'")
            }
            var own: [String: Scalar] = [:]
            for s in base.scalarState(j) {
                expected.insert("state.\(i).\(s.name)")
                own[s.name] = try scalar("state.\(i).\(s.name)")
            }
            scalars.append(own)
            for b in base.buffers where b.count(j) > 0 {
                let name = "state.\(i).\(b.name)"
                expected.insert(name)
                guard let values = tensors[name] else { throw OptimError("optimizer state: missing tensor '\(name)'") }
                guard values.count == b[j].count else {
                    throw OptimError("optimizer state: '\(name)' has \(values.count) values, expected \(b[j].count)")
                }
            }
        }
        if let stray = tensors.keys.sorted().first(where: { ($0.hasPrefix("state.") || $0.hasPrefix("schedule.")) && !expected.contains($0) }) {
            throw OptimError("optimizer state: unexpected tensor '\(stray)' for \(spec.name)")
        }
        let replayed = try schedule.restored(lastEpoch: try count("schedule.last_epoch"), state: scheduleState)
        // All checks passed: now write, so a failed load leaves the optimizer untouched.
        for i in parameters.indices {
            let (g, j) = place(i)
            for b in groups[g].rule.rule.buffers where b.count(j) > 0 { _ = b[j].update(from: tensors["state.\(i).\(b.name)"]!) }
        }
        stepCount = steps
        for group in groups { group.rule.rule.restore(t: steps, scalars: grouped ? group.members.map { scalars[$0] } : scalars) }
        schedule = replayed
    }
}

/// What every algorithm's update rule provides: its state and its update loop. Rules are
/// classes generic over Scalar; each algorithm creates them where Scalar is concrete
/// (`AlgorithmOptions.rule`), wrapped in an `AnyRule`, so the loops run specialised.
protocol UpdateRule<Scalar>: AnyObject {
    associatedtype Scalar: BinaryFloatingPoint
    /// State buffers under torch's names, one per parameter (a wrapper's own, then its base's).
    var buffers: [StateBuffers<Scalar>] { get }
    /// Parameter i's scalar state besides `step` (NAdam's mu_product, schedule-free's weight_sum).
    func scalarState(_ i: Int) -> [(name: String, value: Scalar)]
    /// Resets what depends on the step count (running products) and the scalar state to their
    /// values after t steps, as stepping computed them. Buffers are already loaded.
    func restore(t: Int, scalars: [[String: Scalar]])
    /// Sets what onecycle cycles: the momentum or β₁ (only called for algorithms whose options
    /// say they have one).
    func setMomentum(_ m: Double)
    /// One update from the gradients in the parameters; parameter i at learning rate lr[i].
    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int)
    /// `Optimizer.step(closure:)`: by default one evaluation, then `step`.
    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int, closure: () throws -> Double) throws
    var hasEvaluationPoint: Bool { get }
    /// Overwrites the parameters with the evaluation point (only if `hasEvaluationPoint`).
    func setEvaluationValues(_ parameters: [Parameter<Scalar>])
}

extension UpdateRule {
    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] { [] }
    func restore(t: Int, scalars: [[String: Scalar]]) {}
    func setMomentum(_ m: Double) { preconditionFailure("OptimizerSpec rejects cycle_momentum for algorithms without momentum") }
    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int, closure: () throws -> Double) throws {
        _ = try closure()
        step(parameters, lr: lr, t: t)
    }
    var hasEvaluationPoint: Bool { false }
    func setEvaluationValues(_ parameters: [Parameter<Scalar>]) {}
}

/// An update rule with its step loops bound where its type is concrete: the closures are
/// created in a specialised context, so calling them runs the Float or Double loop directly (a
/// call through `any UpdateRule` would run the generic, unspecialised code).
struct AnyRule<Scalar: BinaryFloatingPoint> {
    let rule: any UpdateRule<Scalar>
    let step: ([Parameter<Scalar>], [Double], Int) -> Void
    let closureStep: ([Parameter<Scalar>], [Double], Int, () throws -> Double) throws -> Void

    init<R: UpdateRule>(_ rule: R) where R.Scalar == Scalar {
        self.rule = rule
        step = { rule.step($0, lr: $1, t: $2) }
        closureStep = { try rule.step($0, lr: $1, t: $2, closure: $3) }
    }

    /// The options' rule for Scalar = Float or Double.
    init(_ options: any AlgorithmOptions, _ parameters: [Parameter<Scalar>]) throws {
        if Scalar.self == Double.self {
            self = unsafeBitCast(try options.rule(unsafeBitCast(parameters, to: [Parameter<Double>].self)), to: Self.self)
        } else if Scalar.self == Float.self {
            self = unsafeBitCast(try options.rule(unsafeBitCast(parameters, to: [Parameter<Float>].self)), to: Self.self)
        } else {
            throw OptimError("optimizers step Float or Double parameters, not \(Scalar.self)")
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
