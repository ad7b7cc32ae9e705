import CDNNL
import CKernels
import Foundation

/// The instruction set of optlab's own vector kernels (Winograd's matrix products in `CKernels`):
/// the widest this CPU runs, unless the environment variable `OPTLAB_MAX_ISA` caps it, as
/// `ONEDNN_MAX_CPU_ISA` caps oneDNN's, so that an AVX-512 machine runs and tests the AVX2 path too.
public enum KernelISA: String, CaseIterable, Comparable, Sendable {
    case avx2, avx512

    /// Floats per vector register.
    var lanes: Int { self == .avx2 ? 8 : 16 }

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.lanes < b.lanes }

    /// The instruction sets this CPU runs, narrowest first.
    public static let available: [KernelISA] = allCases.filter { $0.lanes <= Int(optlab_cpu_lanes()) }

    /// The cap `OPTLAB_MAX_ISA` sets, if any; a one-line error for a value that names no ISA.
    public static func environmentCap() throws -> KernelISA? {
        guard let value = ProcessInfo.processInfo.environment["OPTLAB_MAX_ISA"], !value.isEmpty else { return nil }
        guard let isa = KernelISA(rawValue: value.lowercased()) else {
            throw ISAError("OPTLAB_MAX_ISA=\(value) names no instruction set optlab has kernels for (\(allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return isa
    }

    /// The instruction set the kernels use: the widest available within `OPTLAB_MAX_ISA`.
    public static let current: KernelISA = {
        do {
            let cap = try environmentCap()
            return available.last { cap == nil || $0 <= cap! }!
        } catch { fatalError("\(error)") }  // the CLI checks `environmentCap()` before any kernel runs
    }()

    /// Whether oneDNN runs its AVX-512 kernels here (`ONEDNN_MAX_CPU_ISA` may cap them), which its
    /// Winograd convolutions need.
    static var oneDNNHasAVX512: Bool {
        let core = dnnl_cpu_isa_avx512_core.rawValue
        return dnnl_get_effective_cpu_isa().rawValue & core == core
    }

    /// An environment variable or option that asks for an instruction set this build or CPU lacks.
    public struct ISAError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
