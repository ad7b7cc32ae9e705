import Foundation

/// A formula in x and y as a tree. Built by `FormulaParser`, differentiated by `derivative(_:)`.
@usableFromInline indirect enum Expression: Equatable, Sendable, CustomStringConvertible {
    case constant(Double)
    case variable(Variable)
    case negate(Expression)
    case add(Expression, Expression)
    case subtract(Expression, Expression)
    case multiply(Expression, Expression)
    case divide(Expression, Expression)
    case power(Expression, Expression)
    case call(Function, Expression)

    @usableFromInline enum Variable: String, Sendable { case x, y }

    @usableFromInline enum Function: String, CaseIterable, Sendable {
        case sin, cos, tan, exp, log, sqrt, abs, tanh
        /// sign(u), the derivative of abs; produced by differentiation, not typed by users.
        case sign

        static var typeable: [Function] { allCases.filter { $0 != .sign } }

        func apply(_ u: Double) -> Double {
            switch self {
            case .sin: Foundation.sin(u)
            case .cos: Foundation.cos(u)
            case .tan: Foundation.tan(u)
            case .exp: Foundation.exp(u)
            case .log: Foundation.log(u)
            case .sqrt: u.squareRoot()
            case .abs: Swift.abs(u)
            case .tanh: Foundation.tanh(u)
            case .sign: u > 0 ? 1 : u < 0 ? -1 : u == 0 ? 0 : .nan
            }
        }
    }

    @usableFromInline func evaluate(_ x: Double, _ y: Double) -> Double {
        switch self {
        case .constant(let c): c
        case .variable(.x): x
        case .variable(.y): y
        case .negate(let a): -a.evaluate(x, y)
        case .add(let a, let b): a.evaluate(x, y) + b.evaluate(x, y)
        case .subtract(let a, let b): a.evaluate(x, y) - b.evaluate(x, y)
        case .multiply(let a, let b): a.evaluate(x, y) * b.evaluate(x, y)
        case .divide(let a, let b): a.evaluate(x, y) / b.evaluate(x, y)
        case .power(let a, let b): pow(a.evaluate(x, y), b.evaluate(x, y))
        case .call(let f, let a): f.apply(a.evaluate(x, y))
        }
    }

    /// Fully parenthesised formula syntax, parseable again.
    @usableFromInline var description: String {
        switch self {
        case .constant(let c):
            if c == .pi { return "pi" }
            if c == M_E { return "e" }
            return c == c.rounded() && Swift.abs(c) < 1e15 ? String(Int(c)) : "\(c)"
        case .variable(let v): return v.rawValue
        case .negate(let a): return "(-\(a))"
        case .add(let a, let b): return "(\(a) + \(b))"
        case .subtract(let a, let b): return "(\(a) - \(b))"
        case .multiply(let a, let b): return "(\(a)*\(b))"
        case .divide(let a, let b): return "(\(a)/\(b))"
        case .power(let a, let b): return "(\(a)^\(b))"
        case .call(let f, let a): return "\(f.rawValue)(\(a))"
        }
    }
}
