import CDNNL
import Optim

/// A model ready to train: the root module with its PyTorch names, initialised from a seed.
/// Data enters as a plain NCHW `Tensor` and leaves as plain logits; in between activations stay
/// in oneDNN's layouts. Parameters are exposed to optimizers in place (value and gradient storage).
///
/// When every layer treats the images of a batch independently and deterministically (no
/// BatchNorm, no Dropout), a batch is split into one contiguous slice per thread, each run at once
/// on its own replica of the module tree with single-threaded kernels: small layers like the
/// tutorial net's gain more from that than from two threads inside each primitive. Replicas share
/// the parameter values and own their gradients, which are then added up in replica order, so a
/// given seed and thread count give the same bits on every run.
public final class Network {
    public let name: String
    public let root: Module
    /// Learnable parameters in `named_parameters()` order, pointing at the live storage (less
    /// any a frozen layer holds: `whitenFirstConvolution`).
    public internal(set) var parameters: [Parameter<Float>]
    /// What each of `parameters` is (batch norm's bias, say), for settings per kind of parameter.
    public internal(set) var parameterRoles: [ParameterRole]
    /// Every float state entry (parameters and buffers) in `state_dict()` order.
    let state: [(name: String, weight: Weight)]
    private let counterOwners: [(name: String, module: Module, counter: String)]
    /// Whether batches are split across threads (see above); tests turn it off to compare.
    var splitsBatches: Bool
    /// `root` and the replicas made so far, with their learnable weights in `parameters` order.
    private var replicas: [(module: Module, weights: [Weight])]
    /// Slices of the latest forward, which `backward` continues.
    private(set) var lastSlices = 1
    private var inputs: [(tensor: Tensor, slices: [Memory])] = []
    private var outputs: [(sources: [Memory], reorders: [Call], tensor: Tensor)] = []
    private var gradients: [(tensor: Tensor, slices: [Memory], copies: [Call])] = []

    /// Images per slice below which a batch is not split: waking the other thread and copying in
    /// and out cost more than it saves. The tutorial net at batch 4 trained at 4.6–6.0k img/s in
    /// slices of 2 and at 6.6–7.3k whole; at batch 64 the slices win (2-core VM, load ~3.5).
    static let minimumSliceImages = 8

    public init(_ root: Module, name: String, seed: UInt64 = 0) {
        self.name = name
        self.root = root
        var state: [(String, Weight)] = [], counters: [(String, Module, String)] = []
        var roles: [ParameterRole] = []
        var random = Random(seed: seed)
        root.visit(prefix: "") { path, module in
            module.reset(&random)
            let prefix = path.isEmpty ? "" : path + "."
            state += module.weights.map { (prefix + $0.name, $0.weight) }
            roles += module.weights.filter { $0.weight.grad != nil }.map { ParameterRole(module: module, name: $0.name) }
            counters += module.counters.map { (prefix + $0.name, module, $0.name) }
        }
        self.state = state
        counterOwners = counters
        parameters = state.compactMap { name, weight in
            weight.grad.map { Parameter(name: name, value: weight.value, grad: $0, shape: weight.shape) }
        }
        parameterRoles = roles
        replicas = [(root, state.map(\.1).filter { $0.grad != nil })]
        splitsBatches = batchReplica(of: root) != nil
    }

