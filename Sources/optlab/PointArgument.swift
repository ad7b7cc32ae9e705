import ArgumentParser
import Surfaces

/// Parses "X,Y" (as given to --start) into a point.
func parsePoint(_ text: String, option: String) throws -> Point {
    let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
        throw ValidationError("\(option) expects X,Y such as \(option)=-1,1.5, got '\(text)'")
    }
    return Point(x, y)
}
