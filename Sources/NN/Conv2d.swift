import CDNNL

/// `nn.Conv2d(in, out, kernel, stride, padding, bias)`: y = W ⋆ x + b with square kernels,
/// zero padding on every side; weight [out, in, k, k] and bias [out] in PyTorch's layout.
public final class Conv2d: Module, WeightedOperation {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    let weight: Weight
    let bias: Weight?
    private var plans = PlanCache<any LayerPlan>()
    /// Whether this layer runs by `Winograd`'s algorithm rather than oneDNN's direct kernels:
    /// wherever it applies, unless turned off (tests and `bench` compare the two).
    var usesWinograd: Bool
    /// Whether convolutions created from now on may run by `Winograd`'s algorithm.
    nonisolated(unsafe) public static var allowsWinograd = true

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0, "invalid Conv2d configuration")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        weight = Weight([outChannels, inChannels, kernel, kernel])
        self.bias = bias ? Weight([outChannels]) : nil
        usesWinograd = Conv2d.allowsWinograd && Winograd.applies(kernel: kernel, stride: stride, padding: padding,
                                                                 inChannels: inChannels, outChannels: outChannels)
    }

    /// A replica for one slice of a split batch: this configuration, `other`'s parameter values.
    init(replicating other: Conv2d) {
        (inChannels, outChannels) = (other.inChannels, other.outChannels)
        (kernel, stride, padding) = (other.kernel, other.stride, other.padding)
        weight = Weight(sharingValueOf: other.weight)
        bias = other.bias.map { Weight(sharingValueOf: $0) }
        usesWinograd = other.usesWinograd
    }

    override var weights: [(name: String, weight: Weight)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    override func reset(_ random: inout Random) {
        resetKaimingUniform(weight, bias: bias, fanIn: inChannels * kernel * kernel, &random)
    }

    var weightShape: [Int] { weight.shape }
    var weightTag: dnnl_format_tag_t { dnnl_format_tag_any }

    /// Output size along one axis; PyTorch rounds down, so the right/bottom padding may be smaller.
    private func outputSize(_ size: Int) -> Int { (size + 2 * padding - kernel) / stride + 1 }
    private func paddingRight(_ size: Int) -> Int { (outputSize(size) - 1) * stride + kernel - size - padding }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let plan = try plans.plan(x, training: training) { () throws -> any LayerPlan in
            let s = x.shape
            guard s.count == 4, s[1] == inChannels else {
                throw ShapeError("\(label) expects [N, \(inChannels), H, W] input, got \(s)")
            }
            guard s[2] + 2 * padding >= kernel, s[3] + 2 * padding >= kernel else {
                throw ShapeError("\(label): input \(s[2])×\(s[3]) is smaller than the \(kernel)×\(kernel) kernel")
            }
            if usesWinograd { return WinogradPlan(self, input: x, outputMemory: outputMemory) }
            return WeightedPlan(self, weight: weight, input: x,
                                outputShape: [s[0], outChannels, outputSize(s[2]), outputSize(s[3])], training: training,
                                outputMemory: outputMemory)
        }
        plan.runForward()
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        plans.lastPlan(label).runBackward(dy, inputGradient: inputGradient)
    }

    // MARK: oneDNN descriptions

    private func geometry(_ src: Desc) -> (strides: [Int64], left: [Int64], right: [Int64]) {
        let s = src.shape
        return ([Int64(stride), Int64(stride)], [Int64(padding), Int64(padding)],
                [Int64(paddingRight(s[2])), Int64(paddingRight(s[3]))])
    }

    func forward(src: Desc, weights: Desc, bias: Desc?, dst: Desc, training: Bool) -> Primitive {
        var op = dnnl_convolution_desc_t()
        var (src, weights, dst) = (src, weights, dst)
        let g = geometry(src)
        withOptionalPointer(bias) { bias in
            dnnl(dnnl_convolution_forward_desc_init(&op, training ? dnnl_forward_training : dnnl_forward_inference,
                                                    dnnl_convolution_direct, &src, &weights, bias,
                                                    &dst, g.strides, g.left, g.right), "\(label) forward")
        }
        return Primitive(&op, "\(label) forward")
    }

    func backwardData(diffSrc: Desc, weights: Desc, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_convolution_desc_t()
        var (diffSrc, weights, diffDst) = (diffSrc, weights, diffDst)
        let g = geometry(diffSrc)
        dnnl(dnnl_convolution_backward_data_desc_init(&op, dnnl_convolution_direct, &diffSrc, &weights, &diffDst,
                                                      g.strides, g.left, g.right), "\(label) backward data")
        return Primitive(&op, hint: hint, "\(label) backward data")
    }

    func backwardWeights(src: Desc, diffWeights: Desc, diffBias: Desc?, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_convolution_desc_t()
        var (src, diffWeights, diffDst) = (src, diffWeights, diffDst)
        let g = geometry(src)
        withOptionalPointer(diffBias) { diffBias in
            dnnl(dnnl_convolution_backward_weights_desc_init(&op, dnnl_convolution_direct, &src, &diffWeights,
                                                             diffBias, &diffDst, g.strides, g.left, g.right),
                 "\(label) backward weights")
        }
        return Primitive(&op, hint: hint, "\(label) backward weights")
    }
}
