import CDNNL
import Optim

/// A model ready to train: the root module with its PyTorch names, initialised from a seed.
/// Data enters as a plain NCHW `Tensor` and leaves as plain logits; in between activations stay
/// in oneDNN's layouts. Parameters are exposed to optimizers in place (value and gradient storage).
public final class Network {
    public let name: String
    public let root: Module
    /// Learnable parameters in `named_parameters()` order, pointing at the live storage.
    public let parameters: [Parameter<Float>]
    /// Every float state entry (parameters and buffers) in `state_dict()` order.
    let state: [(name: String, weight: Weight)]
    private let counterOwners: [(name: String, module: Module, counter: String)]
    private var inputs: [(tensor: Tensor, memory: Memory)] = []
    private var outputs: [(memory: Memory, reorder: Call, tensor: Tensor)] = []
    private var gradients: [(tensor: Tensor, memory: Memory, copy: Call)] = []

    public init(_ root: Module, name: String, seed: UInt64 = 0) {
        self.name = name
        self.root = root
        var state: [(String, Weight)] = [], counters: [(String, Module, String)] = []
        var random = Random(seed: seed)
        root.visit(prefix: "") { path, module in
            module.reset(&random)
            let prefix = path.isEmpty ? "" : path + "."
            state += module.weights.map { (prefix + $0.name, $0.weight) }
            counters += module.counters.map { (prefix + $0.name, module, $0.name) }
        }
        self.state = state
        counterOwners = counters
        parameters = state.compactMap { name, weight in
            weight.grad.map { Parameter(name: name, value: weight.value, grad: $0) }
        }
    }

    /// Logits for a batch [N, C, H, W]. The returned tensor is reused by the next call.
    /// `training` selects batch statistics in BatchNorm and active dropout, and enables `backward`.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.shape.count == 4 else {
            throw ShapeError("\(name) expects a batch of images [N, C, H, W], got \(input.shape)")
        }
        let entry = memory(for: input)
        let out = try root.forward(entry, training: training)
        if let cached = outputs.first(where: { $0.memory === out }) {
            run([cached.reorder])
            return cached.tensor
        }
        let tensor = Tensor(shape: out.shape)
        let target = Memory(plainDesc(out.shape), borrowing: UnsafeMutableRawPointer(tensor.storage.baseAddress!))
        let reorder = Call(Primitive(reorder: out.desc, to: target.desc), [(DNNL_ARG_FROM, out), (DNNL_ARG_TO, target)])
        outputs.append((out, reorder, tensor))
        if outputs.count > 6 { outputs.removeFirst() }
        run([reorder])
        return tensor
    }

    /// Back-propagates d(loss)/d(logits) of the last training forward, writing every parameter's gradient.
    public func backward(_ gradient: Tensor) {
        // Layers may overwrite the gradient they receive, so they get a copy, not the caller's tensor.
        if let cached = gradients.first(where: { $0.tensor === gradient }) {
            run([cached.copy])
            _ = root.backward(cached.memory, inputGradient: false)
            return
        }
        let source = Memory(plainDesc(gradient.shape), borrowing: UnsafeMutableRawPointer(gradient.storage.baseAddress!))
        let copy = Memory(source.desc)
        let call = Call(Primitive(reorder: source.desc, to: copy.desc), [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, copy)])
        gradients.append((gradient, copy, call))
        if gradients.count > 6 { gradients.removeFirst() }
        run([call])
        _ = root.backward(copy, inputGradient: false)
    }

    /// A plain-layout memory over the input's storage, kept per tensor so layers find their plans.
    private func memory(for tensor: Tensor) -> Memory {
        if let hit = inputs.first(where: { $0.tensor === tensor }) { return hit.memory }
        let memory = Memory(plainDesc(tensor.shape), borrowing: UnsafeMutableRawPointer(tensor.storage.baseAddress!))
        inputs.append((tensor, memory))
        if inputs.count > 6 { inputs.removeFirst() }
        return memory
    }

    // MARK: state_dict

    /// Names and shapes of every float state entry, in `state_dict()` order.
    public var stateShapes: [(name: String, shape: [Int])] { state.map { ($0.name, $0.weight.shape) } }

    /// Copies weights and buffers from `file` (PyTorch names, F32, exact shapes). Every entry must be
    /// present; `num_batches_tracked` is optional (PyTorch fixtures often leave it out).
    public func load(_ file: SafeTensors, prefix: String = "") throws {
        var values: [(Weight, [Float])] = []
        for (name, weight) in state {
            values.append((weight, try file.floats(prefix + name, shape: weight.shape)))
        }
        for (weight, floats) in values { _ = weight.value.update(fromContentsOf: floats) }
        for (name, module, counter) in counterOwners where file.entries[prefix + name] != nil {
            guard let value = try file.int64s(prefix + name).first else {
                throw SafeTensorsError("\(file.source): tensor \(prefix + name) is empty")
            }
            module.setCounter(counter, value)
        }
    }

    /// Adds the model's `state_dict()` (weights, buffers, `num_batches_tracked`) to `file`.
    public func save(into file: inout SafeTensors, prefix: String = "") {
        for (name, weight) in state {
            file.set(prefix + name, UnsafeBufferPointer(weight.value), shape: weight.shape, dtype: .f32)
        }
        for (name, module, counter) in counterOwners {
            let value = module.counters.first { $0.name == counter }!.value
            file.set(prefix + name, int64s: [value], shape: [])
        }
    }
}
