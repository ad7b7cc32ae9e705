import CDNNL

/// `nn.BatchNorm2d(C, eps: 1e-5, momentum: 0.1)`.
///
/// Training: y = γ (x − μ_B) / √(σ²_B + ε) + β with the batch's mean and biased variance, then
/// running_mean ← (1 − m)·running_mean + m·μ_B and running_var ← (1 − m)·running_var + m·σ²_B·n/(n − 1)
/// (unbiased, n = N·H·W). Evaluation normalises with the running statistics (oneDNN primitive).
///
/// Training passes are written out here, not run by oneDNN: its kernels accumulate the batch
/// statistics and Σdy, Σdy·x̂ in float32. Those gradient sums cancel heavily when another
/// BatchNorm follows, so float32 rounding in the statistics moved VGG gradients ~0.4 % away from
/// PyTorch's, which accumulates in double, as these loops do (per channel, in parallel).
public final class BatchNorm2d: Module {
    public let channels: Int
    public let eps: Float, momentum: Float
    let weight: Weight, bias: Weight
    let runningMean: Weight, runningVar: Weight
    private(set) var batchesTracked: Int64 = 0
    private var plans = PlanCache<Plan>()

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        precondition(channels > 0, "invalid BatchNorm2d configuration")
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Weight([channels], fill: 1)
        bias = Weight([channels])
        runningMean = Weight([channels], learnable: false)
        runningVar = Weight([channels], learnable: false, fill: 1)
    }

    override var weights: [(name: String, weight: Weight)] {
        [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)]
    }
    override var counters: [(name: String, value: Int64)] { [("num_batches_tracked", batchesTracked)] }
    override func setCounter(_ name: String, _ value: Int64) { batchesTracked = value }

    override func reset(_ random: inout Random) {
        weight.value.update(repeating: 1)
        bias.value.update(repeating: 0)
        runningMean.value.update(repeating: 0)
        runningVar.value.update(repeating: 1)
        batchesTracked = 0
    }

    final class Plan {
        /// Evaluation: the oneDNN call. Training: reorders into a layout the loops can walk.
        let calls: [Call]
        let input: Memory, output: Memory
        let layout: ChannelLayout
        let count: Int
        /// Batch mean and 1/√(σ² + ε) of the last training forward.
        let mean: UnsafeMutableBufferPointer<Float>, invStd: UnsafeMutableBufferPointer<Float>
        var backward: (dy: Memory, calls: [Call], conformed: Memory, dx: Memory)?

        init(calls: [Call], input: Memory, output: Memory, channels: Int) {
            self.calls = calls
            self.input = input
            self.output = output
            layout = ChannelLayout(input.desc)!
            let s = input.shape
            count = s[0] * s[2] * s[3]
            mean = .allocate(capacity: channels)
            invStd = .allocate(capacity: channels)
        }

        deinit {
            mean.deallocate()
            invStd.deallocate()
        }
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let plan = try plans.plan(x, training: training) {
            let s = x.shape
            guard s.count == 4, s[1] == channels else {
                throw ShapeError("\(label) expects [N, \(channels), H, W] input, got \(s)")
            }
            if training && s[0] * s[2] * s[3] < 2 {
                throw ShapeError("\(label): training needs more than one value per channel, got input \(s)")
            }
            return training ? trainingPlan(x) : evaluationPlan(x)
        }
        if training {
            normaliseWithBatchStatistics(plan)
        } else {
            run(plan.calls)
        }
        return plan.output
    }

    private func trainingPlan(_ x: Memory) -> Plan {
        // Layouts with more than one channel block (rare) are first reordered to plain NCHW.
        let (input, reorder) = ChannelLayout(x.desc) == nil ? conform(x, to: plainDesc(x.shape)) : (x, nil)
        return Plan(calls: [reorder].compactMap { $0 }, input: input, output: Memory(input.desc), channels: channels)
    }

    private func evaluationPlan(_ x: Memory) -> Plan {
        var op = dnnl_batch_normalization_desc_t()
        var data = x.desc
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | dnnl_use_global_stats.rawValue
        dnnl(dnnl_batch_normalization_forward_desc_init(&op, dnnl_forward_inference, &data, eps, flags), "\(label) forward")
        let forward = Primitive(&op, "\(label) forward")
        let output = Memory(x.desc)
        let vector = plainDesc([channels])
        let call = Call(forward, [(DNNL_ARG_SRC, x), (DNNL_ARG_DST, output),
                                  (DNNL_ARG_MEAN, Memory(vector, borrowing: runningMean.valuePointer)),
                                  (DNNL_ARG_VARIANCE, Memory(vector, borrowing: runningVar.valuePointer)),
                                  (DNNL_ARG_SCALE, Memory(vector, borrowing: weight.valuePointer)),
                                  (DNNL_ARG_SHIFT, Memory(vector, borrowing: bias.valuePointer))])
        return Plan(calls: [call], input: x, output: output, channels: channels)
    }

    private func normaliseWithBatchStatistics(_ plan: Plan) {
        if !plan.calls.isEmpty { run(plan.calls) }
        let x = plan.input.floats, y = plan.output.floats, layout = plan.layout
        let n = Double(plan.count), m = momentum, unbias = n / (n - 1)
        let gamma = weight.value, beta = bias.value
        let (meanOut, invStdOut) = (plan.mean, plan.invStd)
        let (runningMean, runningVar, eps) = (runningMean.value, runningVar.value, Double(eps))
        parallelFor(channels) { c in
            var sum = 0.0, squares = 0.0
            layout.forEachRun(channel: c) { run in
                for i in run {
                    let v = Double(x[i])
                    sum += v
                    squares += v * v
                }
            }
            let mean = sum / n, variance = max(squares / n - mean * mean, 0)
            meanOut[c] = Float(mean)
            invStdOut[c] = Float(1 / (variance + eps).squareRoot())
            runningMean[c] = m * Float(mean) + (1 - m) * runningMean[c]
            runningVar[c] = m * Float(variance * unbias) + (1 - m) * runningVar[c]
            // y = x·α + β' with α = γ/σ, β' = β − μ·α (PyTorch's order of operations).
            let alpha = invStdOut[c] * gamma[c], shift = beta[c] - meanOut[c] * alpha
            layout.forEachRun(channel: c) { run in
                for i in run { y[i] = x[i] * alpha + shift }
            }
        }
        batchesTracked += 1
    }

    //   ∂L/∂β = Σ dy,  ∂L/∂γ = Σ dy·x̂,  dx = γ/σ · (dy − Σdy/n − x̂·Σdy·x̂/n),  x̂ = (x − μ)/σ
    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        let plan = plans.lastPlan(label)
        if plan.backward == nil || plan.backward!.dy !== dy {
            let (dyC, reorder) = conform(dy, to: plan.input.desc)
            plan.backward = (dy, [reorder].compactMap { $0 }, dyC, Memory(plan.input.desc))
        }
        let b = plan.backward!
        if !b.calls.isEmpty { run(b.calls) }
        let (x, g, dx, layout) = (plan.input.floats, b.conformed.floats, b.dx.floats, plan.layout)
        let n = Double(plan.count)
        let (gamma, gradGamma, gradBeta) = (weight.value, weight.grad!, bias.grad!)
        let (mean, invStd) = (plan.mean, plan.invStd)
        parallelFor(channels) { c in
            var sumDy = 0.0, sumDyX = 0.0
            let mu = Double(mean[c])
            layout.forEachRun(channel: c) { run in
                for i in run {
                    let d = Double(g[i])
                    sumDy += d
                    sumDyX += d * (Double(x[i]) - mu)
                }
            }
            let s = Double(invStd[c])
            gradBeta[c] = Float(sumDy)
            gradGamma[c] = Float(sumDyX * s)
            guard inputGradient else { return }
            // dx = a·(dy − Σdy/n − (x − μ)·k) with a = γ/σ, k = Σdy·(x − μ)/(n·σ²).
            let a = Float(Double(gamma[c]) * s), meanDy = Float(sumDy / n), k = Float(sumDyX * s * s / n)
            let muF = mean[c]
            layout.forEachRun(channel: c) { run in
                for i in run { dx[i] = a * (g[i] - meanDy - (x[i] - muF) * k) }
            }
        }
        return inputGradient ? b.dx : nil
    }
}
