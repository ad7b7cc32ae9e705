import ArgumentParser
import Foundation
import Figures
import Optim
import Support
import SurfaceLab
import Surfaces

struct TrajectoriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectories",
        abstract: "Step optimizers over a 2-D surface and draw their paths over its contours.",
        discussion: """
            Surfaces: \(Surface.builtinNames.joined(separator: ", ")), or any formula in x and y with \
            + - * / ^, parentheses, sin cos tan exp log sqrt abs tanh, pi and e (differentiated exactly).

            Optimizers: NAME(key=value,...) with the names, keywords and defaults of torch.optim (and of \
            lion-pytorch, schedulefree, prodigyopt and pytorch-optimizer for lion, *_schedulefree, prodigy, \
            sam and lookahead): \
            \(OptimizerSpec.names.joined(separator: ", ")). A schedule nests as schedule=NAME(...): \
            torch.optim.lr_scheduler's classes minus "LR" in snake_case, with torch's keywords and \
            defaults. It steps once after every optimizer step (plateau with the loss at the new point; \
            onecycle's total_steps defaults to --steps). Schedules:
            \(ScheduleSpec.usage)
            label=... sets the display name. Wrappers take another spec: sam(rho=0.05,base=adam(lr=0.1)), \
            lookahead(k=5,alpha=0.5,base=SPEC); muon(rest=SPEC) names what steps a network's other \
            parameters. The point is a 1×2 matrix (Muon's and Adafactor's view of it); schedule-free \
            paths are drawn at their evaluation point x. Without --optimizers: the classic nine (sgd, momentum, \
            adagrad, rmsprop, adadelta, adam, adamw, sgd and momentum with step decay) at rates chosen \
            for the surface.

            The figure: filled contours (log-spaced above the minimum, --levels of them) with each path, \
            its start (■), end (●), the known minima (★) and where a diverged path left the window (✕). \
            --layout grid gives one panel per optimizer (default for the classic nine), overlay puts all \
            paths on one plot with a legend (default when you name optimizers). .png, .svg or .pdf by \
            the extension of --out (default plots/trajectories-<fn>.png).

            The optimizer's state: --show step draws the step just taken as an arrow (at about ten \
            steps along each path; in animations the marks appear as the path reaches them), \
            --show velocity the momentum buffer (sgd and rmsprop's momentum_buffer, the Adam family's \
            exp_avg) as an arrow along −lr·buffer, --show scale the per-coordinate step size \
            lr/(√v+ε) of Adagrad (sum), RMSprop (square_avg) and the Adam family (exp_avg_sq) as an \
            ellipse; arrows and ellipses of velocity and scale are scaled to the panel. They are read \
            from the optimizer's state buffers by their torch names after each step.

            Noisy gradients: --noise σ adds independent Gaussian noise N(0, σ²) to each coordinate of \
            every gradient, from a seeded stream per path; --seeds N draws N paths per optimizer as a \
            thin fan with their pointwise median bold, and the CSV gains a seed column \
            (optimizer,seed,step,x,y,loss). --noise 0 gives the exact paths.

            Animation: --out race.gif or race.mp4 (H.264) makes the paths grow step by step, the step \
            counted in the subtitle and each optimizer's current loss in its title or legend, ending \
            on the still figure and holding it 1.5 s. --fps (default 20) and --frames (at most one per \
            step; default one per step up to 8 s) set the pace; --dpi defaults to 80 for animations.

            3-D: --view 3d draws the surface as a shaded mesh in the contours' colours (the same colour             bar), each path on it at z = f(x, y) (lifted slightly; the parts a hill hides drawn faint),             seen from --azimuth degrees around z (default -60) and --elevation above the x-y plane             (default 30), matplotlib's view_init. z is clipped to a robust range of the surface (its 5th             to 95th percentile widened by half their spread) so a formula's pole does not flatten the             rest. In an animation, --rotate DEGREES turns the camera over the run, ending at --azimuth.             --show draws on the 2-D view only.

            Examples:
              optlab trajectories --fn bowl
              optlab trajectories --fn bowl --csv bowl.csv --out bowl.pdf
              optlab trajectories --fn rosenbrock --optimizers "adam(lr=0.05),nadam(lr=0.05)"
              optlab trajectories --fn "x^2 + 3*sin(x*y)" --start=-1.5,1 --steps 50
              optlab trajectories --optimizers "sgd(lr=0.04,schedule=step(step_size=10))"
              optlab trajectories --optimizers "sgd(lr=0.01,momentum=0.9,schedule=onecycle(max_lr=0.05))"
              # warm-up then cosine decay:
              optlab trajectories --fn rosenbrock --optimizers "adam(lr=0.05, schedule=sequential(\
            schedulers=(linear(start_factor=0.1, total_iters=10), cosine(T_max=90)), milestones=10))"
              optlab trajectories --fn localmin --optimizers "adam(lr=0.3,schedule=plateau(patience=3))"
              optlab trajectories --fn bowl --noise 2 --seeds 20
              optlab trajectories --fn bowl --optimizers "momentum(lr=0.02),adam(lr=0.1)" --show step,velocity,scale
              optlab trajectories --fn bowl --out plots/bowl-race.gif
              optlab trajectories --fn rosenbrock --steps 500 --out rosenbrock.mp4 --fps 30 --frames 240
              optlab trajectories --fn saddle --optimizers "sgd(lr=0.05),momentum(lr=0.05),adam(lr=0.05)" --view 3d
              optlab trajectories --fn himmelblau --view 3d --azimuth 30 --elevation 45
              optlab trajectories --fn saddle --view 3d --out saddle.gif --rotate 90
            """
    )

    @OptionGroup var path: PathOptions

    @Option(help: ArgumentHelp("Comma-separated optimizer specs (default: the classic nine).", valueName: "specs"))
    var optimizers: String?

    @Option(help: ArgumentHelp("Write optimizer,step,x,y,loss,evals,second_point,second_x,second_y rows to this file (evals: gradient evaluations of the step; second_*: ASGD's ax or schedule-free's y).", valueName: "file"))
    var csv: String?

    @OptionGroup var figure: AnimatedFigureOptions

    @Option(help: ArgumentHelp("grid or overlay (default: grid for the classic nine, overlay for named optimizers).", valueName: "layout"))
    var layout: TrajectoryLayout?

    @Option(help: "Number of contour levels.")
    var levels = 14

    @OptionGroup var noise: NoiseOptions

    @OptionGroup var view: ViewOptions

    @Option(help: ArgumentHelp("Draw the optimizer's state along each path: step, velocity, scale (comma-separated).", valueName: "views"))
    var show: String?

    private func stateViews() throws -> [StateView] {
        try (show?.split(separator: ",") ?? []).map { name in
            guard let view = StateView(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--show takes step, velocity or scale, got '\(name)'")
            }
            return view
        }
    }

    func validate() throws {
        try checkingOptions { try TrajectoryFigure.checkLevels(levels) }
        let views = try stateViews()
        if try trajectoryView() != .flat && !views.isEmpty { throw ValidationError("--show draws on the 2-D view only (drop --view 3d)") }
        if try noise.gradientNoise().map({ $0.seeds > 1 }) == true && figure.isAnimation {
            throw ValidationError("--seeds must be 1 in an animation (it moves one path per optimizer)")
        }
    }

    private func trajectoryView() throws -> TrajectoryView { try view.trajectoryView(animated: figure.isAnimation) }

    func run() throws {
        let surface = try path.surface()
        let specs = try optimizers.map(OptimizerSpec.parseList) ?? Trajectories.classicSpecs(for: surface)
        let chosenLayout = layout ?? (optimizers == nil ? .grid : .overlay)
        let out = try figure.path(defaultStem: "trajectories-\(FigureOutput.stem(surface))")
        let frames = figure.frames ?? TrajectoryAnimation.defaultFrames(steps: path.steps, fps: figure.fps)
        try FigureOutput.checkPixels(out, inches: TrajectoryFigure.inches(optimizers: specs.count, layout: chosenLayout),
                                     dpi: figure.resolution, frames: frames)
        let locks = try PathLock.outputs([out, csv])
        defer { withExtendedLifetime(locks) {} }
        let comparison = try Trajectories.compare(specs, on: surface, from: try path.startPoint(), steps: path.steps, noise: try noise.gradientNoise(),
                                                  recordsState: show != nil)
        if let csv { try AtomicFile.write(comparison.csv, to: csv) }
        if figure.isAnimation {
            let bar = ProgressBar("frames", total: frames, unit: .items("frame"))
            let cancellation = Interrupt.watch()
            defer { Interrupt.stopWatching(); bar.finish() }
            try TrajectoryAnimation.save(comparison, layout: chosenLayout, levels: levels, show: try stateViews(), view: try trajectoryView(),
                                         to: out, fps: figure.fps, frames: frames,
                                         dpi: figure.resolution) { done in
                if cancellation.isRequested { throw FileError("interrupted: '\(out)' not written") }
                bar.set(completed: done)
            }
        } else {
            try TrajectoryFigure.make(comparison, layout: chosenLayout, levels: levels, show: try stateViews(), view: try trajectoryView())
                .save(to: out, dpi: figure.resolution)
        }
        printSummary(comparison)
        if let csv { print("wrote \(csv)") }
        print("wrote \(out)")
    }

    private func printSummary(_ c: TrajectoryComparison) {
        print("\(c.surface.isTypedFormula ? c.surface.formula : "\(c.surface.name): \(c.surface.formula)"), start \(c.start), \(c.steps) steps")
        let width = max(9, c.results.map(\.label.count).max() ?? 0)
        print("optimizer".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + ["final x", "final y", "loss"].map(column).joined())
        for r in c.results {
            var line = r.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
            if let points = r.points.last {
                line += [points.x, points.y, r.finalLoss].map { column(String(format: "%.6g", $0)) }.joined()
            }
            if let k = r.divergedAt { line += "diverged at step \(k)" }
            print(line)
        }
    }

    private func column(_ text: String) -> String { text.padding(toLength: 14, withPad: " ", startingAt: 0) }
}

extension TrajectoryLayout: ExpressibleByArgument {}
