/// `nn.Dropout(p)`: in training each value is zeroed with probability p and the rest scaled by
/// 1/(1 − p); evaluation passes values through. Masks come from the network's seeded generator.
public final class Dropout: Module {
    public let p: Float
    private var random = Random(seed: 0)
    private var plans = PlanCache<Plan>()

    public init(_ p: Float = 0.5) {
        precondition(p >= 0 && p < 1, "Dropout probability must be in [0, 1)")
        self.p = p
    }

    final class Plan {
        let input: Memory, output: Memory
        let mask: UnsafeMutableBufferPointer<Float>
        var backward: (dy: Memory, conformed: Memory, reorder: Call?, dx: Memory)?
        init(input: Memory) {
            self.input = input
            output = Memory(input.desc)
            mask = .allocate(capacity: input.floats.count)
        }
        deinit { mask.deallocate() }
    }

    override func reset(_ random: inout Random) { self.random = Random(seed: random.next()) }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        guard training && p > 0 else { return x }
        let plan = plans.plan(x, training: training) { Plan(input: x) }
        // Works on the physical buffer whatever its layout: padding lanes are zero and stay zero.
        let scale = 1 / (1 - p)
        let src = x.floats, dst = plan.output.floats, mask = plan.mask
        for i in 0..<src.count {
            mask[i] = random.unit() < p ? 0 : scale
            dst[i] = src[i] * mask[i]
        }
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        guard inputGradient else { return nil }
        guard p > 0 else { return dy }
        let plan = plans.lastPlan(label)
        if plan.backward == nil || plan.backward!.dy !== dy {
            let (dyC, reorder) = conform(dy, to: plan.input.desc)
            plan.backward = (dy, dyC, reorder, Memory(plan.input.desc))
        }
        let b = plan.backward!
        if let reorder = b.reorder { run([reorder]) }
        let src = b.conformed.floats, dst = b.dx.floats, mask = plan.mask
        for i in 0..<src.count { dst[i] = src[i] * mask[i] }
        return b.dx
    }
}
