import Foundation
import Surfaces

/// A request that cannot be served as asked: answered 400 with this one-line message, worded as
/// the CLI words the same mistake.
public struct RequestError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A request's query parameters, read and checked like the command line's options.
struct Query {
    let values: [String: String]

    init(_ values: [String: String]) { self.values = values }

    func string(_ key: String, default value: String? = nil, maxLength: Int = 2000) throws -> String {
        guard let text = values[key] ?? value else { throw RequestError("\(key) is required") }
        guard text.count <= maxLength else { throw RequestError("\(key) is longer than \(maxLength) characters") }
        return text
    }

    func integer(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = values[key] else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw RequestError("\(key) must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return n
    }

    func number(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let text = values[key] else { return value }
        guard let x = Double(text), range.contains(x) else {
            throw RequestError("\(key) must be a number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return x
    }

    /// `start=X,Y`, as the CLI's --start; nil when absent.
    func point(_ key: String) throws -> Point? {
        guard let text = values[key] else { return nil }
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
            throw RequestError("\(key) expects X,Y such as -1,1.5, got '\(text)'")
        }
        return Point(x, y)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws -> T where T.RawValue == String {
        guard let text = values[key] else { return value }
        guard let v = T(rawValue: text) else {
            throw RequestError("\(key) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return v
    }
}
