/// The text grammar shared by optimizer and schedule specs:
///
///     list  := call ("," call)*
///     call  := NAME ["(" [arg ("," arg)*] ")"]
///     arg   := KEY "=" value
///     value := NUMBER | true | false | "(" value ("," value)* ")" | call | WORD | "quoted text"
///
/// `label=` takes the raw text up to the next top-level "," or ")" (or a quoted string).

/// A parsed `NAME(key=value,...)`, before any meaning is given to its names.
public struct SpecCall: Equatable, Sendable {
    public var name: String
    public var arguments: [SpecArgument]
    /// The call exactly as typed, whitespace removed.
    public var text: String
}

public struct SpecArgument: Equatable, Sendable {
    public var key: String
    public var value: SpecValue
}

public indirect enum SpecValue: Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    case boolean(Bool)
    case tuple([SpecValue])
    case call(SpecCall)
    case text(String)

    /// Canonical text: integers without a fraction, other numbers in shortest round-trip form.
    public var description: String {
        switch self {
        case .number(let x): return SpecValue.format(x)
        case .boolean(let b): return b ? "true" : "false"
        case .tuple(let items): return "(" + items.map(\.description).joined(separator: ",") + ")"
        case .call(let c): return SpecValue.format(c)
        case .text(let s): return s
        }
    }

    /// A call, or a bare name as a call without arguments (`schedule=linear` takes torch's defaults).
    var asCall: SpecCall? {
        switch self {
        case .call(let call): call
        case .text(let name) where !name.isEmpty && name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }):
            SpecCall(name: name, arguments: [], text: name)
        default: nil
        }
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    static func format(_ call: SpecCall) -> String {
        call.arguments.isEmpty ? call.name
            : call.name + "(" + call.arguments.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + ")"
    }
}

/// Recursive-descent parser over the characters of one spec string.
struct SpecParser {
    private let chars: [Character]
    private let source: String
    private var i = 0
    /// Nesting so far; bounded so a pathological spec is an error, not a stack overflow.
    private var depth = 0

    init(_ source: String) {
        self.source = source
        chars = Array(source)
    }

    /// Parses a comma-separated list of calls covering the whole text.
    mutating func parseList() throws -> [SpecCall] {
        var calls = [try parseCall()]
        while skipSpaces(), i < chars.count {
            try expect(",", "expected ',' between specs")
            calls.append(try parseCall())
        }
        return calls
    }

    mutating func parseCall() throws -> SpecCall {
        skipSpaces()
        let start = i
        let name = try parseName(what: "a name")
        var arguments: [SpecArgument] = []
        if skipSpaces(), peek == "(" {
            i += 1
            if skipSpaces(), peek == ")" {
                i += 1
            } else {
                repeat {
                    skipSpaces()
                    let key = try parseName(what: "a key")
                    skipSpaces()
                    try expect("=", "expected '=' after '\(key)'")
                    let value = key == "label" ? try parseLabel() : try parseValue(key: key)
                    if arguments.contains(where: { $0.key == key }) {
                        throw error("'\(key)' is given twice in \(name)(...)")
                    }
                    arguments.append(SpecArgument(key: key, value: value))
                    skipSpaces()
                } while consume(",")
                try expect(")", "expected ',' or ')' in \(name)(...)")
            }
        }
        let text = String(chars[start..<i]).filter { !$0.isWhitespace }
        return SpecCall(name: name, arguments: arguments, text: text)
    }

    private mutating func parseValue(key: String) throws -> SpecValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 50 else { throw error("the value of '\(key)' is nested deeper than 50 levels") }
        skipSpaces()
        guard let c = peek else { throw error("missing value for '\(key)'") }
        if c == "(" {
            i += 1
            var items: [SpecValue] = []
            repeat { items.append(try parseValue(key: key)); skipSpaces() } while consume(",")
            try expect(")", "expected ',' or ')' in the tuple for '\(key)'")
            return .tuple(items)
        }
        if c == "\"" || c == "'" { return .text(try parseQuoted()) }
        if c.isNumber || c == "-" || c == "+" || c == "." {
            let start = i
            while let d = peek, d.isNumber || "+-.eE".contains(d) { i += 1 }
            let word = String(chars[start..<i])
            guard let x = Double(word), x.isFinite else {
                throw error("'\(key)=\(word)' is not a number", column: start)
            }
            return .number(x)
        }
        let start = i
        let word = try parseName(what: "a value for '\(key)'")
        switch word.lowercased() {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default:
            if skipSpaces(), peek == "(" {
                i = start
                return .call(try parseCall())
            }
            return .text(word)  // a word such as anneal_strategy=cos; its reader says whether it fits
        }
    }

    /// A label is free text: quoted, or everything up to the next top-level ',' or ')'.
    private mutating func parseLabel() throws -> SpecValue {
        skipSpaces()
        if let c = peek, c == "\"" || c == "'" { return .text(try parseQuoted()) }
        let start = i
        var depth = 0
        while let c = peek {
            if c == "(" { depth += 1 } else if c == ")" { if depth == 0 { break }; depth -= 1 } else if c == ",", depth == 0 { break }
            i += 1
        }
        let label = String(chars[start..<i]).trimmingSpaces
        if label.isEmpty { throw error("empty label", column: start) }
        return .text(label)
    }

    private mutating func parseQuoted() throws -> String {
        let quote = chars[i], start = i
        i += 1
        while let c = peek, c != quote { i += 1 }
        guard peek == quote else { throw error("unterminated quote", column: start) }
        i += 1
        return String(chars[(start + 1)..<(i - 1)])
    }

    private mutating func parseName(what: String) throws -> String {
        let start = i
        while let c = peek, c.isLetter || c.isNumber || c == "_" { i += 1 }
        guard i > start, !chars[start].isNumber else {
            throw error(peek.map { "expected \(what), found '\($0)'" } ?? "expected \(what) at the end")
        }
        return String(chars[start..<i])
    }

    private var peek: Character? { i < chars.count ? chars[i] : nil }

    @discardableResult
    private mutating func skipSpaces() -> Bool {
        while let c = peek, c.isWhitespace { i += 1 }
        return true
    }

    private mutating func consume(_ c: Character) -> Bool {
        skipSpaces()
        if peek == c { i += 1; return true }
        return false
    }

    private mutating func expect(_ c: Character, _ expectation: String) throws {
        if consume(c) { return }
        let found = peek.map { "found '\($0)'" } ?? "found the end"
        throw error("\(expectation), \(found)")
    }

    private func error(_ message: String, column: Int? = nil) -> OptimError {
        OptimError("spec \"\(source)\", column \((column ?? i) + 1): \(message)")
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
