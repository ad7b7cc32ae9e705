import CDNNL

/// Max or average pooling over square windows (oneDNN pooling, any activation layout).
/// Subclassed by the PyTorch-named layers below.
public class Pool2d: Module {
    enum Kind { case max, average, global }
    let kind: Kind
    let kernel: Int, stride: Int, padding: Int
    private var plans = PlanCache<Plan>()

    init(_ kind: Kind, kernel: Int, stride: Int, padding: Int) {
        precondition(kind == .global || (kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel),
                     "invalid pooling configuration")
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    final class Plan {
        let forward: Primitive
        let calls: [Call]
        let output: Memory
        let workspace: Memory?
        let geometry: (kernel: [Int64], strides: [Int64], left: [Int64], right: [Int64])
        let inputShape: [Int]
        var backward: (dy: Memory, calls: [Call], dx: Memory)?

        init(forward: Primitive, calls: [Call], output: Memory, workspace: Memory?,
             geometry: (kernel: [Int64], strides: [Int64], left: [Int64], right: [Int64]), inputShape: [Int]) {
            self.forward = forward; self.calls = calls; self.output = output; self.workspace = workspace
            self.geometry = geometry; self.inputShape = inputShape
        }
    }

    private var algorithm: dnnl_alg_kind_t {
        // PyTorch's AvgPool2d counts padded positions (count_include_pad=True).
        kind == .max ? dnnl_pooling_max : dnnl_pooling_avg_include_padding
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let plan = try plans.plan(x, training: training) { try makePlan(x, training: training) }
        run(plan.calls)
        return plan.output
    }

    private func makePlan(_ x: Memory, training: Bool) throws -> Plan {
        let s = x.shape
        guard s.count == 4 else { throw ShapeError("\(label) expects [N, C, H, W] input, got \(s)") }
        let (kh, kw, st) = kind == .global ? (s[2], s[3], 1) : (kernel, kernel, stride)
        let pad = kind == .global ? 0 : padding
        guard s[2] + 2 * pad >= kh, s[3] + 2 * pad >= kw else {
            throw ShapeError("\(label): input \(s[2])×\(s[3]) is smaller than the \(kh)×\(kw) window")
        }
        // Output rounds down like PyTorch (ceil_mode=False); the right padding absorbs the rest.
        let oh = (s[2] + 2 * pad - kh) / st + 1, ow = (s[3] + 2 * pad - kw) / st + 1
        let g = (kernel: [Int64(kh), Int64(kw)], strides: [Int64(st), Int64(st)], left: [Int64(pad), Int64(pad)],
                 right: [Int64((oh - 1) * st + kh - s[2] - pad), Int64((ow - 1) * st + kw - s[3] - pad)])
        var op = dnnl_pooling_v2_desc_t()
        var src = x.desc, dst = anyDesc([s[0], s[1], oh, ow])
        dnnl(dnnl_pooling_v2_forward_desc_init(&op, training ? dnnl_forward_training : dnnl_forward_inference, algorithm,
                                               &src, &dst, g.strides, g.kernel, [0, 0], g.left, g.right), "\(label) forward")
        let forward = Primitive(&op, "\(label) forward")
        let output = outputMemory(forward.desc(dnnl_query_dst_md))
        var args = [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, output)]
        var workspace: Memory?
        if training && kind == .max {
            workspace = Memory(forward.desc(dnnl_query_workspace_md))
            args.append((DNNL_ARG_WORKSPACE, workspace!))
        }
        return Plan(forward: forward, calls: [Call(forward, args)], output: output, workspace: workspace,
                    geometry: g, inputShape: s)
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        guard inputGradient else { return nil }
        let plan = plans.lastPlan(label)
        if let b = plan.backward, b.dy === dy {
            run(b.calls)
            return b.dx
        }
        let g = plan.geometry
        var op = dnnl_pooling_v2_desc_t()
        var diffSrc = anyDesc(plan.inputShape), diffDst = plan.output.desc
        dnnl(dnnl_pooling_v2_backward_desc_init(&op, algorithm, &diffSrc, &diffDst, g.strides, g.kernel, [0, 0],
                                                g.left, g.right), "\(label) backward")
        let bwd = Primitive(&op, hint: plan.forward, "\(label) backward")
        let (dyC, reorder) = conform(dy, to: bwd.desc(dnnl_query_diff_dst_md))
        let dx = Memory(bwd.desc(dnnl_query_diff_src_md))
        var args = [(DNNL_ARG_DIFF_DST, dyC), (DNNL_ARG_DIFF_SRC, dx)]
        if let ws = plan.workspace { args.append((DNNL_ARG_WORKSPACE, ws)) }
        let calls = [reorder].compactMap { $0 } + [Call(bwd, args)]
        plan.backward = (dy, calls, dx)
        run(calls)
        return dx
    }
}

/// `nn.MaxPool2d(kernel, stride = kernel, padding)`.
public final class MaxPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.max, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
}

/// `nn.AvgPool2d(kernel, stride = kernel, padding)` (padded positions count, as in PyTorch).
public final class AvgPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.average, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
}

/// `nn.AdaptiveAvgPool2d((1, 1))`: global average pooling, [N, C, H, W] → [N, C, 1, 1].
public final class AdaptiveAvgPool2d: Pool2d {
    public init() { super.init(.global, kernel: 0, stride: 1, padding: 0) }
}
