/// An optimizer as typed on the command line or in an experiment file:
/// `adam(lr=0.1,betas=(0.8,0.99),schedule=step(step_size=10),label=fast adam)`.
/// Keys are torch's keyword names; a bare name takes torch's defaults; `momentum` and `nesterov`
/// are presets of `sgd`. Parsing validates everything, so a spec that parses builds an optimizer.
public struct OptimizerSpec: Equatable, CustomStringConvertible, Sendable {
    /// torch's algorithm name after presets resolve, e.g. "sgd" for `momentum`.
    public var name: String
    /// Display name: `label=` if given, else the spec as typed (or the preset name).
    public var label: String
    /// The algorithm's keyword arguments: a preset's first, then the typed ones (schedule and
    /// label excluded).
    public private(set) var arguments: [SpecArgument]
    public private(set) var schedule: ScheduleSpec?
    /// The hyperparameters with torch's defaults filled in, checked as torch checks them.
    private(set) var options: any AlgorithmOptions
    private var typed: SpecCall
    private var hasExplicitLabel: Bool

    /// The algorithm names the grammar accepts, presets included.
    public static let names = Algorithms.names + Array(presets.keys).sorted()

    static let presets: [String: [SpecArgument]] = [
        "momentum": [SpecArgument(key: "momentum", value: .number(0.9))],
        "nesterov": [SpecArgument(key: "momentum", value: .number(0.9)),
                     SpecArgument(key: "nesterov", value: .boolean(true))],
    ]

    public static func parse(_ text: String) throws -> OptimizerSpec {
        var parser = SpecParser(text)
        let calls = try parser.parseList()
        guard calls.count == 1 else {
            throw OptimError("spec \"\(text)\": expected one optimizer, found \(calls.count)")
        }
        return try OptimizerSpec(calls[0])
    }

    /// A comma-separated list at the top level: `sgd(lr=0.04),adam(lr=0.1)`.
    public static func parseList(_ text: String) throws -> [OptimizerSpec] {
        var parser = SpecParser(text)
        return try parser.parseList().map(OptimizerSpec.init)
    }

    /// As `parseList`, with `defaultBase` given to every wrapper (sam, lookahead) written without
    /// base=, as `optlab cifar --compare sam` gives it the model's SGD.
    public static func parseList(_ text: String, defaultBase: String) throws -> [OptimizerSpec] {
        var parser = SpecParser(text), baseParser = SpecParser(defaultBase)
        let base = try baseParser.parseCall()
        return try parser.parseList().map { call in
            guard Algorithms.named(call.name)?.wraps == true, !call.arguments.contains(where: { $0.key == "base" }) else {
                return try OptimizerSpec(call)
            }
            var completed = call
            completed.arguments.append(SpecArgument(key: "base", value: .call(base)))
            return try OptimizerSpec(completed)
        }
    }

    init(_ call: SpecCall) throws {
        let preset = Self.presets[call.name]
        guard preset != nil || Algorithms.named(call.name) != nil else {
            throw OptimError("unknown optimizer '\(call.name)'; valid: \(Self.names.joined(separator: ", "))")
        }
        typed = call
        name = preset == nil ? call.name : "sgd"
        var arguments = preset ?? []
        for argument in call.arguments {
            switch argument.key {
            case "label":
                continue
            case "schedule":
                guard let s = argument.value.asCall else {
                    throw OptimError("\(call.name): schedule=\(argument.value) must be a schedule like step(step_size=10); valid: \(ScheduleSpec.names.joined(separator: ", "))")
                }
                schedule = try ScheduleSpec(s)
            default:
                if let i = arguments.firstIndex(where: { $0.key == argument.key }) {
                    arguments[i] = argument
                } else {
                    arguments.append(argument)
                }
            }
        }
        if case .text(let text)? = call.arguments.first(where: { $0.key == "label" })?.value {
            label = text
            hasExplicitLabel = true
        } else {
            label = call.text
            hasExplicitLabel = false
        }
        self.arguments = arguments
        options = try Self.readOptions(name: name, typedName: call.name, arguments)
        if let schedule, let cycled = schedule.cycledMomentum {
            try Self.checkCycledMomentum(cycled, by: schedule.name, options, owner: call.name)
        }
    }

