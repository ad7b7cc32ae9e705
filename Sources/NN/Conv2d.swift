import CDNNL

/// `nn.Conv2d(in, out, kernel, stride, padding, bias)`: y = W ⋆ x + b with square kernels,
/// zero padding on every side; weight [out, in, k, k] and bias [out] in PyTorch's layout.
public final class Conv2d: Module, WeightedOperation {
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    /// Identity initialisation (airbench's): after PyTorch's default initialisation, the first
    /// min(in, out) filters are `torch.nn.init.dirac_`'s, so filter i passes input channel i through.
    public let dirac: Bool
    let weight: Weight
    let bias: Weight?
    let precision: Precision
    private var plans = PlanCache<any LayerPlan>()
    /// How this layer runs: `ConvolutionAlgorithm.choose` under `policy` when it is made; tests
    /// and `bench` compare algorithms by setting it before the first forward.
    public internal(set) var algorithm: ConvolutionAlgorithm
    /// The max pool right after this layer in its `Sequential`, which a Winograd plan may run as it
    /// writes its output (`Pool2d.fusedPlan`); weak, as the container owns both.
    weak var followingPool: Pool2d?
    /// The policy convolutions created from now on are chosen under.
    nonisolated(unsafe) public static var policy = ConvolutionPolicy.auto

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                dirac: Bool = false) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0, "invalid Conv2d configuration")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dirac = dirac
        weight = Weight([outChannels, inChannels, kernel, kernel])
        self.bias = bias ? Weight([outChannels]) : nil
        precision = Precision.current
        algorithm = .choose(Conv2d.policy, precision: precision, kernel: kernel, stride: stride, padding: padding,
                            inChannels: inChannels, outChannels: outChannels)
    }

    /// A replica for one slice of a split batch: this configuration, `other`'s parameter values.
    init(replicating other: Conv2d) {
        (inChannels, outChannels) = (other.inChannels, other.outChannels)
        (kernel, stride, padding, dirac) = (other.kernel, other.stride, other.padding, other.dirac)
        weight = Weight(sharingValueOf: other.weight)
        bias = other.bias.map { Weight(sharingValueOf: $0) }
        algorithm = other.algorithm
        precision = other.precision
    }

    override var weights: [(name: String, weight: Weight)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    override func reset(_ random: inout Random) {
        let fanIn = inChannels * kernel * kernel
        resetKaimingUniform(weight, bias: bias, fanIn: fanIn, &random)
        guard dirac else { return }
        for filter in 0..<min(inChannels, outChannels) {
            let base = filter * fanIn
            for i in base..<(base + fanIn) { weight.value[i] = 0 }
            weight.value[base + (filter * kernel + kernel / 2) * kernel + kernel / 2] = 1
        }
    }

    var weightShape: [Int] { weight.shape }
    var weightTag: dnnl_format_tag_t { dnnl_format_tag_any }

    /// Output size along one axis; PyTorch rounds down, so the right/bottom padding may be smaller.
    private func outputSize(_ size: Int) -> Int { (size + 2 * padding - kernel) / stride + 1 }
    private func paddingRight(_ size: Int) -> Int { (outputSize(size) - 1) * stride + kernel - size - padding }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        // One plan, made for training, serves evaluation too: a convolution computes the same in
        // both, and oneDNN's inference kernels choose other layouts (NHWC around strided
        // convolutions, Winograd-domain weights with AVX-512), a second copy of activations and
        // weights that added ~590 MB to resnet18's peak at batch 128.
        let plan = try plans.plan(x, training: training, eitherMode: true) { () throws -> any LayerPlan in
            let s = x.shape
            guard s.count == 4, s[1] == inChannels else {
                throw ShapeError("\(label) expects [N, \(inChannels), H, W] input, got \(s)")
            }
            guard s[2] + 2 * padding >= kernel, s[3] + 2 * padding >= kernel else {
                throw ShapeError("\(label): input \(s[2])×\(s[3]) is smaller than the \(kernel)×\(kernel) kernel")
            }
            if case .winograd(let isa) = algorithm {
                return WinogradPlan(self, isa: isa, input: x, pool: followingPool, outputMemory: outputMemory)
            }
            return WeightedPlan(self, weight: weight, input: x,
                                outputShape: [s[0], outChannels, outputSize(s[2]), outputSize(s[3])], training: true,
                                outputMemory: outputMemory)
        }
        LayerProfile.measure(self, name(plan), multiplyAdds: multiplyAdds(plan)) { plan.runForward() }
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        let plan = plans.lastPlan(label)
        return LayerProfile.measure(self, name(plan), multiplyAdds: (inputGradient ? 2 : 1) * multiplyAdds(plan)) {
            plan.runBackward(dy, inputGradient: inputGradient)
        }
    }

    /// The algorithm's name for `--explain`, with the tile size the input's shape chose for Winograd.
    private func name(_ plan: any LayerPlan) -> String {
        ((plan as? WinogradPlan)?.name ?? algorithm.description) + precision.suffix
    }

    /// A direct convolution's multiply-adds for one pass: one per weight tap feeding each output.
    private func multiplyAdds(_ plan: any LayerPlan) -> Int {
        ((plan as? WinogradPlan)?.convolutionOutput.shape ?? plan.output.shape).reduce(1, *) * inChannels * kernel * kernel
    }

    // MARK: oneDNN descriptions

    /// oneDNN's algorithm for a primitive on `weights`' data type: Winograd computes in float32
    /// only, so in bf16-backward a Winograd forward has a direct bf16 backward.
    private func oneDNNAlgorithm(_ weights: Desc) -> dnnl_alg_kind_t {
        algorithm == .oneDNNWinograd && weights.data_type == dnnl_f32 ? dnnl_convolution_winograd : dnnl_convolution_direct
    }

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
                                                    oneDNNAlgorithm(weights), &src, &weights, bias,
                                                    &dst, g.strides, g.left, g.right), "\(label) forward")
        }
        return Primitive(&op, "\(label) forward")
    }

    func backwardData(diffSrc: Desc, weights: Desc, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_convolution_desc_t()
        var (diffSrc, weights, diffDst) = (diffSrc, weights, diffDst)
        let g = geometry(diffSrc)
        dnnl(dnnl_convolution_backward_data_desc_init(&op, oneDNNAlgorithm(weights), &diffSrc, &weights, &diffDst,
                                                      g.strides, g.left, g.right), "\(label) backward data")
        return Primitive(&op, hint: hint, "\(label) backward data")
    }

    func backwardWeights(src: Desc, diffWeights: Desc, diffBias: Desc?, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_convolution_desc_t()
        var (src, diffWeights, diffDst) = (src, diffWeights, diffDst)
        let g = geometry(src)
        withOptionalPointer(diffBias) { diffBias in
            dnnl(dnnl_convolution_backward_weights_desc_init(&op, oneDNNAlgorithm(src), &src, &diffWeights,
                                                             diffBias, &diffDst, g.strides, g.left, g.right),
                 "\(label) backward weights")
        }
        return Primitive(&op, hint: hint, "\(label) backward weights")
    }
}

