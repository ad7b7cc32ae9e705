import Foundation

/// How data values are spaced along an axis.
public enum Scale: Sendable {
    case linear
    /// Base-10 logarithmic; only positive values can be shown.
    case log

    /// Data value to the axis's linear coordinate (the value itself, or its log10).
    func forward(_ v: Double) -> Double { self == .log ? log10(v) : v }
    func inverse(_ u: Double) -> Double { self == .log ? pow(10, u) : u }
    func accepts(_ v: Double) -> Bool { v.isFinite && (self == .linear || v > 0) }
}

/// Maps data values on one axis to figure coordinates (points), through the axis scale.
/// `to` may be less than `from`: y grows downwards on the page but upwards on a plot.
struct AxisMap {
    var scale: Scale
    var limits: ClosedRange<Double>
    var from: Double
    var to: Double

    func callAsFunction(_ v: Double) -> Double {
        let lo = scale.forward(limits.lowerBound), hi = scale.forward(limits.upperBound)
        let u = scale.forward(v)
        // Keep far-away points (a diverged path) finite so Cairo still draws the visible part.
        let t = max(-1e4, min(1e4, (u - lo) / (hi - lo)))
        return from + (to - from) * t
    }
}