    /// OneCycleLR's and CyclicLR's cycle_momentum needs torch's `momentum` (SGD, RMSprop) or
    /// `betas` (the Adam family). Beyond torch's checks: β₁ must stay in [0, 1) as the Adam family
    /// requires of betas, and momentum must stay > 0, since torch's SGD and RMSprop switch their
    /// momentum buffer off at 0 (a path optlab does not mirror).
    private static func checkCycledMomentum(_ cycle: (base: Double, max: Double), by scheduleName: String,
                                            _ options: any AlgorithmOptions, owner: String) throws {
        guard let kind = options.cycledMomentum else {
            throw OptimError("\(owner): schedule \(scheduleName) cycles the momentum, which \(owner) has none of (\(cycledNames)); add cycle_momentum=false")
        }
        for (key, value) in [("base_momentum", cycle.base), ("max_momentum", cycle.max)] {
            if kind == .beta1, !(value < 1) {
                throw OptimError("schedule \(scheduleName): \(key)=\(SpecValue.format(value)) must be in [0, 1): it becomes \(owner)'s beta1")
            }
            if kind == .momentum, !(value > 0) {
                throw OptimError("schedule \(scheduleName): \(key)=\(SpecValue.format(value)) must be > 0 with \(owner) (torch turns momentum off at 0)")
            }
        }
    }

    /// The keywords of an algorithm or preset name (presets with their values, a wrapper's own
    /// without its base's), as the registry reads them, in the order it does; nil for an unknown name.
    public static func keywords(of name: String) -> [SpecKeyword]? {
        let preset = presets[name]
        guard let algorithm = Algorithms.named(preset == nil ? name : "sgd") else { return nil }
        let base = algorithm.wraps ? [SpecArgument(key: "base", value: .text("sgd"))] : []
        var reader = ArgumentReader(name, (preset ?? []) + base)
        _ = try? algorithm.read(preset == nil ? name : "sgd", &reader)
        return reader.described
    }

    /// A spec of the name that parses: the bare name, or for a wrapper the name around plain sgd.
    public static func example(of name: String) -> String? {
        guard presets[name] != nil || Algorithms.named(name) != nil else { return nil }
        return Algorithms.named(name)?.wraps == true ? "\(name)(base=sgd)" : name
    }

    /// "sgd and rmsprop have momentum, adam, ... beta1", from the registered algorithms.
    private static var cycledNames: String {
        func names(_ kind: CycledMomentum) -> String {
            Algorithms.all.flatMap { algorithm in
                algorithm.names.filter { name in
                    var defaults = ArgumentReader(name, [])
                    return (try? algorithm.read(name, &defaults))?.cycledMomentum == kind
                }
            }.joined(separator: ", ")
        }
        return "\(names(.momentum)) have momentum, \(names(.beta1)) beta1"
    }

    /// The canonical text, which parses back to the same algorithm, arguments and schedule.
    public var description: String {
        var all = arguments
        if let schedule { all.append(SpecArgument(key: "schedule", value: .call(schedule.call))) }
        if hasExplicitLabel { all.append(SpecArgument(key: "label", value: .text(label))) }
        return SpecValue.format(SpecCall(name: name, arguments: all, text: ""))
    }

    /// The spec with onecycle's total_steps set to `steps`, the run's number of optimizer steps,
    /// if the spec left it out (and epochs, steps_per_epoch); otherwise unchanged. The filled-in
    /// value shows in `description`, so checkpoints and printed plans name it; the label stays.
    public func fillingTotalSteps(_ steps: Int) throws -> OptimizerSpec {
        guard let schedule else { return self }
        var copy = self
        copy.schedule = try schedule.filling(totalSteps: steps)
        return copy
    }

    /// `lr`, or the algorithm's default.
    public var learningRate: Double { options.lr }

    public var hasExplicitLearningRate: Bool { arguments.contains { $0.key == "lr" } }

