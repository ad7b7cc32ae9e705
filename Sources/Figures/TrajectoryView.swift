import Plot
import Support

/// How a trajectory figure shows its surface: from above as filled contours, or in 3-D as a
/// shaded mesh with the paths drawn on it.
public enum TrajectoryView: Equatable, Sendable {
    case flat
    /// Seen by `camera`; an animation turns the camera by `rotation` degrees over the run,
    /// ending at `camera`, so its last frame is the still figure.
    case threeD(Camera, rotation: Double)

    public static let names = ["2d", "3d"]

    /// The view named `name` (2d, 3d; nil: 2d) with the camera settings, each checked: the
    /// camera and `rotate` only with 3d, `rotate` only in an animation.
    public init(name: String?, azimuth: Double?, elevation: Double?, rotate: Double?, animated: Bool) throws {
        switch name ?? "2d" {
        case "2d":
            if let setting = [("azimuth", azimuth), ("elevation", elevation), ("rotate", rotate)].first(where: { $0.1 != nil })?.0 {
                throw SettingError(setting, "applies to the 3-D view (view 3d)")
            }
            self = .flat
        case "3d":
            let standard = Camera.standard
            let camera = try Camera(azimuth: azimuth ?? standard.azimuth, elevation: elevation ?? standard.elevation)
            if let rotate {
                guard rotate.isFinite, (-3600...3600).contains(rotate) else { throw SettingError("rotate", "must be in -3600...3600 degrees, got \(rotate)") }
                guard animated else { throw SettingError("rotate", "turns the camera in animations: write a .gif or .mp4") }
            }
            self = .threeD(camera, rotation: rotate ?? 0)
        case let other:
            throw SettingError("view", "must be 2d or 3d, got '\(other)'")
        }
    }

    /// The panels a figure in this view holds.
    var projection: Projection {
        switch self {
        case .flat: return .flat
        case .threeD(let camera, _): return .threeD(camera)
        }
    }

    /// The camera at step k of `steps` in an animation (nil in 2-D): turned back by the part of
    /// the rotation still to come.
    func camera(atStep k: Int, of steps: Int) -> Camera? {
        guard case .threeD(let camera, let rotation) = self else { return nil }
        return camera.turned(by: -rotation * (1 - Double(min(k, steps)) / Double(max(steps, 1))))
    }
}
