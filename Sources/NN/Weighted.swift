import CDNNL

/// What differs between a convolution and an inner product: how their three oneDNN operations
/// (forward, backward-data, backward-weights) are described. Everything else — letting oneDNN
/// choose layouts, reordering the plain PyTorch-layout weights into them, writing weight gradients
/// back in plain layout — is shared by `WeightedPlan`.
protocol WeightedOperation: AnyObject {
    var weightShape: [Int] { get }
    /// The weights layout the primitives are asked for: `any` lets oneDNN pick a blocked one (worth
    /// a reorder per step for convolutions); inner products run as GEMMs on the plain layout.
    var weightTag: dnnl_format_tag_t { get }
    var bias: Weight? { get }
    /// What the layer computes in (fixed when it is made).
    var precision: Precision { get }
    func forward(src: Desc, weights: Desc, bias: Desc?, dst: Desc, training: Bool) -> Primitive
    func backwardData(diffSrc: Desc, weights: Desc, diffDst: Desc, hint: Primitive) -> Primitive
    func backwardWeights(src: Desc, diffWeights: Desc, diffBias: Desc?, diffDst: Desc, hint: Primitive) -> Primitive
}

/// What a convolution or linear layer runs for one input shape: oneDNN's calls (`WeightedPlan`)
/// or Winograd's kernels (`WinogradPlan`).
protocol LayerPlan: AnyObject {
    /// Where `runForward` leaves its result.
    var output: Memory { get }
    func runForward()
    /// Runs the backward pass for gradient memory `dy`; returns the input gradient when asked for.
    func runBackward(_ dy: Memory, inputGradient: Bool) -> Memory?
}

/// One input shape's forward and backward calls of a convolution or linear layer.
final class WeightedPlan: LayerPlan {
    let forward: Primitive
    let calls: [Call]
    let output: Memory
    /// Threads for this layer's calls, by its work (see `Threads.count(forMultiplyAdds:)`).
    let threads: Int
    /// Unowned: the layer owns its plans, and a strong reference back would keep both alive.
    private unowned let op: WeightedOperation
    private let weight: Weight
    private let inputShape: [Int], outputShape: [Int]
    private let src: Memory
    /// Copies the input into the forward's layout or type, if it differs, into a shared buffer.
    private let srcReorder: Call?
    private let userWeights: Memory, weights: Memory
    private var backward: (dy: Memory, inputGradient: Bool, calls: [Call], dx: Memory?)?

