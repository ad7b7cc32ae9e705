import CDNNL

/// `nn.Linear(in, out, bias)`: y = x Wᵀ + b on [N, in] inputs; weight [out, in], bias [out].
public final class Linear: Module, WeightedOperation {
    public let inFeatures: Int, outFeatures: Int
    let weight: Weight
    let bias: Weight?
    let precision: Precision
    private var plans = PlanCache<WeightedPlan>()

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures > 0 && outFeatures > 0, "invalid Linear configuration")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Weight([outFeatures, inFeatures])
        self.bias = bias ? Weight([outFeatures]) : nil
        precision = Precision.current
    }

    /// A replica for one slice of a split batch: this configuration, `other`'s parameter values.
    init(replicating other: Linear) {
        (inFeatures, outFeatures) = (other.inFeatures, other.outFeatures)
        weight = Weight(sharingValueOf: other.weight)
        bias = other.bias.map { Weight(sharingValueOf: $0) }
        precision = other.precision
    }

    override var weights: [(name: String, weight: Weight)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    override func reset(_ random: inout Random) {
        resetKaimingUniform(weight, bias: bias, fanIn: inFeatures, &random)
    }

    var weightShape: [Int] { weight.shape }
    var weightTag: dnnl_format_tag_t { dnnl_ab }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let plan = try plans.plan(x, training: training) {
            let s = x.shape
            guard s.count == 2, s[1] == inFeatures else {
                throw ShapeError("\(label) expects [N, \(inFeatures)] input, got \(s)")
            }
            return WeightedPlan(self, weight: weight, input: x, outputShape: [s[0], outFeatures], training: training,
                                outputMemory: outputMemory)
        }
        LayerProfile.measure(self, "onednn-inner-product" + precision.suffix, multiplyAdds: plan.output.shape.reduce(1, *) * inFeatures) {
            plan.runForward()
        }
        return plan.output
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        let plan = plans.lastPlan(label)
        return LayerProfile.measure(self, "onednn-inner-product" + precision.suffix,
                                    multiplyAdds: (inputGradient ? 2 : 1) * plan.output.shape.reduce(1, *) * inFeatures) {
            plan.runBackward(dy, inputGradient: inputGradient)
        }
    }

    // MARK: oneDNN descriptions (inner product)

    func forward(src: Desc, weights: Desc, bias: Desc?, dst: Desc, training: Bool) -> Primitive {
        var op = dnnl_inner_product_desc_t()
        var (src, weights, dst) = (src, weights, dst)
        withOptionalPointer(bias) { bias in
            dnnl(dnnl_inner_product_forward_desc_init(&op, training ? dnnl_forward_training : dnnl_forward_inference,
                                                      &src, &weights, bias, &dst), "\(label) forward")
        }
        return Primitive(&op, "\(label) forward")
    }

    func backwardData(diffSrc: Desc, weights: Desc, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_inner_product_desc_t()
        var (diffSrc, weights, diffDst) = (diffSrc, weights, diffDst)
        dnnl(dnnl_inner_product_backward_data_desc_init(&op, &diffSrc, &weights, &diffDst), "\(label) backward data")
        return Primitive(&op, hint: hint, "\(label) backward data")
    }

    func backwardWeights(src: Desc, diffWeights: Desc, diffBias: Desc?, diffDst: Desc, hint: Primitive) -> Primitive {
        var op = dnnl_inner_product_desc_t()
        var (src, diffWeights, diffDst) = (src, diffWeights, diffDst)
        withOptionalPointer(diffBias) { diffBias in
            dnnl(dnnl_inner_product_backward_weights_desc_init(&op, &src, &diffWeights, diffBias, &diffDst),
                 "\(label) backward weights")
        }
        return Primitive(&op, hint: hint, "\(label) backward weights")
    }
}
