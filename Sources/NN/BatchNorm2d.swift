import CDNNL

/// `nn.BatchNorm2d(C, eps: 1e-5, momentum: 0.1)`. With `learnsWeight: false` γ stays at 1 (torch's
/// `weight.requires_grad = False`, as airbench's batch norms): still in the state dict, not a parameter.
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
    public let eps: Float
    /// The newest batch's weight in the running statistics; `Network.setBatchNormMomentum` sets it.
    public internal(set) var momentum: Float
    let weight: Weight, bias: Weight
    let runningMean: Weight, runningVar: Weight
    private(set) var batchesTracked: Int64 = 0
    private var plans = PlanCache<Plan>()

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, learnsWeight: Bool = true) {
        precondition(channels > 0, "invalid BatchNorm2d configuration")
        self.channels = channels
        self.eps = eps
        self.momentum = momentum
        weight = Weight([channels], learnable: learnsWeight, fill: 1)
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

    /// Set when a ReLU follows in a Sequential or block: the training passes then apply it (and
    /// its derivative) in the same loops, and the ReLU module passes values through.
    var appliesReLU = false
    /// Whether backward may write the input gradient over the incoming gradient (saving a buffer
    /// per layer); off where that gradient has another reader.
    var overwritesGradient = true

    final class Plan {
        /// Evaluation: the oneDNN call. Training: a reorder into a layout the loops walk, if needed.
        let calls: [Call]
        let input: Memory, output: Memory
        let groups: ChannelGroups?
        let count: Int
        /// Per channel: batch mean and 1/√(σ² + ε), then scratch for the passes' coefficients.
        let mean: UnsafeMutableBufferPointer<Float>, invStd: UnsafeMutableBufferPointer<Float>
        let scale: UnsafeMutableBufferPointer<Float>, shift: UnsafeMutableBufferPointer<Float>
        let slope: UnsafeMutableBufferPointer<Float>
        let sums: UnsafeMutableBufferPointer<Double>, products: UnsafeMutableBufferPointer<Double>
        var backward: (dy: Memory, calls: [Call], conformed: Memory, dx: Memory)?

        init(calls: [Call], input: Memory, output: Memory, channels: Int) {
            self.calls = calls
            self.input = input
            self.output = output
            groups = ChannelLayout(input.desc).flatMap { ChannelGroups($0, channels: channels) }
            let s = input.shape
            count = s[0] * s[2] * s[3]
            (mean, invStd, scale, shift, slope) = (.allocate(capacity: channels), .allocate(capacity: channels),
                                                   .allocate(capacity: channels), .allocate(capacity: channels),
                                                   .allocate(capacity: channels))
            (sums, products) = (.allocate(capacity: channels), .allocate(capacity: channels))
        }

        deinit {
            for buffer in [mean, invStd, scale, shift, slope] { buffer.deallocate() }
            sums.deallocate()
            products.deallocate()
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
        // Layouts the loops do not walk (rare) are first reordered to plain NCHW.
        let walkable = ChannelLayout(x.desc).flatMap { ChannelGroups($0, channels: channels) } != nil
        let (input, reorder) = walkable ? (x, nil) : conform(x, to: plainDesc(x.shape))
        return Plan(calls: [reorder].compactMap { $0 }, input: input, output: outputMemory(input.desc), channels: channels)
    }

    private func evaluationPlan(_ x: Memory) -> Plan {
        var op = dnnl_batch_normalization_desc_t()
        var data = x.desc
        let flags = dnnl_use_scale.rawValue | dnnl_use_shift.rawValue | dnnl_use_global_stats.rawValue
            | (appliesReLU ? dnnl_fuse_norm_relu.rawValue : 0)
        dnnl(dnnl_batch_normalization_forward_desc_init(&op, dnnl_forward_inference, &data, eps, flags), "\(label) forward")
        let forward = Primitive(&op, "\(label) forward")
        let output = outputMemory(x.desc)
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
        let groups = plan.groups!, relu = appliesReLU
        let x = plan.input.floats, y = plan.output.floats
        let n = Double(plan.count), m = momentum, unbias = n / (n - 1), eps = Double(eps)
        let (gamma, beta, runningMean, runningVar) = (weight.value, bias.value, runningMean.value, runningVar.value)
        let (mean, invStd, scale, shift, sums, squares) = (plan.mean, plan.invStd, plan.scale, plan.shift, plan.sums, plan.products)
        parallelFor(groups.groups) { g in
            groups.sum(group: g, into: sums, squares, { offset, _ in
                let v = SIMD8<Double>(x.unit(offset))
                return (v, v * v)
            }, tailTerm: { i in (Double(x[i]), Double(x[i]) * Double(x[i])) })
            for c in (g * groups.block)..<min(channels, (g + 1) * groups.block) {
                let mu = sums[c] / n, variance = max(squares[c] / n - mu * mu, 0)
                mean[c] = Float(mu)
                invStd[c] = Float(1 / (variance + eps).squareRoot())
                runningMean[c] = m * Float(mu) + (1 - m) * runningMean[c]
                runningVar[c] = m * Float(variance * unbias) + (1 - m) * runningVar[c]
                // y = x·α + β' with α = γ/σ, β' = β − μ·α (PyTorch's order of operations).
                scale[c] = invStd[c] * gamma[c]
                shift[c] = beta[c] - mean[c] * scale[c]
            }
            let alpha = groups.vectors(scale, group: g), offsetVector = groups.vectors(shift, group: g)
            groups.forEach(group: g, { offset, slot in
                var v = x.unit(offset) * (slot == 0 ? alpha.0 : alpha.1) + (slot == 0 ? offsetVector.0 : offsetVector.1)
                if relu { v.replace(with: 0, where: v .< 0) }
                y.setUnit(offset, v)
            }, tailBody: { i in
                let v = x[i] * scale[g] + shift[g]
                y[i] = relu ? max(v, 0) : v
            })
        }
        batchesTracked += 1
    }

    //   ∂L/∂β = Σ dy,  ∂L/∂γ = Σ dy·x̂,  dx = γ/σ · (dy − Σdy/n − x̂·Σdy·x̂/n),  x̂ = (x − μ)/σ
    // (with the ReLU applied here, dy is first zeroed where the output is 0).
    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        let plan = plans.lastPlan(label)
        if plan.backward == nil || plan.backward!.dy !== dy {
            let (dyC, reorder) = conform(dy, to: plan.input.desc)
            // Each unit of dx is computed from the same unit of dy, so it can replace it.
            let dx = overwritesGradient || reorder != nil ? dyC : Memory(plan.input.desc)
            plan.backward = (dy, [reorder].compactMap { $0 }, dyC, dx)
        }
        let b = plan.backward!
        if !b.calls.isEmpty { run(b.calls) }
        let groups = plan.groups!, relu = appliesReLU
        let (x, y, dyValues, dx) = (plan.input.floats, plan.output.floats, b.conformed.floats, b.dx.floats)
        let n = Double(plan.count)
        let (gamma, gradGamma, gradBeta) = (weight.value, weight.grad, bias.grad!)
        let (mean, invStd, scale, shift, slope) = (plan.mean, plan.invStd, plan.scale, plan.shift, plan.slope)
        let (sums, products) = (plan.sums, plan.products)
        @inline(__always) func gradient(_ offset: Int) -> SIMD8<Float> {
            var g = dyValues.unit(offset)
            if relu { g.replace(with: 0, where: y.unit(offset) .<= 0) }
            return g
        }
        @inline(__always) func gradient(at i: Int) -> Float { relu && y[i] <= 0 ? 0 : dyValues[i] }
        parallelFor(groups.groups) { g in
            let mu = groups.vectors(mean, group: g)
            groups.sum(group: g, into: sums, products, { offset, slot in
                let d = gradient(offset)
                return (SIMD8<Double>(d), SIMD8<Double>(d) * SIMD8<Double>(x.unit(offset) - (slot == 0 ? mu.0 : mu.1)))
            }, tailTerm: { i in
                let d = Double(gradient(at: i))
                return (d, d * Double(x[i] - mean[g]))
            })
            for c in (g * groups.block)..<min(channels, (g + 1) * groups.block) {
                let s = Double(invStd[c])
                gradBeta[c] = Float(sums[c])
                gradGamma?[c] = Float(products[c] * s)
                // dx = a·(dy − Σdy/n − (x − μ)·k) with a = γ/σ, k = Σdy·(x − μ)/(n·σ²).
                scale[c] = Float(Double(gamma[c]) * s)
                shift[c] = Float(sums[c] / n)
                slope[c] = Float(products[c] * s * s / n)
            }
            guard inputGradient else { return }
            let (a, meanDy, k) = (groups.vectors(scale, group: g), groups.vectors(shift, group: g), groups.vectors(slope, group: g))
            groups.forEach(group: g, { offset, slot in
                let first = slot == 0
                let v = (first ? a.0 : a.1) * (gradient(offset) - (first ? meanDy.0 : meanDy.1)
                                                - (x.unit(offset) - (first ? mu.0 : mu.1)) * (first ? k.0 : k.1))
                dx.setUnit(offset, v)
            }, tailBody: { i in
                dx[i] = scale[g] * (gradient(at: i) - shift[g] - (x[i] - mean[g]) * slope[g])
            })
        }
        return inputGradient ? b.dx : nil
    }
}
