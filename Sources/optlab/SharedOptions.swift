import ArgumentParser
import Foundation
import Figures
import Support
import Surfaces

/// The surface, start and path length shared by the commands that run 2-D paths.
struct PathOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A built-in surface or a formula in x and y.", valueName: "fn"))
    var fn = "bowl"

    @Option(help: ArgumentHelp("Start point X,Y (default: the surface's); write --start=-1,1.5 for negatives.", valueName: "x,y"))
    var start: String?

    @Option(help: "Optimizer steps per path.")
    var steps = 100

    func validate() throws {
        guard (1...10_000_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000000, got \(steps)") }
        _ = try startPoint()
    }

    func surface() throws -> Surface { try Surface.named(fn) }

    /// The --start point, nil for the surface's own.
    func startPoint() throws -> Point? {
        guard let start else { return nil }
        let parts = start.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let x = parts[0], let y = parts[1], x.isFinite, y.isFinite else {
            throw ValidationError("--start expects X,Y such as --start=-1,1.5, got '\(start)'")
        }
        return Point(x, y)
    }
}

/// Where a figure goes and at what resolution.
struct FigureOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The figure (.png, .svg, .pdf); default plots/<command>-<fn>.png.", valueName: "file"))
    var out: String?

    @Option(help: "Resolution of a PNG figure, in dots per inch.")
    var dpi = 150.0

    func validate() throws {
        guard dpi > 0, dpi <= 600 else { throw ValidationError("--dpi must be in (0, 600], got \(dpi)") }
        if let out { try FigureOutput.check(out) }
    }

    /// --out, or plots/<stem>.png.
    func path(defaultStem stem: String) throws -> String {
        try out ?? FigureOutput.defaultPath(stem)
    }
}

/// Runs the library's own checks of option values and says what they find in this command line's
/// terms: a setting is its option (`points` → `--points`, `batch_size` → `--batch-size`) unless
/// `names` calls it otherwise.
func checkingOptions(named names: [String: String] = [:], _ checks: () throws -> Void) throws {
    do {
        try checks()
    } catch let error as SettingError {
        let option = "--" + error.setting.replacingOccurrences(of: "_", with: "-")
        throw ValidationError("\(names[error.setting] ?? option) \(error.problem)")
    }
}
