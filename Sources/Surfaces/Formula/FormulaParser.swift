import Foundation

/// Parses a formula in x and y:
///
///     sum     := product (("+" | "-") product)*
///     product := unary (("*" | "/") unary)*
///     unary   := "-" unary | power
///     power   := atom ("^" unary)?          right-associative; "**" works too; -x^2 = -(x^2)
///     atom    := NUMBER | x | y | pi | e | FUNCTION "(" sum ")" | "(" sum ")"
///
/// Errors name the column, e.g. `formula "x^2 + * y", column 7: expected a number, ...`.
struct FormulaParser {
    private let text: String
    private let chars: [Character]
    private var i = 0
    /// Nesting so far; bounded so a pathological formula is an error, not a stack overflow.
    private var depth = 0
    private static let maximumDepth = 200

    static func parse(_ text: String) throws -> Expression {
        var parser = FormulaParser(text: text, chars: Array(text))
        let e = try parser.sum()
        parser.skipSpaces()
        if let c = parser.peek {
            throw parser.error(c == ")" ? "unmatched ')'" : "expected an operator (+ - * / ^), found '\(c)'")
        }
        return e
    }

    private mutating func sum() throws -> Expression {
        var e = try product()
        while true {
            if consume("+") { e = .add(e, try product()) }
            else if consume("-") { e = .subtract(e, try product()) }
            else { return e }
        }
    }

    private mutating func product() throws -> Expression {
        var e = try unary()
        while true {
            if consume("**") { i -= 2; return e }  // a power belongs to power(), not here
            if consume("*") { e = .multiply(e, try unary()) }
            else if consume("/") { e = .divide(e, try unary()) }
            else { return e }
        }
    }

    private mutating func unary() throws -> Expression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        if consume("-") { return .negate(try unary()) }
        if consume("+") { return try unary() }
        return try power()
    }

    private mutating func power() throws -> Expression {
        let base = try atom()
        if consume("^") || consume("**") { return .power(base, try unary()) }
        return base
    }

    private mutating func atom() throws -> Expression {
        skipSpaces()
        let start = i
        guard let c = peek else { throw error("unexpected end; expected a number, x, y, a function or '('") }
        if c.isNumber || c == "." {
            while let d = peek, d.isNumber || d == "." { i += 1 }
            if let d = peek, d == "e" || d == "E", i + 1 < chars.count,
               chars[i + 1].isNumber || ((chars[i + 1] == "-" || chars[i + 1] == "+") && i + 2 < chars.count && chars[i + 2].isNumber) {
                i += 2
                while let d = peek, d.isNumber { i += 1 }
            }
            guard let value = Double(String(chars[start..<i])) else {
                throw error("'\(String(chars[start..<i]))' is not a number", column: start)
            }
            return .constant(value)
        }
        if c.isLetter {
            while let d = peek, d.isLetter || d.isNumber || d == "_" { i += 1 }
            let name = String(chars[start..<i])
            switch name {
            case "x": return .variable(.x)
            case "y": return .variable(.y)
            case "pi": return .constant(.pi)
            case "e": return .constant(M_E)
            default:
                guard let f = Expression.Function(rawValue: name), f != .sign else {
                    let names = ["x", "y", "pi", "e"] + Expression.Function.typeable.map(\.rawValue)
                    throw error("unknown name '\(name)'; valid: \(names.joined(separator: ", "))", column: start)
                }
                guard consume("(") else { throw error("expected '(' after \(name)") }
                let argument = try sum()
                guard consume(")") else { throw error("expected ')' to close \(name)(") }
                return .call(f, argument)
            }
        }
        if c == "(" {
            i += 1
            let e = try sum()
            guard consume(")") else { throw error("expected ')' to close the '(' at column \(start + 1)") }
            return e
        }
        throw error("expected a number, x, y, a function or '(', found '\(c)'")
    }

    private var peek: Character? { i < chars.count ? chars[i] : nil }

    private mutating func skipSpaces() {
        while let c = peek, c.isWhitespace { i += 1 }
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpaces()
        let t = Array(token)
        guard i + t.count <= chars.count, Array(chars[i..<(i + t.count)]) == t else { return false }
        i += t.count
        return true
    }

    private func error(_ message: String, column: Int? = nil) -> SurfaceError {
        SurfaceError("formula \"\(text)\", column \((column ?? i) + 1): \(message)")
    }
}
