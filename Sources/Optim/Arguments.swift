/// Reads the keyword arguments of one algorithm or schedule, applying torch's defaults and
/// torch's range checks. It remembers every key it was asked for, so `finish()` can name the
/// valid keys when the spec holds an unknown one.
struct ArgumentReader {
    let owner: String
    private let arguments: [SpecArgument]
    private(set) var validKeys: [String] = []
    /// Every keyword read so far, with the value in effect and torch's check: what `keywords(of:)`
    /// reports, so the registry describes itself from the code that reads it.
    private(set) var described: [SpecKeyword] = []

    init(_ owner: String, _ arguments: [SpecArgument]) {
        self.owner = owner
        self.arguments = arguments
    }

    enum Bound { case any, nonNegative, positive, unitOpen, unitClosed }

    /// A number; `nil` default means the key is required.
    mutating func number(_ key: String, default value: Double?, _ bound: Bound = .nonNegative) throws -> Double {
        describe(key, .number, value.map { .number($0) }, bound)
        guard let given = lookup(key) else {
            if let value { return value }
            throw OptimError("\(owner): missing \(key)=... (required)")
        }
        guard case .number(let x) = given else { throw invalid(key, given, "is not a number") }
        try check(key, x, bound)
        return x
    }

    mutating func flag(_ key: String, default value: Bool) throws -> Bool {
        describe(key, .flag, .boolean(value))
        guard let given = lookup(key) else { return value }
        guard case .boolean(let b) = given else { throw invalid(key, given, "must be true or false") }
        return b
    }

    /// A pair such as betas=(0.9,0.999); each element must lie in [0, 1).
    mutating func pair(_ key: String, default value: (Double, Double), _ bound: Bound = .unitOpen) throws -> (Double, Double) {
        describe(key, .pair, .tuple([.number(value.0), .number(value.1)]), bound)
        guard let given = lookup(key) else { return value }
        guard case .tuple(let items) = given, items.count == 2,
              case .number(let a) = items[0], case .number(let b) = items[1]
        else { throw invalid(key, given, "must be a pair of numbers like (0.9,0.999)") }
        try check(key, a, bound, index: 0)
        try check(key, b, bound, index: 1)
        return (a, b)
    }

    /// A whole number ≥ `minimum`; `nil` default means the key is required.
    mutating func integer(_ key: String, default value: Int?, minimum: Int) throws -> Int {
        describe(key, .integer, value.map { .number(Double($0)) }, minimum: Double(minimum))
        guard let given = lookup(key) else {
            if let value { return value }
            throw OptimError("\(owner): missing \(key)=... (required)")
        }
        guard case .number(let x) = given, let n = Int(exactly: x), n >= minimum else {
            throw invalid(key, given, "must be a whole number ≥ \(minimum)")
        }
        return n
    }

    /// A whole number ≥ `minimum` if the key is given, else nil.
    mutating func optionalInteger(_ key: String, minimum: Int) throws -> Int? {
        describe(key, .integer, nil, minimum: Double(minimum))
        guard lookup(key) != nil else { return nil }
        return try integer(key, default: nil, minimum: minimum)
    }

    /// One of a fixed set of words, such as anneal_strategy=cos; quoted or bare.
    mutating func choice(_ key: String, _ choices: [String], default value: String) throws -> String {
        describe(key, .choice, .text(value), choices: choices)
        guard let given = lookup(key) else { return value }
        guard case .text(let word) = given, choices.contains(word) else {
            throw invalid(key, given, "must be one of \(choices.joined(separator: ", "))")
        }
        return word
    }

    /// A tuple of whole numbers such as milestones=(30,60); a single number is accepted too.
    mutating func integers(_ key: String, minimum: Int) throws -> [Int] {
        guard let given = lookup(key) else { throw OptimError("\(owner): missing \(key)=(...) (required)") }
        let items: [SpecValue]
        if case .tuple(let t) = given { items = t } else { items = [given] }
        return try items.map { item in
            guard case .number(let x) = item, let n = Int(exactly: x), n >= minimum else {
                throw invalid(key, given, "must be whole numbers ≥ \(minimum), like (30,60)")
            }
            return n
        }
    }

    /// A tuple of calls such as schedulers=(linear(total_iters=5),cosine(T_max=95)); a single call
    /// is accepted too.
    mutating func calls(_ key: String, example: String) throws -> [SpecCall] {
        guard let given = lookup(key) else { throw OptimError("\(owner): missing \(key)=(...) (required), like \(key)=\(example)") }
        let items: [SpecValue]
        if case .tuple(let t) = given { items = t } else { items = [given] }
        return try items.map { item in
            guard let call = item.asCall else { throw invalid(key, given, "must be calls like \(example)") }
            return call
        }
    }

    /// A number that may also be `none` (torch's None), as Adafactor's eps=(none,1e-3) allows;
    /// `inf` is accepted where `allowsInfinity` (Prodigy's growth_rate=inf).
    mutating func optionalNumber(_ key: String, default value: Double?, _ bound: Bound = .nonNegative,
                                 allowsInfinity: Bool = false) throws -> Double? {
        describe(key, .number, .text(value.map(SpecValue.format) ?? "none"), bound)
        guard let given = lookup(key) else { return value }
        return try optionalNumber(key, given, bound, allowsInfinity: allowsInfinity)
    }