    /// Logits for a batch [N, C, H, W]. The returned tensor is reused by the next call.
    /// `training` selects batch statistics in BatchNorm and active dropout, and enables `backward`.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.shape.count == 4 else {
            throw ShapeError("\(name) expects a batch of images [N, C, H, W], got \(input.shape)")
        }
        let entries = memories(for: input, slices: sliceCount(input.shape[0]))
        let outs: [Memory]
        if entries.count == 1 {
            outs = [try root.forward(entries[0], training: training)]
        } else {
            outs = try onReplicas(entries.count) { try $0.forward(entries[$1], training: training) }
        }
        lastSlices = entries.count
        return gathered(outs)
    }

    /// Back-propagates d(loss)/d(logits) of the last training forward, writing every parameter's gradient.
    public func backward(_ gradient: Tensor) {
        let dy = copies(of: gradient, slices: lastSlices)
        guard dy.count > 1 else {
            _ = root.backward(dy[0], inputGradient: false)
            return
        }
        _ = onReplicas(dy.count) { replica, r in _ = replica.backward(dy[r], inputGradient: false) }
        // The loss gradient's rows already carry 1/N, so the batch's gradient is the slices' sum.
        let total = replicas[0].weights
        for r in 1..<dy.count {
            for (sum, part) in zip(total, replicas[r].weights) {
                let (sum, part) = (sum.grad!, part.grad!)
                for i in sum.indices { sum[i] += part[i] }
            }
        }
    }

    /// Into how many slices a batch of `images` is split: one per thread when the network allows it.
    private func sliceCount(_ images: Int) -> Int {
        splitsBatches ? max(1, min(Threads.count, images / Network.minimumSliceImages)) : 1
    }

    /// `body(replica, r)` for the first `count` replicas at once, each on its own thread; the first
    /// error thrown (in replica order) is rethrown.
    private func onReplicas<T, E: Error>(_ count: Int, _ body: (Module, Int) throws(E) -> T) throws(E) -> [T] {
        while replicas.count < count {
            let replica = batchReplica(of: root)!
            var weights: [Weight] = []
            replica.visit(prefix: "") { _, module in weights += module.weights.map(\.weight).filter { $0.grad != nil } }
            replicas.append((replica, weights))
        }
        let modules = replicas.map(\.module)
        let results = UnsafeMutableBufferPointer<Result<T, E>>.allocate(capacity: count)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        forEachReplica(count) { r in results.initializeElement(at: r, to: Result { () throws(E) in try body(modules[r], r) }) }
        return try results.map { result throws(E) in try result.get() }
    }

    /// Plain-layout memories over the input's storage, one per slice of its rows, kept per tensor
    /// so layers find their plans.
    private func memories(for tensor: Tensor, slices: Int) -> [Memory] {
        if let hit = inputs.first(where: { $0.tensor === tensor && $0.slices.count == slices }) { return hit.slices }
        let memories = rowSlices(of: tensor, slices).map { Memory(plainDesc($0.shape), borrowing: $0.start) }
        inputs.append((tensor, memories))
        if inputs.count > 6 { inputs.removeFirst() }
        return memories
    }

    /// The slices' outputs gathered into one plain tensor, row after row.
    private func gathered(_ outs: [Memory]) -> Tensor {
        // Copies this small gain nothing from a second thread, which would then spin (OpenMP waits
        // actively for a while after each parallel call), taking a core from the next replicas.
        if outs.count > 1 { Threads.use(1) }
        if let hit = outputs.first(where: { $0.sources.elementsEqual(outs, by: ===) }) {
            run(hit.reorders)
            return hit.tensor
        }
        let tensor = Tensor(shape: [outs.map { $0.shape[0] }.reduce(0, +)] + outs[0].shape.dropFirst())
        let reorders = zip(outs, rowSlices(of: tensor, outs.count)).map { out, slice in
            let target = Memory(plainDesc(slice.shape), borrowing: slice.start)
            return Call(Primitive(reorder: out.desc, to: target.desc), [(DNNL_ARG_FROM, out), (DNNL_ARG_TO, target)])
        }
        outputs.append((outs, reorders, tensor))
        if outputs.count > 6 { outputs.removeFirst() }
        run(reorders)
        return tensor
    }

    /// Copies of the gradient's row slices: layers may overwrite the gradient they receive, so they
    /// get a copy, not the caller's tensor.
    private func copies(of gradient: Tensor, slices: Int) -> [Memory] {
        if slices > 1 { Threads.use(1) }  // as in `gathered`
        if let hit = gradients.first(where: { $0.tensor === gradient && $0.slices.count == slices }) {
            run(hit.copies)
            return hit.slices
        }
        var copies: [Memory] = [], calls: [Call] = []
        for slice in rowSlices(of: gradient, slices) {
            let source = Memory(plainDesc(slice.shape), borrowing: slice.start)
            let copy = Memory(source.desc)
            copies.append(copy)
            calls.append(Call(Primitive(reorder: source.desc, to: copy.desc), [(DNNL_ARG_FROM, source), (DNNL_ARG_TO, copy)]))
        }
        gradients.append((gradient, copies, calls))
        if gradients.count > 6 { gradients.removeFirst() }
        run(calls)
        return copies
    }

    /// Sets every batch-norm layer's momentum (torch's: the newest batch's weight in the running
    /// statistics). A fast one (airbench's 0.4) keeps the statistics up with weights that move fast.
    public func setBatchNormMomentum(_ momentum: Float) {
        root.visit(prefix: "") { _, module in (module as? BatchNorm2d)?.momentum = momentum }
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

/// `count` contiguous slices of a tensor's rows (the first dimension), as even as they come:
/// slice k holds rows ⌊kN/count⌋ ..< ⌊(k+1)N/count⌋.
private func rowSlices(of tensor: Tensor, _ count: Int) -> [(start: UnsafeMutableRawPointer, shape: [Int])] {
    let rows = tensor.shape[0], rowSize = tensor.shape.dropFirst().reduce(1, *)
    return (0..<count).map { k in
        let first = rows * k / count, end = rows * (k + 1) / count
        return (UnsafeMutableRawPointer(tensor.storage.baseAddress! + first * rowSize), [end - first] + tensor.shape.dropFirst())
    }
}

/// A copy of `module` for one slice of a split batch: the same layers, their parameter values
/// shared with `module` (read-only during a step), their own gradients, plans and activations.
/// Nil when some layer in the tree mixes the images of a batch (BatchNorm), draws random numbers
/// (Dropout) or is not known to do neither: such a network always runs whole batches.
func batchReplica(of module: Module) -> Module? {
    switch module {
    case let conv as Conv2d: return Conv2d(replicating: conv)
    case let linear as Linear: return Linear(replicating: linear)
    case let relu as ReLU where !relu.absorbed: return ReLU(inPlace: relu.inPlace)
    case is GELU: return GELU()
    case let scale as Scale: return Scale(scale.factor)
    case is Flatten: return Flatten()
    case let pool as Pool2d: return Pool2d(pool.kind, kernel: pool.kernel, stride: pool.stride, padding: pool.padding)
    case let sequential as Sequential:
        var layers: [(String, Module)] = []
        for (name, layer) in sequential.layers {
            guard let copy = batchReplica(of: layer) else { return nil }
            layers.append((name, copy))
        }
        return Sequential(named: layers)
    default: return nil
    }
}
