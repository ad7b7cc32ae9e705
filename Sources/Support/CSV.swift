import Foundation

/// Comma-separated values as RFC 4180 has them: fields holding a comma, quote or line break are
/// quoted, quotes doubled. Numbers use Swift's shortest round-trip form, so values read back exactly.
public struct CSVTable {
    public let header: [String]
    public private(set) var rows: [[String]] = []

    public init(header: [String]) { self.header = header }

    public mutating func append(_ row: [CustomStringConvertible]) {
        precondition(row.count == header.count, "a CSV row needs \(header.count) fields")
        rows.append(row.map { "\($0)" })
    }

    public var text: String {
        var out = ""
        for fields in [header] + rows {
            out += fields.map(Self.escape).joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// The rows of a CSV text, fields unquoted: the reverse of `text` (the header is row 0).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = text.makeIterator()
        var pending = characters.next()
        while let c = pending {
            pending = characters.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.append("\""); pending = characters.next() } else { quoted = false }
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" || c == "\r\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
