import CDNNL

/// torchvision's ResNet `BasicBlock`: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
/// where the shortcut is the identity, or `downsample` (1×1 conv with stride + BN) when the
/// shape changes. Names as torchvision: conv1, bn1, conv2, bn2, downsample.0, downsample.1.
public final class BasicBlock: Module {
    let conv1: Conv2d, bn1: BatchNorm2d
    let conv2: Conv2d, bn2: BatchNorm2d, relu2 = ReLU(inPlace: true)
    let downsample: Sequential?
    private let residual = Add(), gradientSum = Add()

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1) {
        conv1 = Conv2d(inChannels, outChannels, kernel: 3, stride: stride, padding: 1, bias: false)
        bn1 = BatchNorm2d(outChannels)
        bn1.appliesReLU = true  // the block's first ReLU runs inside the normalisation pass
        conv2 = Conv2d(outChannels, outChannels, kernel: 3, stride: 1, padding: 1, bias: false)
        bn2 = BatchNorm2d(outChannels)
        bn2.overwritesGradient = false  // its incoming gradient also feeds the shortcut
        if stride != 1 || inChannels != outChannels {
            let norm = BatchNorm2d(outChannels)
            norm.overwritesGradient = false
            downsample = Sequential([Conv2d(inChannels, outChannels, kernel: 1, stride: stride, bias: false), norm])
        } else {
            downsample = nil
        }
    }

    override var children: [(name: String, module: Module)] {
        [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)] + (downsample.map { [("downsample", $0)] } ?? [])
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        var h = try bn1.forward(conv1.forward(x, training: training), training: training)
        h = try bn2.forward(conv2.forward(h, training: training), training: training)
        let shortcut = try downsample?.forward(x, training: training) ?? x
        return try relu2.forward(residual(h, shortcut), training: training)
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        // The gradient of the sum reaches both branches unchanged.
        let d = relu2.backward(dy, inputGradient: true)!
        var g = bn2.backward(d, inputGradient: true)!
        g = conv2.backward(g, inputGradient: true)!
        g = bn1.backward(g, inputGradient: true)!
        let main = conv1.backward(g, inputGradient: inputGradient)
        let shortcut = downsample.map { $0.backward(d, inputGradient: inputGradient) } ?? d
        guard inputGradient, let main, let shortcut else { return nil }
        return gradientSum(main, shortcut)
    }
}

/// Adds activation `b` into activation `a` in place (oneDNN binary add), in `a`'s layout; the
/// block only adds into memories it no longer needs (bn2's output, conv1's input gradient).
final class Add {
    private var plans = PlanCache<(call: [Call], output: Memory)>()

    func callAsFunction(_ a: Memory, _ b: Memory) -> Memory {
        let plan = plans.plan(a, b, training: true) {
            let (bC, reorder) = conform(b, to: a.desc)
            let output = a
            var op = dnnl_binary_desc_t()
            var (src0, src1, dst) = (a.desc, a.desc, a.desc)
            dnnl(dnnl_binary_desc_init(&op, dnnl_binary_add, &src0, &src1, &dst), "residual add")
            let add = Primitive(&op, "residual add")
            return ([reorder].compactMap { $0 } + [Call(add, [(DNNL_ARG_SRC_0, a), (DNNL_ARG_SRC_1, bC), (DNNL_ARG_DST, output)])], output)
        }
        run(plan.call)
        return plan.output
    }
}
