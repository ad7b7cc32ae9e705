import CDNNL

/// What convolutions and linear layers compute in. `bf16`, as `torch.autocast("cpu",
/// dtype=torch.bfloat16)`: their inputs and weights are rounded to bfloat16 on the way in and they
/// accumulate in float32; their outputs and every gradient are float32, and batch norm, pooling,
/// the loss and the optimizer (on float32 master weights) stay float32. `bf16-backward`: the
/// forward in float32 (by fp32's algorithm, Winograd where it applies), the two backward products
/// (two thirds of the work) in bf16 as above, by direct kernels.
/// Rounding the forward's operands moves a trained labnet's weight gradients by 3–10 % (max-pooling and
/// ReLU choices flip, batch norm amplifies), rounding the backward's by ~0.3 % (README).
/// Debian's oneDNN 2.6 ignores `fpmath_mode` for x86 convolutions, so this is done with bf16
/// memory descriptors and reorders.
public enum Precision: String, CaseIterable, Sendable {
    case fp32, bf16
    case bf16Backward = "bf16-backward"

    /// The precision of layers made from now on.
    nonisolated(unsafe) public static var current = Precision.fp32

    /// What the forward product's operands are.
    var forwardType: dnnl_data_type_t { self == .bf16 ? dnnl_bf16 : dnnl_f32 }
    /// What the backward products' operands are.
    var backwardType: dnnl_data_type_t { self == .fp32 ? dnnl_f32 : dnnl_bf16 }

    /// How `bench --explain` marks a bf16 layer's algorithm.
    var suffix: String { self == .fp32 ? "" : "-" + rawValue }

    /// Why this CPU cannot compute in this precision, if it cannot: oneDNN needs AVX512_BF16 (or
    /// AMX) for bf16 kernels at speed.
    public var unsupportedReason: String? {
        let bf16 = dnnl_cpu_isa_avx512_core_bf16.rawValue
        guard self != .fp32, dnnl_get_effective_cpu_isa().rawValue & bf16 != bf16 else { return nil }
        return "--precision \(rawValue) needs a CPU with AVX512_BF16 or AMX-BF16 (this one has neither, or ONEDNN_MAX_CPU_ISA excludes them)"
    }
}
