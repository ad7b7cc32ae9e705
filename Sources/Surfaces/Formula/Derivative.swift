import Foundation

/// Exact symbolic differentiation. The smart constructors below fold constants and drop zero
/// and unit terms, so derivatives stay as small as a person would write them.
extension Expression {
    func derivative(_ v: Variable) -> Expression {
        switch self {
        case .constant: return .constant(0)
        case .variable(let w): return .constant(w == v ? 1 : 0)
        case .negate(let a): return negated(a.derivative(v))
        case .add(let a, let b): return plus(a.derivative(v), b.derivative(v))
        case .subtract(let a, let b): return minus(a.derivative(v), b.derivative(v))
        case .multiply(let a, let b):  // (ab)' = a'b + ab'
            return plus(times(a.derivative(v), b), times(a, b.derivative(v)))
        case .divide(let a, let b):  // (a/b)' = (a'b − ab') / b²
            return over(minus(times(a.derivative(v), b), times(a, b.derivative(v))),
                            raise(b, .constant(2)))
        case .power(let a, .constant(let n)):  // (aⁿ)' = n·aⁿ⁻¹·a'
            return times(times(.constant(n), raise(a, .constant(n - 1))), a.derivative(v))
        case .power(let a, let b):  // (aᵇ)' = aᵇ·(b'·ln a + b·a'/a)
            return times(self, plus(times(b.derivative(v), calling(.log, a)),
                                     over(times(b, a.derivative(v)), a)))
        case .call(let f, let a):
            return times(f.derivative(at: a), a.derivative(v))
        }
    }
}

extension Expression.Function {
    /// f′(u), to be multiplied by u′ (chain rule).
    func derivative(at u: Expression) -> Expression {
        switch self {
        case .sin: return calling(.cos, u)
        case .cos: return negated(calling(.sin, u))
        case .tan: return over(.constant(1), raise(calling(.cos, u), .constant(2)))
        case .exp: return calling(.exp, u)
        case .log: return over(.constant(1), u)
        case .sqrt: return over(.constant(1), times(.constant(2), calling(.sqrt, u)))
        case .abs: return calling(.sign, u)
        case .tanh: return minus(.constant(1), raise(calling(.tanh, u), .constant(2)))
        case .sign: return .constant(0)
        }
    }
}

private func calling(_ f: Expression.Function, _ a: Expression) -> Expression {
    if case .constant(let c) = a { return .constant(f.apply(c)) }
    return .call(f, a)
}

private func negated(_ a: Expression) -> Expression {
    switch a {
    case .constant(let c): return .constant(-c)
    case .negate(let b): return b
    default: return .negate(a)
    }
}

private func plus(_ a: Expression, _ b: Expression) -> Expression {
    switch (a, b) {
    case (.constant(let p), .constant(let q)): return .constant(p + q)
    case (.constant(0), _): return b
    case (_, .constant(0)): return a
    case (_, .negate(let c)): return .subtract(a, c)
    default: return .add(a, b)
    }
}

private func minus(_ a: Expression, _ b: Expression) -> Expression {
    switch (a, b) {
    case (.constant(let p), .constant(let q)): return .constant(p - q)
    case (.constant(0), _): return negated(b)
    case (_, .constant(0)): return a
    default: return .subtract(a, b)
    }
}

private func times(_ a: Expression, _ b: Expression) -> Expression {
    switch (a, b) {
    case (.constant(let p), .constant(let q)): return .constant(p * q)
    case (.constant(0), _), (_, .constant(0)): return .constant(0)
    case (.constant(1), _): return b
    case (_, .constant(1)): return a
    case (.constant(-1), _): return negated(b)
    case (_, .constant(-1)): return negated(a)
    case (.constant(let p), .multiply(.constant(let q), let c)): return times(.constant(p * q), c)
    case (_, .constant): return times(b, a)  // constants first: 3*x rather than x*3
    default: return .multiply(a, b)
    }
}

private func over(_ a: Expression, _ b: Expression) -> Expression {
    switch (a, b) {
    case (.constant(let p), .constant(let q)) where q != 0: return .constant(p / q)
    case (.constant(0), _): return .constant(0)
    case (_, .constant(1)): return a
    default: return .divide(a, b)
    }
}

private func raise(_ a: Expression, _ b: Expression) -> Expression {
    switch (a, b) {
    case (.constant(let p), .constant(let q)): return .constant(Foundation.pow(p, q))
    case (_, .constant(0)): return .constant(1)
    case (_, .constant(1)): return a
    default: return .power(a, b)
    }
}
