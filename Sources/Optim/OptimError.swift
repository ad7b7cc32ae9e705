import Foundation

/// Every error of the Optim module: one line that names the offending part and, where there is a
/// choice, the valid ones.
public struct OptimError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
