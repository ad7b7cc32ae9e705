import Foundation

/// A tick mark on an axis: its data value and the label shown (empty for minor ticks).
public struct Tick: Equatable, Sendable {
    public var value: Double
    public var label: String
    public var isMajor: Bool { !label.isEmpty }

    public init(value: Double, label: String) { self.value = value; self.label = label }
}

/// Tick placement: "nice" steps of 1, 2, 2.5 or 5 × 10^k on linear axes, decades on log axes.
public enum Ticks {
    /// Ticks inside `range`, with a step chosen so there are about `target` of them (never fewer
    /// than two when the range is not empty).
    public static func linear(_ range: ClosedRange<Double>, target: Int = 6) -> [Tick] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [Tick(value: range.lowerBound, label: format(range.lowerBound, step: 1))] }
        let step = niceStep(span / Double(max(target, 1)))
        let first = (range.lowerBound / step).rounded(.up), last = (range.upperBound / step).rounded(.down)
        guard last >= first else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            let v = k * step == 0 ? 0 : k * step   // no "-0"
            return Tick(value: v, label: format(v, step: step))
        }
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, floor(log10(raw)))
        for m in [1.0, 2, 2.5, 5, 10] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    /// Ticks on a base-10 log axis: every decade labelled 10ⁿ (every second or third decade when
    /// there are many), with unlabelled minor ticks at 2…9 × 10ⁿ while they are not too crowded.
    public static func log(_ range: ClosedRange<Double>, maxLabels: Int = 8) -> [Tick] {
        let lo = Foundation.log10(range.lowerBound), hi = Foundation.log10(range.upperBound)
        let firstDecade = Int((lo - 1e-9).rounded(.up)), lastDecade = Int((hi + 1e-9).rounded(.down))
        let decades = max(lastDecade - firstDecade + 1, 1)
        let every = max(1, Int((Double(decades) / Double(max(maxLabels, 1))).rounded(.up)))
        var ticks: [Tick] = []
        for d in (firstDecade - 1)...(lastDecade) {
            let decade = pow(10, Double(d))
            if d >= firstDecade && range.contains(decade) {
                ticks.append(Tick(value: decade, label: d % every == 0 ? power(d) : ""))
            }
            if decades <= 6 {
                for m in 2...9 where range.contains(Double(m) * decade) { ticks.append(Tick(value: Double(m) * decade, label: "")) }
            }
        }
        // A range inside one decade would have no labelled tick at all: fall back to linear ones.
        if !ticks.contains(where: \.isMajor) { return linear(range, target: 4) }
        return ticks.sorted { $0.value < $1.value }
    }

    /// "10³", "10⁻²", and plain "1" and "10" for the two shortest.
    static func power(_ exponent: Int) -> String {
        switch exponent {
        case 0: return "1"
        case 1: return "10"
        default:
            let digits: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                                  "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
            return "10" + String(String(exponent).map { digits[$0]! })
        }
    }

    /// A value printed with just enough decimals to tell ticks `step` apart; very large or very
    /// small magnitudes as m×10ⁿ.
    public static func format(_ v: Double, step: Double) -> String {
        if v == 0 { return "0" }
        let magnitude = abs(v)
        if magnitude >= 1e5 || magnitude < 1e-3 {
            var exponent = Int(floor(Foundation.log10(magnitude)))
            let mantissa = v / pow(10, Double(exponent))
            // One decimal; 9.99 rounds to 10, which is 1 of the next power (not "10.0×10⁻⁵").
            var shown = abs(mantissa - mantissa.rounded()) < 1e-9 ? mantissa.rounded() : (mantissa * 10).rounded() / 10
            if abs(shown) >= 10 { exponent += 1; shown /= 10 }
            let m = (shown == shown.rounded() ? String(Int(shown)) : String(format: "%.1f", shown)).replacingOccurrences(of: "-", with: "−")
            return m == "1" ? power(exponent) : m + "×" + power(exponent)
        }
        var decimals = max(0, Int(-floor(Foundation.log10(step) + 1e-9)))
        // 2.5 × 10^k steps need one decimal more than the magnitude says.
        if abs(step / pow(10, floor(Foundation.log10(step))) - 2.5) < 1e-9 { decimals += 1 }
        return String(format: "%.\(decimals)f", v).replacingOccurrences(of: "-", with: "−")
    }

    /// A short label for a single value (colour-bar levels, annotations): 3 significant digits.
    public static func compact(_ v: Double) -> String { compact(v, digits: 3) }

    /// Labels for increasing values with the fewest significant digits (3 or more) that keep
    /// neighbours distinct: levels 3.991 and 3.994 read "3.991", "3.994", not "3.99" twice.
    public static func distinct(_ values: [Double]) -> [String] {
        for digits in 3...8 {
            let labels = values.map { compact($0, digits: digits) }
            if zip(labels, labels.dropFirst()).allSatisfy({ $0 != $1 }) { return labels }
        }
        return values.map { compact($0, digits: 9) }
    }

    static func compact(_ v: Double, digits: Int) -> String {
        if v == 0 { return "0" }
        let magnitude = abs(v)
        if magnitude >= 1e5 || magnitude < 1e-3 { return format(v, step: magnitude) }
        let decimals = max(0, digits - 1 - Int(floor(Foundation.log10(magnitude))))
        var s = String(format: "%.\(decimals)f", v)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s.replacingOccurrences(of: "-", with: "−")
    }
}