    /// A tuple of `count` numbers, each may be `none` where `optional[i]`: eps=(none,1e-3),
    /// ns_coefficients=(3.4445,-4.775,2.0315).
    mutating func numbers(_ key: String, default value: [Double?], optional: [Bool], _ bound: Bound = .any) throws -> [Double?] {
        guard let given = lookup(key) else { return value }
        guard case .tuple(let items) = given, items.count == value.count else {
            throw invalid(key, given, "must be a tuple of \(value.count) numbers like \(SpecValue.tuple(value.map { $0.map(SpecValue.number) ?? .text("none") }))")
        }
        return try items.enumerated().map { i, item in
            let x = try optionalNumber("\(key)[\(i)]", item, bound, allowsInfinity: false)
            if x == nil, !optional[i] { throw invalid(key, given, "needs a number at position \(i)") }
            return x
        }
    }

    /// A nested optimizer spec such as base=adamw(lr=0.01) (or a bare name, base=adam); nil
    /// if the key is absent.
    mutating func call(_ key: String) throws -> SpecCall? {
        guard let given = lookup(key) else { return nil }
        switch given {
        case .call(let c): return c
        case .text(let name): return SpecCall(name: name, arguments: [], text: name)
        default: throw invalid(key, given, "must be an optimizer spec like adam(lr=0.01)")
        }
    }

    private func optionalNumber(_ key: String, _ given: SpecValue, _ bound: Bound, allowsInfinity: Bool) throws -> Double? {
        switch given {
        case .text(let word) where word.lowercased() == "none": return nil
        case .text(let word) where allowsInfinity && word.lowercased() == "inf": return .infinity
        case .number(let x):
            try check(key, x, bound)
            return x
        default: throw invalid(key, given, "is not a number\(allowsInfinity ? ", inf" : "") or none")
        }
    }

    /// Records a keyword as read, with the value a spec that leaves it out gets (a preset's, else
    /// the default; nil when required). Keys read again (a wrapper's base) keep their first entry.
    private mutating func describe(_ key: String, _ kind: SpecKeyword.Kind, _ value: SpecValue?, _ bound: Bound = .any,
                                   minimum: Double? = nil, choices: [String] = []) {
        guard !described.contains(where: { $0.key == key }) else { return }
        let given = arguments.first { $0.key == key }?.value
        var limits = bound.limits
        if let minimum { (limits.minimum, limits.minimumIncluded) = (minimum, true) }
        described.append(SpecKeyword(key: key, kind: kind, value: (given ?? value)?.description, minimum: limits.minimum,
                                     minimumIncluded: limits.minimumIncluded, maximum: limits.maximum,
                                     maximumIncluded: limits.maximumIncluded, choices: choices))
    }

    /// Records a keyword whose value is not a number, flag or word (a base spec, milestones).
    mutating func describeOther(_ key: String) {
        guard !described.contains(where: { $0.key == key }) else { return }
        described.append(SpecKeyword(key: key, kind: .other, value: arguments.first { $0.key == key }?.value.description))
    }

    /// Marks keys handled elsewhere (schedule, label) as valid.
    mutating func allow(_ keys: String...) { validKeys += keys }

    /// Throws for the first key nobody asked for, listing the valid ones.
    func finish() throws {
        if let unknown = arguments.first(where: { !validKeys.contains($0.key) }) {
            throw OptimError("\(owner): unknown key '\(unknown.key)'; valid keys: \(validKeys.joined(separator: ", "))")
        }
    }

    private mutating func lookup(_ key: String) -> SpecValue? {
        validKeys.append(key)
        describeOther(key)
        return arguments.first { $0.key == key }?.value
    }

    private func check(_ key: String, _ x: Double, _ bound: Bound, index: Int? = nil) throws {
        let ok: Bool, rule: String
        switch bound {
        case .any: ok = true; rule = ""
        case .nonNegative: ok = x >= 0; rule = "must be ≥ 0"
        case .positive: ok = x > 0; rule = "must be > 0"
        case .unitOpen: ok = 0 <= x && x < 1; rule = "must be in [0, 1)"
        case .unitClosed: ok = 0 <= x && x <= 1; rule = "must be in [0, 1]"
        }
        if !ok {
            let which = index.map { "\(key)[\($0)]" } ?? key
            throw OptimError("\(owner): \(which)=\(SpecValue.format(x)) \(rule)")
        }
    }

    private func invalid(_ key: String, _ value: SpecValue, _ problem: String) -> OptimError {
        OptimError("\(owner): \(key)=\(value) \(problem)")
    }
}

extension ArgumentReader.Bound {
    /// The valid range the check enforces.
    var limits: (minimum: Double?, minimumIncluded: Bool, maximum: Double?, maximumIncluded: Bool) {
        switch self {
        case .any: (nil, false, nil, false)
        case .nonNegative: (0, true, nil, false)
        case .positive: (0, false, nil, false)
        case .unitOpen: (0, true, 1, false)
        case .unitClosed: (0, true, 1, true)
        }
    }
}

/// One keyword of an optimizer or schedule as the registry reads it: what a form needs to offer it.
public struct SpecKeyword: Sendable, Equatable, Encodable {
    public enum Kind: String, Sendable, Encodable { case number, integer, pair, flag, choice, other }
    public let key: String
    public let kind: Kind
    /// The value a spec that leaves the key out gets (torch's default, or a preset's), as the
    /// grammar writes it; nil when the key is required or has no value of its own.
    public let value: String?
    /// torch's check on a number (each element of a pair): nil where unbounded.
    public var minimum: Double? = nil
    public var minimumIncluded = false
    public var maximum: Double? = nil
    public var maximumIncluded = false
    /// The words a choice takes.
    public var choices: [String] = []
}