    init(_ op: WeightedOperation, weight: Weight, input x: Memory, outputShape: [Int], training: Bool,
         outputMemory: (Desc) -> Memory) {
        self.op = op
        self.weight = weight
        inputShape = x.shape
        self.outputShape = outputShape
        // Every output value takes one multiply-add per weight feeding it.
        threads = Threads.count(forMultiplyAdds: outputShape.reduce(1, *) * op.weightShape.dropFirst().reduce(1, *))
        // oneDNN shapes a primitive's work split for the thread count at its creation, so the
        // primitives are made with the count they will run with.
        Threads.use(threads)
        // In bf16 the inputs and weights are reordered to bf16 on the way in; outputs, gradients and
        // bias stay float32, so the layers around (batch norm, pooling, loss) see float32 only.
        let low = op.precision.forwardType
        forward = op.forward(src: anyDesc(inputShape, low), weights: desc(op.weightShape, op.weightTag, low),
                             bias: op.bias.map { plainDesc($0.shape) }, dst: anyDesc(outputShape), training: training)
        (src, srcReorder) = conform(x, to: forward.desc(dnnl_query_src_md), sharing: .input)
        // Weights stay in PyTorch's layout (the optimizer updates them there); oneDNN's blocked
        // copy is refreshed by a reorder before every forward.
        userWeights = Memory(plainDesc(op.weightShape), borrowing: weight.valuePointer)
        let (weights, weightReorder) = conform(userWeights, to: forward.desc(dnnl_query_weights_md))
        self.weights = weights
        output = outputMemory(forward.desc(dnnl_query_dst_md))
        var args = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, weights), (DNNL_ARG_DST, output)]
        if let bias = op.bias { args.append((DNNL_ARG_BIAS, Memory(plainDesc(bias.shape), borrowing: bias.valuePointer))) }
        calls = [srcReorder, weightReorder].compactMap { $0 } + [Call(forward, args)]
    }

    /// Runs the forward calls, whose result lands in `output`.
    func runForward() {
        Threads.use(threads)
        run(calls)
    }

    /// Runs the backward calls for gradient memory `dy`; returns the input gradient when asked for.
    func runBackward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        Threads.use(threads)
        let (calls, dx) = backwardCalls(dy, inputGradient: inputGradient)
        run(calls)
        return dx
    }

    /// The backward calls for gradient memory `dy`, built on first use.
    private func backwardCalls(_ dy: Memory, inputGradient: Bool) -> (calls: [Call], dx: Memory?) {
        if let b = backward, b.dy === dy, b.inputGradient == inputGradient { return (b.calls, b.dx) }
        // Other layers have used the shared buffer of the forward's input copy since: made again.
        var calls = [srcReorder].compactMap { $0 }
        let low = op.precision.backwardType
        // oneDNN takes a backward's layouts from a forward of its data types; where the forward ran
        // in float32 and the backward runs in bf16, one is made as that hint only.
        let hint = low == op.precision.forwardType ? forward
            : op.forward(src: anyDesc(inputShape, low), weights: desc(op.weightShape, op.weightTag, low),
                         bias: op.bias.map { plainDesc($0.shape) }, dst: anyDesc(outputShape), training: true)
        let bw = op.backwardWeights(src: anyDesc(inputShape, low), diffWeights: desc(op.weightShape, op.weightTag),
                                    diffBias: op.bias.map { plainDesc($0.shape) }, diffDst: anyDesc(outputShape, low), hint: hint)
        let (dyW, dyReorder) = conform(dy, to: bw.desc(dnnl_query_diff_dst_md), sharing: .outputGradient)
        let (srcW, srcWReorder) = conform(src, to: bw.desc(dnnl_query_src_md), sharing: .inputForWeights)
        calls += [dyReorder, srcWReorder].compactMap { $0 }
        let userGrad = Memory(plainDesc(op.weightShape), borrowing: weight.gradPointer)
        let chosen = bw.desc(dnnl_query_diff_weights_md)
        let diffWeights = same(chosen, userGrad.desc) ? userGrad : Memory(chosen)
        var args = [(DNNL_ARG_SRC, srcW), (DNNL_ARG_DIFF_DST, dyW), (DNNL_ARG_DIFF_WEIGHTS, diffWeights)]
        if let bias = op.bias { args.append((DNNL_ARG_DIFF_BIAS, Memory(plainDesc(bias.shape), borrowing: bias.gradPointer))) }
        calls.append(Call(bw, args))
        if diffWeights !== userGrad {
            calls.append(Call(Primitive(reorder: chosen, to: userGrad.desc), [(DNNL_ARG_FROM, diffWeights), (DNNL_ARG_TO, userGrad)]))
        }
        var dx: Memory?
        if inputGradient {
            let bd = op.backwardData(diffSrc: anyDesc(inputShape), weights: desc(op.weightShape, op.weightTag, low),
                                     diffDst: anyDesc(outputShape, low), hint: hint)
            let wantedDy = bd.desc(dnnl_query_diff_dst_md)
            let (dyD, dyDReorder) = same(wantedDy, dyW.desc) ? (dyW, nil) : conform(dy, to: wantedDy, sharing: .outputGradientForData)
            let wantedW = bd.desc(dnnl_query_weights_md)
            let (w, wReorder) = same(wantedW, weights.desc) ? (weights, nil) : conform(userWeights, to: wantedW)
            let diffSrc = Memory(bd.desc(dnnl_query_diff_src_md))
            calls += [dyDReorder, wReorder].compactMap { $0 }
            calls.append(Call(bd, [(DNNL_ARG_DIFF_DST, dyD), (DNNL_ARG_WEIGHTS, w), (DNNL_ARG_DIFF_SRC, diffSrc)]))
            dx = diffSrc
        }
        backward = (dy, inputGradient, calls, dx)
        return (calls, dx)
    }
}

/// Fills `weight` (and `bias`) as PyTorch's Conv/Linear `reset_parameters` does: kaiming-uniform
/// with a = √5, i.e. U(-1/√fan_in, 1/√fan_in), and the bias from the same bound.
func resetKaimingUniform(_ weight: Weight, bias: Weight?, fanIn: Int, _ random: inout Random) {
    let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
    for i in weight.value.indices { weight.value[i] = random.uniform(-bound, bound) }
    if let bias { for i in bias.value.indices { bias.value[i] = random.uniform(-bound, bound) } }
}
