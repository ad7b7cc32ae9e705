import ArgumentParser
import Foundation
import Figures
import NN
import Support
import SurfaceLab
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

    @Option(help: "Resolution of a PNG figure, in dots per inch (up to 100 megapixels an image).")
    var dpi = 150.0

    func validate() throws {
        guard dpi > 0, dpi.isFinite else { throw ValidationError("--dpi must be a positive number, got \(dpi)") }
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

/// Where a figure or an animation goes, and the animation's pace.
struct AnimatedFigureOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The figure (.png, .svg, .pdf) or animation (.gif, .mp4); default plots/<command>-<fn>.png.",
                               valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Resolution in dots per inch (default 150 for images, 80 for animations; up to 100 megapixels a frame, 2 gigapixels an animation).", valueName: "dpi"))
    var dpi: Double?

    @Option(help: "Frames per second of an animation (1...50).")
    var fps = FigureOutput.defaultFPS

    @Option(help: ArgumentHelp("Frames of an animation, at most one per step (default: one per step, up to 8 s).", valueName: "n"))
    var frames: Int?

    func validate() throws {
        guard dpi.map({ $0 > 0 && $0.isFinite }) ?? true else { throw ValidationError("--dpi must be a positive number, got \(dpi!)") }
        guard (1...50).contains(fps) else { throw ValidationError("--fps must be in 1...50, got \(fps)") }
        guard frames.map({ $0 >= 1 }) ?? true else { throw ValidationError("--frames must be ≥ 1, got \(frames!)") }
        if let out { try FigureOutput.check(out, animations: true) }
        if !isAnimation && (frames != nil || fps != FigureOutput.defaultFPS) {
            throw ValidationError("--fps and --frames apply to animations: give --out a .gif or .mp4 file")
        }
    }

    var isAnimation: Bool { out.map(FigureOutput.isAnimation) ?? false }

    var resolution: Double { dpi ?? (isAnimation ? FigureOutput.animationDPI : 150) }

    /// --out, or plots/<stem>.png.
    func path(defaultStem stem: String) throws -> String {
        try out ?? FigureOutput.defaultPath(stem)
    }
}

/// Gaussian gradient noise and the number of seeded paths per optimizer.
struct NoiseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Standard deviation of Gaussian noise added to each gradient coordinate.", valueName: "σ"))
    var noise: Double?

    @Option(help: ArgumentHelp("Noisy runs per optimizer, one seeded noise stream each (needs --noise).", valueName: "n"))
    var seeds: Int?

    func validate() throws { _ = try gradientNoise() }

    /// nil without --noise.
    func gradientNoise() throws -> GradientNoise? {
        guard noise != nil || seeds != nil else { return nil }
        guard let noise else { throw ValidationError("--seeds needs --noise σ") }
        var result: GradientNoise?
        try checkingOptions { result = try GradientNoise(sigma: noise, seeds: seeds ?? 1) }
        return result
    }
}

/// The 2-D or 3-D view of a surface and the 3-D camera. The angles take the next argument as
/// they are, so `--azimuth -60` reads as a number, not as an option.
struct ViewOptions: ParsableArguments {
    @Option(help: ArgumentHelp("2d (contours) or 3d (a shaded surface with the paths on it).", valueName: "view"))
    var view: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("3-D camera angle around z, degrees from +x (default -60).", valueName: "degrees"))
    var azimuth: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("3-D camera angle above the x-y plane, -90...90 degrees (default 30).", valueName: "degrees"))
    var elevation: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("Turn the 3-D camera this many degrees over an animation, ending at --azimuth.", valueName: "degrees"))
    var rotate: Double?

    func trajectoryView(animated: Bool) throws -> TrajectoryView {
        var view = TrajectoryView.flat
        try checkingOptions {
            view = try TrajectoryView(name: self.view, azimuth: azimuth, elevation: elevation, rotate: rotate, animated: animated)
        }
        return view
    }
}

/// How the kernels run: a seed gives the same bits again with the same three.
struct KernelOptions: ParsableArguments {
    @Option(help: "Kernel threads (default: every available core; 1 is often faster on a busy machine).")
    var threads: Int?

    @Option(help: "What convolutions and linear layers compute in: fp32; bf16 with float32 accumulation, as torch.autocast (torch_bench.py --amp bf16) does; or bf16-backward, the forward in fp32 and the backward in bf16. Both bf16 modes need AVX512_BF16 or AMX.")
    var precision = Precision.fp32

    @Option(help: "How 3×3 stride-1 convolutions run: auto (the fastest choice for this CPU), winograd (optlab's), onednn-winograd (oneDNN's, AVX-512 only) or direct (oneDNN's). bf16 runs direct; bf16-backward runs its forward by auto, onednn-winograd or direct and its backward direct. A seed gives the same bits again, resumed runs included, with the same --threads, --precision and --convolutions.")
    var convolutions = ConvolutionPolicy.auto

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let reason = precision.unsupportedReason { throw ValidationError(reason) }
        if let reason = convolutions.unsupportedReason(in: precision) { throw ValidationError("--convolutions \(convolutions.rawValue): \(reason)") }
    }

    /// Sets threads, precision and algorithms for the networks made from now on.
    func apply() {
        if let threads { Threads.set(threads) }
        Precision.current = precision
        Conv2d.policy = convolutions
    }
}

extension ConvolutionPolicy: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
