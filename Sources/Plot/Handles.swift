/// What a plotting call returns so an animation frame can change the artist it added
/// (matplotlib's `Line2D.set_data`, `set_animated`). An animated artist is left out of the
/// background an animation renders once and drawn on top of it in every frame.
public protocol ArtistHandle {
    /// The panel (2-D or 3-D) the artist was added to.
    var panel: any Panel { get }
    /// Whether the artist is redrawn every frame (true) or belongs to the frozen background.
    var isAnimated: Bool { get nonmutating set }
}

extension ArtistHandle {
    /// Sets `isAnimated` and returns the handle, for use right where the artist is added.
    @discardableResult
    public func animated() -> Self { isAnimated = true; return self }
}

/// The handles' common part: the panel that holds the artist and its place there.
protocol OwnedHandle: ArtistHandle {
    var owner: any PanelLayout { get }
    var index: Int { get }
}

extension OwnedHandle {
    func artist<A: Artist>(_ type: A.Type) -> A { owner.artists[index] as! A }

    func update<A: Artist>(_ type: A.Type, _ change: (inout A) -> Void) {
        var artist = owner.artists[index] as! A
        change(&artist)
        owner.artists[index] = artist
    }

    public var panel: any Panel { owner }
    public var isAnimated: Bool {
        get { owner.animatedArtists.contains(index) }
        nonmutating set { if newValue { owner.animatedArtists.insert(index) } else { owner.animatedArtists.remove(index) } }
    }
}

/// A line added by `Axes.plot`.
public struct LineHandle: OwnedHandle {
    let owner: any PanelLayout, index: Int

    /// New points (a path up to the current step). Markers stay on the points they marked
    /// before (every k-th as thinned for the first data), so they do not shift as a path grows.
    public func setData(x: [Double], y: [Double]) {
        precondition(x.count == y.count, "setData: x and y differ in length")
        update(LineArtist.self) { line in
            line.markEvery = line.markEvery ?? line.markerSpacing(points: line.xs.count)
            line.xs = x
            line.ys = y
        }
    }

    public var style: LineStyle { artist(LineArtist.self).style }
    public func setStyle(_ style: LineStyle) { update(LineArtist.self) { $0.style = style } }

    /// The legend label (shown when the axes' legend is drawn with the frame).
    public func setLabel(_ label: String?) { update(LineArtist.self) { $0.label = label } }
}

/// Markers added by `Axes.scatter`.
public struct MarkersHandle: OwnedHandle {
    let owner: any PanelLayout, index: Int

    public var points: [(Double, Double)] { artist(ScatterArtist.self).points }
    /// New marker positions; empty hides them.
    public func setPoints(_ points: [(Double, Double)]) { update(ScatterArtist.self) { $0.points = points } }
}

/// A text added by `Axes.text`.
public struct TextHandle: OwnedHandle {
    let owner: any PanelLayout, index: Int

    public var text: String { artist(TextArtist.self).text }
    /// New text; empty hides it.
    public func setText(_ text: String) { update(TextArtist.self) { $0.text = text } }
}

/// Arrows added by `Axes.arrows`.
public struct ArrowsHandle: OwnedHandle {
    let owner: any PanelLayout, index: Int

    public func setArrows(from: [(Double, Double)], to: [(Double, Double)]) {
        precondition(from.count == to.count, "setArrows: from and to differ in length")
        update(ArrowsArtist.self) { $0.from = from; $0.to = to }
    }
}

/// Ellipses added by `Axes.ellipses`.
public struct EllipsesHandle: OwnedHandle {
    let owner: any PanelLayout, index: Int

    public func setEllipses(centers: [(Double, Double)], radii: [(Double, Double)]) {
        precondition(centers.count == radii.count, "setEllipses: centers and radii differ in length")
        update(EllipsesArtist.self) { $0.centers = centers; $0.radii = radii }
    }
}