/// Which kernels run a convolution. Each gives a convolution's result up to float rounding, each
/// its own rounding; the choice is a function of the policy, the layer's shape and what the CPU
/// runs (`KernelISA.current`, oneDNN's ISA), so one machine, seed and thread count give the same bits.
public enum ConvolutionAlgorithm: Equatable, Sendable, CustomStringConvertible {
    /// oneDNN's direct kernels (any shape).
    case direct
    /// oneDNN 2.6's Winograd F(4×4, 3×3): AVX-512 only, 3×3 stride-1 convolutions.
    case oneDNNWinograd
    /// optlab's Winograd, F(4×4, 3×3) or F(2×2, 3×3) by the input's size (`Winograd.tileSize`), with
    /// that ISA's matrix products; the ISA changes the speed only, never the bits.
    case winograd(KernelISA)

    public var description: String {
        switch self {
        case .direct: return "onednn-direct"
        case .oneDNNWinograd: return "onednn-winograd"
        case .winograd(let isa): return "winograd-\(isa.rawValue)"
        }
    }

    /// The algorithm for a convolution of this shape under `policy`. `auto`: where oneDNN runs
    /// AVX-512, its Winograd F(4×4, 3×3) (it measured faster than optlab's F(2×2) at 16 lanes on
    /// every layer of vgg-small, resnet18 and labnet, AMD EPYC with AVX-512; optlab's F(4×4) came
    /// later and has not met an AVX-512 CPU); elsewhere optlab's Winograd at the widest ISA
    /// (oneDNN's direct kernels already run about as fast as AVX2's FMA units allow).
    /// Both need a 3×3, stride-1, padding-1 convolution, oneDNN's with channel counts that are
    /// multiples of 16, optlab's of its vector width (`Winograd.applies`); other convolutions run
    /// direct. Both compute in float32: in `bf16` every convolution runs direct; in `bf16-backward`
    /// the forward may run oneDNN's Winograd (its bf16 backward then runs direct), never optlab's,
    /// whose forward could not hand its layouts to oneDNN's backward.
    static func choose(_ policy: ConvolutionPolicy, precision: Precision, kernel: Int, stride: Int, padding: Int,
                       inChannels: Int, outChannels: Int) -> ConvolutionAlgorithm {
        func fits(_ channels: Int) -> Bool {
            Winograd.applies(kernel: kernel, stride: stride, padding: padding, inChannels: inChannels, outChannels: outChannels,
                             channels: channels)
        }
        let winograd = precision != .bf16 && fits(16)
        let optlabWinograd = precision == .fp32 && fits(KernelISA.current.lanes)
        switch policy {
        case .auto where winograd && KernelISA.oneDNNHasAVX512, .onednnWinograd where winograd && KernelISA.oneDNNHasAVX512:
            return .oneDNNWinograd
        case .auto where optlabWinograd, .winograd where optlabWinograd: return .winograd(KernelISA.current)
        default: return .direct
        }
    }
}

/// What `ConvolutionAlgorithm.choose` may pick: `auto` is the default, the others exist to compare.
public enum ConvolutionPolicy: String, CaseIterable, Sendable {
    case auto, winograd, onednnWinograd = "onednn-winograd", direct

    /// Why this CPU, or layers computing in `precision`, cannot run the policy, if they cannot.
    public func unsupportedReason(in precision: Precision) -> String? {
        if self == .onednnWinograd && !KernelISA.oneDNNHasAVX512 {
            return "oneDNN's Winograd convolutions need AVX-512 (avx512_core), which this CPU lacks or ONEDNN_MAX_CPU_ISA excludes"
        }
        switch (self, precision) {
        case (.winograd, .bf16), (.winograd, .bf16Backward), (.onednnWinograd, .bf16):
            return "Winograd computes in float32; --precision \(precision.rawValue) runs \(precision == .bf16 ? "direct" : "auto, onednn-winograd or direct")"
        default: return nil
        }
    }
}
