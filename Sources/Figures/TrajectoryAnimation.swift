import Foundation
import Plot
import Support
import SurfaceLab
import Surfaces

/// The trajectory figure in motion: the still figure (`TrajectoryFigure`) is built first and is
/// the last frame; before it, each path grows step by step, its recent tail in full colour over a
/// faded past, its head a ●, the step counted in the subtitle and the current loss in each
/// panel's title (or the legend); a diverged path stops with its ✕ when it gets there.
public enum TrajectoryAnimation {
    /// Steps drawn in full colour behind the head.
    static let tailLength = 8

    /// One frame per step up to 8 s of film: the default bowl race (100 steps) lasts 5 s at 20 fps.
    public static func defaultFrames(steps: Int, fps: Int) -> Int { min(steps + 1, 8 * fps) }

    /// The step frame f of `frames` shows: evenly spread, the first the start, the last the end.
    static func step(frame f: Int, of frames: Int, steps: Int) -> Int {
        frames == 1 ? steps : Int((Double(f) * Double(steps) / Double(frames - 1)).rounded())
    }

    /// Writes the animation to `path` (.gif or .mp4). `frames` is at most one per step (nil: the
    /// default); `progress` gets the frames done and may throw to stop (nothing is left behind).
    public static func save(_ comparison: TrajectoryComparison, layout: TrajectoryLayout, levels: Int = 14, show: [StateView] = [],
                            view: TrajectoryView = .flat, to path: String, fps: Int = 20, frames: Int? = nil, dpi: Double = 100,
                            progress: (Int) throws -> Void = { _ in }) throws {
        guard comparison.groups.allSatisfy({ $0.count == 1 }) else {
            throw SettingError("seeds", "must be 1 in an animation (it moves one path per optimizer)")
        }
        let count = frames ?? defaultFrames(steps: comparison.steps, fps: fps)
        guard (1...(comparison.steps + 1)).contains(count) else {
            throw SettingError("frames", "must be in 1...\(comparison.steps + 1) (at most one per step), got \(count)")
        }
        let (animation, update) = try make(comparison, layout: layout, levels: levels, show: show, view: view, fps: fps, dpi: dpi)
        try animation.save(to: path, frames: count, progress: progress) { f in
            update(step(frame: f, of: count, steps: comparison.steps))
        }
    }

    /// The animation and the function that sets its artists (and, when the view turns, its
    /// camera) for step k; k = steps restores the still figure exactly.
    static func make(_ comparison: TrajectoryComparison, layout: TrajectoryLayout, levels: Int, show: [StateView] = [],
                     view: TrajectoryView = .flat, fps: Int, dpi: Double) throws -> (Animation, (Int) -> Void) {
        let (figure, paths, key) = try TrajectoryFigure.build(comparison, layout: layout, levels: levels, show: show, view: view)
        // A turning camera redraws each 3-D panel's mesh in every frame; a still one, once.
        let turns: Bool
        if case .threeD(_, let rotation) = view, rotation != 0 { turns = true } else { turns = false }
        for panel in figure.panels3D { panel.cameraIsAnimated = turns }
        figure.textIsAnimated = true
        let stillSubtitle = figure.subtitle
        let results = comparison.results
        // What each path adds for the animation, and its final look to restore at the end.
        struct Moving { var full: LineStyle; var tail: LineHandle; var head: MarkersHandle; var exitPoint: [(Double, Double)]; var exitNote: String }
        let moving = paths.map { artists -> Moving in
            artists.line.animated()
            artists.end?.animated()
            artists.exit?.mark.animated()
            artists.exit?.note.animated()
            artists.state.animated()
            artists.second?.line.animated()
            artists.second?.end.animated()
            let axes = artists.line.panel, style = artists.line.style
            return Moving(full: style, tail: axes.plot(x: [], y: [], style: LineStyle(color: style.color, width: style.width + 1, dash: style.dash)).animated(),
                          head: axes.scatter([], marker: .circle, size: 7.5, color: style.color).animated(),
                          exitPoint: artists.exit?.mark.points ?? [], exitNote: artists.exit?.note.text ?? "")
        }
        let animation = try Animation(figure, dpi: dpi, fps: fps)
        let update = { (k: Int) in
            let last = k >= comparison.steps
            figure.subtitle = last ? stillSubtitle : TrajectoryFigure.subtitle(comparison, steps: "step \(k) of \(comparison.steps)", key: key)
            if let camera = view.camera(atStep: k, of: comparison.steps) { figure.panels3D.forEach { $0.camera = camera } }
            for (n, (result, artists)) in zip(results, paths).enumerated() {
                let points = result.points[...min(k, result.points.count - 1)], head = points.last!
                var faded = moving[n].full
                faded.color = faded.color.withAlpha(0.7)
                artists.line.setStyle(last ? moving[n].full : faded)
                artists.line.setData(x: points.map(\.x), y: points.map(\.y))
                let tail = last ? [] : points.suffix(tailLength + 1)
                moving[n].tail.setData(x: tail.map(\.x), y: tail.map(\.y))
                let stopped = result.divergedAt.map { k >= $0 } ?? false
                moving[n].head.setPoints(last || stopped ? [] : [(head.x, head.y)])
                artists.end?.setPoints(last ? [(head.x, head.y)] : [])
                if let second = artists.second, let along = result.secondPoint?.points[...min(k, result.points.count - 1)] {
                    second.line.setData(x: along.map(\.x), y: along.map(\.y))
                    second.end.setPoints([(along.last!.x, along.last!.y)])
                }
                artists.state.show(upTo: last ? nil : k)
                if let exit = artists.exit {
                    exit.mark.setPoints(k >= exit.step ? moving[n].exitPoint : [])
                    exit.note.setText(k >= exit.step ? moving[n].exitNote : "")
                }
                if layout == .grid {
                    artists.line.panel.title = TrajectoryFigure.panelTitle(result, atStep: last ? nil : k)
                } else {
                    artists.line.setLabel(TrajectoryFigure.legendLabel(result, atStep: last ? nil : k))
                }
            }
        }
        return (animation, update)
    }
}
