extension Int {
    /// The number with thousands separators, the same in every locale: 30,730,000.
    public var grouped: String {
        let digits = String(magnitude)
        let groups = stride(from: digits.count, to: 0, by: -3).reversed().map { end in
            String(digits.dropFirst(Swift.max(0, end - 3)).prefix(Swift.min(3, end)))
        }
        return (self < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
