import ArgumentParser
import Foundation
import Experiments
import Support

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run experiment files: each writes <plots>/<name>.png (or its outputs) and <name>.csv.",
        discussion: """
            An experiment file (YAML) names a kind — trajectories, lr-sweep or phase-map — and that command's \
            settings (fn, optimizers, steps, start; layout, levels, noise, seeds; range, log, points, tol; \
            x, y, log-x, log-y, points, tol). \
            outputs: [png, gif] names the formats written (png, svg, pdf; gif and mp4 animate a \
            trajectories race at 80 dpi and 20 fps). See experiments/ for the classic figures and \
            README.md for every key.

            Examples:
              optlab run experiments/bowl.yaml
              optlab run experiments/*.yaml --plots /tmp/figures --dpi 100
              optlab run experiments/bowl-noise.yaml experiments/phase-map-momentum.yaml
            """
    )

    @Argument(help: ArgumentHelp("Experiment files (.yaml).", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("Folder for the figures and CSV files.", valueName: "folder"))
    var plots = "plots"

    @Option(help: "Resolution of the PNG figures, in dots per inch (animations: 80).")
    var dpi = 150.0

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one experiment file") }
        guard dpi > 0, dpi.isFinite else { throw ValidationError("--dpi must be a positive number, got \(dpi)") }
    }

    func run() throws {
        // Every file is checked before anything runs, so a typo in the last one costs nothing.
        let experiments = try files.map(Experiment.load)
        if plots == "plots" { try OutputFolder.create(plots) }
        for experiment in experiments { try experiment.checkOutputs(into: plots, dpi: dpi) }
        for experiment in experiments {
            for path in try experiment.run(into: plots, dpi: dpi) { print("wrote \(path)") }
        }
    }
}
