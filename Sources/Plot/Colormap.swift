/// A continuous colour map: colours at positions 0...1, linearly interpolated between them.
public struct Colormap: Sendable {
    public let name: String
    let stops: [(position: Double, color: Color)]

    public init(name: String, stops: [(position: Double, color: Color)]) {
        precondition(stops.count >= 2 && stops.first!.position == 0 && stops.last!.position == 1,
                     "a colormap needs stops from 0 to 1")
        self.name = name; self.stops = stops
    }

    /// The colour at `t` in 0...1 (clamped): 0 is the low end, 1 the high end.
    public func color(at t: Double) -> Color {
        let t = t.isNaN ? 0 : min(max(t, 0), 1)
        var k = 0
        while k < stops.count - 2 && stops[k + 1].position < t { k += 1 }
        let (a, b) = (stops[k], stops[k + 1])
        return a.color.mixed(with: b.color, (t - a.position) / (b.position - a.position))
    }

    /// The colours of `count` discrete bands spread over the whole map, lowest band at the low end
    /// and highest at the high end (what matplotlib's contourf does).
    public func bandColors(_ count: Int) -> [Color] {
        count == 1 ? [color(at: 0)] : (0..<count).map { color(at: Double($0) / Double(count - 1)) }
    }

    /// Perceptually uniform viridis (van der Walt & Smith, matplotlib 2.0): entries 0, 16, ..., 240
    /// and 255 of its published 256-entry table; linear interpolation between them stays within
    /// 0.01 of every table entry.
    public static let viridis = Colormap(name: "viridis", stops: [
        (0, 0.267004, 0.004874, 0.329415), (16, 0.282327, 0.094955, 0.417331),
        (32, 0.278826, 0.175490, 0.483397), (48, 0.258965, 0.251537, 0.524736),
        (64, 0.229739, 0.322361, 0.545706), (80, 0.199430, 0.387607, 0.554642),
        (96, 0.172719, 0.448791, 0.557885), (112, 0.149039, 0.508051, 0.557250),
        (128, 0.127568, 0.566949, 0.550556), (144, 0.120638, 0.625828, 0.533488),
        (160, 0.157851, 0.683765, 0.501686), (176, 0.246070, 0.738910, 0.452024),
        (192, 0.369214, 0.788888, 0.382914), (208, 0.515992, 0.831158, 0.294279),
        (224, 0.678489, 0.863742, 0.189503), (240, 0.845561, 0.887322, 0.099702),
        (255, 0.993248, 0.906157, 0.143936),
    ].map { (position: $0.0 / 255, color: Color(red: $0.1, green: $0.2, blue: $0.3)) })
}
