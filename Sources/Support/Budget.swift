import Foundation

/// Requests too big to finish are refused before any work starts, with the estimate and the
/// limit, rather than ending in an out-of-memory kill or hours of computing.
public enum Budget {
    /// Half the machine's memory, so the rest of the system keeps running.
    public static var memoryLimit: Double { Double(ProcessInfo.processInfo.physicalMemory) / 2 }
    /// 2-D optimizer steps in one request: about ten minutes on one core (≈ 20 M steps/s).
    public static let stepLimit = 1e10
    /// Multiply-adds of network passes in one request (a landscape's loss evaluations): about half
    /// an hour of labnet's forward passes on two AVX-512 cores (≈ 60 G multiply-adds/s).
    public static let multiplyAddLimit = 1e14

    /// Throws when `bytes` or `steps` exceed the limits; `request` names the work ("lr-sweep: 101
    /// learning rates × 9 optimizers × 100 steps") and `advice` says what to make smaller.
    public static func check(_ request: String, bytes: Double, steps: Double, advice: String) throws {
        if bytes > memoryLimit {
            throw BudgetError("\(request) would need about \(size(bytes)) of memory; the limit is \(size(memoryLimit)) (half this machine's): \(advice)")
        }
        if steps > stepLimit {
            throw BudgetError("\(request) is \(String(format: "%.2g", steps)) optimizer steps; the limit is \(String(format: "%.2g", stepLimit)) (about ten minutes): \(advice)")
        }
    }

    /// Throws when a request's network passes exceed `multiplyAddLimit`, with the estimate.
    public static func check(_ request: String, multiplyAdds: Double, advice: String) throws {
        if multiplyAdds > multiplyAddLimit {
            throw BudgetError("\(request) is \(String(format: "%.2g", multiplyAdds)) multiply-adds; the limit is \(String(format: "%.2g", multiplyAddLimit)) (about half an hour on two cores): \(advice)")
        }
    }

    static func size(_ bytes: Double) -> String {
        bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : String(format: "%.0f MB", bytes / 1e6)
    }
}

/// A request over the budget; one line with the estimate and the limit.
public struct BudgetError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
