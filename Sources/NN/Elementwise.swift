import CDNNL

/// A layer that maps each value on its own, y = f(x), run by oneDNN's eltwise primitive; backward
/// is dx = f′(x)·dy. In place it overwrites its input (the previous layer's output, which no layer
/// here needs again) and its backward pass reuses the incoming gradient's memory.
public class Elementwise: Module {
    public let inPlace: Bool
    /// Set when the preceding BatchNorm2d applies this function itself (ReLU; see `Sequential`).
    var absorbed = false
    private let algorithm: dnnl_alg_kind_t
    private let alpha: Float
    private var plans = PlanCache<Plan>()

    /// In place, `algorithm` must read f′ from the output (oneDNN's `…_use_dst_for_bwd` kinds).
    init(_ algorithm: dnnl_alg_kind_t, alpha: Float = 0, inPlace: Bool) {
        (self.algorithm, self.alpha, self.inPlace) = (algorithm, alpha, inPlace)
    }

    final class Plan {
        let forward: Primitive
        let call: Call
        let input: Memory, output: Memory
        var backward: (dy: Memory, calls: [Call], dx: Memory)?
        init(forward: Primitive, call: Call, input: Memory, output: Memory) {
            self.forward = forward; self.call = call; self.input = input; self.output = output
        }
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        if absorbed { return x }
        let plan = plans.plan(x, training: training) {
            var op = dnnl_eltwise_desc_t()
            var data = x.desc
            dnnl(dnnl_eltwise_forward_desc_init(&op, training ? dnnl_forward_training : dnnl_forward_inference,
                                                algorithm, &data, alpha, 0), "\(label) forward")
            let forward = Primitive(&op, "\(label) forward")
            let output = inPlace ? x : outputMemory(x.desc)
            return Plan(forward: forward, call: Call(forward, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, output)]),
                        input: x, output: output)
        }
        run([plan.call])
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        guard inputGradient else { return nil }
        if absorbed { return dy }
        let plan = plans.lastPlan(label)
        if let b = plan.backward, b.dy === dy {
            run(b.calls)
            return b.dx
        }
        var op = dnnl_eltwise_desc_t()
        var diff = plan.input.desc, data = plan.input.desc
        dnnl(dnnl_eltwise_backward_desc_init(&op, algorithm, &diff, &data, alpha, 0), "\(label) backward")
        let bwd = Primitive(&op, hint: plan.forward, "\(label) backward")
        let (dyC, reorder) = conform(dy, to: plan.input.desc)
        let dx = inPlace ? dyC : Memory(plan.input.desc)
        let call = Call(bwd, [inPlace ? (DNNL_ARG_DST, plan.output) : (DNNL_ARG_SRC, plan.input),
                              (DNNL_ARG_DIFF_DST, dyC), (DNNL_ARG_DIFF_SRC, dx)])
        let calls = [reorder].compactMap { $0 } + [call]
        plan.backward = (dy, calls, dx)
        run(calls)
        return dx
    }
}

/// `nn.ReLU(inplace:)`: y = max(x, 0). In place, a conv → BN → ReLU chain keeps one activation
/// instead of two; the derivative is then read from the output (y > 0 ⇔ x > 0).
public final class ReLU: Elementwise {
    public init(inPlace: Bool = false) {
        super.init(inPlace ? dnnl_eltwise_relu_use_dst_for_bwd : dnnl_eltwise_relu, inPlace: inPlace)
    }
}

/// `nn.GELU()`: y = x·Φ(x) with Φ the standard normal CDF (the exact, erf form, torch's default).
/// Its derivative needs x, so it never runs in place.
public final class GELU: Elementwise {
    public init() { super.init(dnnl_eltwise_gelu_erf, inPlace: false) }
}

/// y = factor·x: airbench's `Mul` after the classifier, which scales the logits (and so the
/// gradients reaching the weights before it) without a parameter.
public final class Scale: Elementwise {
    public let factor: Float
    public init(_ factor: Float) {
        self.factor = factor
        super.init(dnnl_eltwise_linear, alpha: factor, inPlace: false)
    }
}

/// `nn.Flatten()`: [N, C, H, W] → [N, C·H·W] in PyTorch's (channel-major) order. Blocked
/// activations are reordered to plain NCHW first, so the following Linear sees PyTorch's features.
public final class Flatten: Module {
    private var plans = PlanCache<Plan>()

    public override init() {}

    final class Plan {
        let calls: [Call]
        let plain: Memory, output: Memory
        var backward: (dy: Memory, calls: [Call], dx: Memory)?
        init(calls: [Call], plain: Memory, output: Memory) { self.calls = calls; self.plain = plain; self.output = output }
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let plan = plans.plan(x, training: training) {
            let s = x.shape
            let (plain, reorder) = conform(x, to: plainDesc(s))
            let output = Memory(plainDesc([s[0], s.dropFirst().reduce(1, *)]), borrowing: plain.data)
            return Plan(calls: [reorder].compactMap { $0 }, plain: plain, output: output)
        }
        if !plan.calls.isEmpty { run(plan.calls) }
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        guard inputGradient else { return nil }
        let plan = plans.lastPlan(label)
        if let b = plan.backward, b.dy === dy {
            if !b.calls.isEmpty { run(b.calls) }
            return b.dx
        }
        let (dyC, reorder) = conform(dy, to: plan.output.desc)
        let dx = Memory(plan.plain.desc, borrowing: dyC.data)
        let calls = [reorder].compactMap { $0 }
        plan.backward = (dy, calls, dx)
        if !calls.isEmpty { run(calls) }
        return dx
    }
}