    /// The same optimizer with `lr` replaced (or set); a label that was not given explicitly
    /// follows, e.g. `momentum` becomes `momentum(lr=0.01)`.
    public func with(learningRate: Double) -> OptimizerSpec {
        var copy = self
        copy.setLearningRate(learningRate)
        if !hasExplicitLabel { copy.label = SpecValue.format(copy.typed) }
        return copy
    }

    /// Sets `lr` in the arguments, the typed text and the options; a wrapper's lives in its base.
    mutating func setLearningRate(_ learningRate: Double) {
        if var wrapper = options as? any WrapperOptions {
            wrapper.base.setLearningRate(learningRate)
            let base = SpecArgument(key: "base", value: .call(wrapper.base.typed))
            for i in arguments.indices where arguments[i].key == "base" { arguments[i] = base }
            for i in typed.arguments.indices where typed.arguments[i].key == "base" { typed.arguments[i] = base }
            options = wrapper
            return
        }
        let lr = SpecArgument(key: "lr", value: .number(learningRate))
        arguments.removeAll { $0.key == "lr" }
        arguments.insert(lr, at: 0)
        if let i = typed.arguments.firstIndex(where: { $0.key == "lr" }) {
            typed.arguments[i] = lr
        } else {
            typed.arguments.insert(lr, at: 0)
        }
        options.lr = learningRate  // checked when an Optimizer is built
    }

    /// What a onecycle schedule on a wrapper sets in its base.
    mutating func setMomentum(_ m: Double) { options.setMomentum(m) }

    /// The spec with its weight_decay (a wrapper's: its base's; the default where not given)
    /// divided by `factor`, for a parameter group stepped at `factor` times the rate: its decay per
    /// step γλ stays the same. Unchanged for an algorithm without weight_decay or where it is 0.
    func dividingWeightDecay(by factor: Double) throws -> OptimizerSpec {
        var copy = self
        if var wrapper = options as? any WrapperOptions {
            wrapper.base = try wrapper.base.dividingWeightDecay(by: factor)
            copy.options = wrapper
            return copy
        }
        var decay = Self.keywords(of: name)?.first { $0.key == "weight_decay" }?.value.flatMap { Double($0) }
        if case .number(let given)? = arguments.first(where: { $0.key == "weight_decay" })?.value { decay = given }
        guard let decay, decay != 0 else { return self }
        copy.arguments.removeAll { $0.key == "weight_decay" }
        copy.arguments.append(SpecArgument(key: "weight_decay", value: .number(decay / factor)))
        copy.options = try Self.readOptions(name: name, typedName: typed.name, copy.arguments)
        return copy
    }

    private static func readOptions(name: String, typedName: String, _ arguments: [SpecArgument]) throws -> any AlgorithmOptions {
        var reader = ArgumentReader(name == typedName ? name : "\(typedName) (\(name))", arguments)
        guard let algorithm = Algorithms.named(name) else {
            throw OptimError("unknown optimizer '\(name)'; valid: \(OptimizerSpec.names.joined(separator: ", "))")
        }
        let options = try algorithm.read(name, &reader)
        reader.allow("schedule", "label")
        try reader.finish()
        return options
    }
}

extension OptimizerSpec {
    /// Specs are equal when they name the same algorithm with the same arguments, schedule and
    /// label (the options follow from those).
    public static func == (a: OptimizerSpec, b: OptimizerSpec) -> Bool {
        a.name == b.name && a.label == b.label && a.arguments == b.arguments && a.schedule == b.schedule
            && a.typed == b.typed && a.hasExplicitLabel == b.hasExplicitLabel
    }

    /// The spec a wrapper (sam, lookahead) wraps; nil for other algorithms.
    public var base: OptimizerSpec? { (options as? any WrapperOptions)?.base }

    /// What its learning rate multiplies (a wrapper's: its base's), for the rates a tuning tries.
    public var learningRateFamily: LearningRateFamily { options.learningRateFamily }

    /// Whether sweeps may step many paths as the parameters of one optimizer and read each
    /// path's point from its parameter: the update is separable (`AlgorithmOptions.isSeparable`)
    /// and the model is evaluated at the iterate.
    public var batchesPaths: Bool { options.isSeparable && !options.hasEvaluationPoint }
}
