import Foundation

/// A point of the plane.
public struct Point: Hashable, Sendable, CustomStringConvertible {
    public var x, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
    public var description: String { "(\(x), \(y))" }
}

/// The part of the plane a surface is shown in.
public struct Window: Equatable, Sendable {
    public var x, y: ClosedRange<Double>
    public init(x: ClosedRange<Double>, y: ClosedRange<Double>) { self.x = x; self.y = y }
}

/// A function f(x, y) with its exact gradient, a default window and start point, and its known
/// minima: one of the built-ins (`bowl`, `rosenbrock`, ...) or a formula the user typed.
public struct Surface: Sendable {
    /// The built-in's name, or the formula as typed.
    public let name: String
    /// The function in formula syntax, e.g. "20*x^2 + 2*y^2".
    public let formula: String
    /// A formula the user typed (named by itself) rather than a built-in.
    public var isTypedFormula: Bool { name == formula }
    public let window: Window
    public let start: Point
    /// Known minima, global first; empty where there is none (saddle) or it is unknown (formulas).
    public let minima: [Point]
    // Inlinable (and inlined) so sweeps in other modules evaluate built-ins without a call per step.
    @usableFromInline let function: Function

    @usableFromInline enum Function: Sendable {
        case builtin(Builtin)
        case formula(value: Expression, dx: Expression, dy: Expression)
    }

    @inlinable @inline(__always)
    public func value(_ x: Double, _ y: Double) -> Double {
        switch function {
        case .builtin(let b): b.value(x, y)
        case .formula(let f, _, _): f.evaluate(x, y)
        }
    }

    @inlinable @inline(__always)
    public func gradient(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        switch function {
        case .builtin(let b): b.gradient(x, y)
        case .formula(_, let dx, let dy): (dx.evaluate(x, y), dy.evaluate(x, y))
        }
    }

    /// A built-in by name, otherwise `text` parsed as a formula in x and y.
    public static func named(_ text: String) throws -> Surface {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let b = Builtin(rawValue: trimmed) { return b.surface }
        if trimmed.allSatisfy({ $0.isLetter }), !["x", "y", "pi", "e"].contains(trimmed) {
            throw SurfaceError("unknown surface '\(trimmed)'; valid: \(Builtin.allCases.map(\.rawValue).joined(separator: ", ")), or a formula in x and y such as \"x^2 + 3*sin(x*y)\"")
        }
        return try formula(text)
    }

    /// A surface from a formula such as "x^2 + 3*sin(x*y)", differentiated symbolically.
    public static func formula(_ text: String, window: Window = Window(x: -2...2, y: -2...2),
                               start: Point = Point(-1.5, 1.5)) throws -> Surface {
        let f = try FormulaParser.parse(text)
        return Surface(name: text, formula: text, window: window, start: start, minima: [],
                       function: .formula(value: f, dx: f.derivative(.x), dy: f.derivative(.y)))
    }

    public static var builtins: [Surface] { Builtin.allCases.map(\.surface) }
    public static var builtinNames: [String] { Builtin.allCases.map(\.rawValue) }
}

/// Every error of the Surfaces module, as one line.
public struct SurfaceError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
