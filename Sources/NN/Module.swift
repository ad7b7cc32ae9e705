/// A wrong input for a layer, a network or a weights file; the message names the layer or tensor.
public struct ShapeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A layer or a container of layers, as in `torch.nn.Module`.
///
/// `forward` takes and returns activations in whatever (often blocked) layout oneDNN chose, so
/// consecutive layers never convert; only a `Network` converts at its input and output. Results stay
/// valid until the next forward of the same module. `backward` takes the gradient of the loss with
/// respect to the last training forward's output, writes the parameters' gradients (overwriting
/// them) and returns the gradient with respect to the input when asked for it.
/// Build models by composing the public layers; subclasses live in this module.
public class Module {
    /// Dotted path in the network (`layer1.0.conv1`), used in state names and error messages.
    public internal(set) var path = ""

    init() {}

    func forward(_ x: Memory, training: Bool) throws -> Memory {
        fatalError("\(type(of: self)) must override forward")
    }

    func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        fatalError("\(type(of: self)) must override backward")
    }

    /// Named sub-modules, in PyTorch's registration order.
    var children: [(name: String, module: Module)] { [] }
    /// This module's own parameters and buffers, in PyTorch's `state_dict` order.
    var weights: [(name: String, weight: Weight)] { [] }
    /// Integer state entries (BatchNorm's `num_batches_tracked`).
    var counters: [(name: String, value: Int64)] { [] }
    func setCounter(_ name: String, _ value: Int64) {}
    /// PyTorch's default initialisation of this module's own parameters.
    func reset(_ random: inout Random) {}

    /// Sets paths below `prefix` and visits every module in registration order.
    func visit(prefix: String, _ body: (String, Module) -> Void) {
        path = prefix
        body(prefix, self)
        for (name, child) in children {
            child.visit(prefix: prefix.isEmpty ? name : "\(prefix).\(name)", body)
        }
    }

    var label: String { path.isEmpty ? "\(type(of: self))" : "\(path) (\(type(of: self)))" }

    private var outputs: [Memory] = []

    /// Storage for this module's forward output in layout `desc`. Plans of the same module share it
    /// (training and evaluation, say), since only the latest forward's result is live: a backward
    /// pass differentiates the latest forward, which must have been a training one.
    func outputMemory(_ desc: Desc) -> Memory {
        if let memory = outputs.first(where: { same($0.desc, desc) }) { return memory }
        let memory = Memory(desc)
        outputs.append(memory)
        return memory
    }
}

/// Layers applied in order; children are named "0", "1", ... like `nn.Sequential`, or given names.
public final class Sequential: Module {
    let layers: [(name: String, module: Module)]

    public convenience init(_ modules: [Module]) {
        self.init(named: modules.enumerated().map { (String($0.offset), $0.element) })
    }

    public init(named: [(String, Module)]) {
        layers = named.map { (name: $0.0, module: $0.1) }
        // BatchNorm → ReLU runs as one pass over memory (BatchNorm2d applies the ReLU), and a
        // convolution may pool as it writes (Conv2d.followingPool).
        for (current, next) in zip(layers, layers.dropFirst()) {
            if let norm = current.module as? BatchNorm2d, let relu = next.module as? ReLU {
                norm.appliesReLU = true
                relu.absorbed = true
            }
            if let conv = current.module as? Conv2d, let pool = next.module as? Pool2d { conv.followingPool = pool }
        }
    }

    override var children: [(name: String, module: Module)] { layers }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        var h = x
        for layer in layers { h = try layer.module.forward(h, training: training) }
        return h
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        var g = dy
        for index in layers.indices.reversed() {
            guard let next = layers[index].module.backward(g, inputGradient: index > 0 || inputGradient) else { return nil }
            g = next
        }
        return g
    }
}

/// Plans (primitives, memories, bound calls) built for one input memory and mode. Inputs are the
/// previous layer's outputs, which stay the same objects from step to step, so a steady-state step
/// finds its plan by identity and only runs prepared calls.
struct PlanCache<Plan> {
    private var entries: [(input: Memory, other: Memory?, training: Bool, plan: Plan)] = []
    /// Plans kept, oldest dropped first: a few shapes live side by side (training batch, last
    /// partial batch, evaluation batch).
    static var capacity: Int { 6 }
    /// The plan of the latest forward, which a backward pass continues.
    private(set) var last: Plan?
    private var lastWasTraining = false

    /// `eitherMode`: the plan computes the same in training and evaluation, so one serves both
    /// (made in the mode first asked for).
    mutating func plan(_ input: Memory, _ other: Memory? = nil, training: Bool, eitherMode: Bool = false,
                       make: () throws -> Plan) rethrows -> Plan {
        lastWasTraining = training
        for entry in entries where entry.input === input && entry.other === other && (eitherMode || entry.training == training) {
            last = entry.plan
            return entry.plan
        }
        let plan = try make()
        if entries.count == Self.capacity { entries.removeFirst() }
        entries.append((input, other, training, plan))
        last = plan
        return plan
    }

    func lastPlan(_ who: String) -> Plan {
        guard let last, lastWasTraining else { fatalError("\(who): backward needs a training forward just before it") }
        return last
    }
}
