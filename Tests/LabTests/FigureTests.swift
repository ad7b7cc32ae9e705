import Foundation
import Optim
import Plot
import Surfaces
import XCTest
@testable import Lab

/// The figure side: trajectory and sweep figures, experiment files, and the commands' bad input.
final class FigureTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-figures-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func assertClose(_ a: Plot.Color, _ b: Plot.Color, within tolerance: Double = 3.0 / 255, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(max(abs(a.red - b.red), abs(a.green - b.green), abs(a.blue - b.blue)), tolerance, "\(a) vs \(b)", file: file, line: line)
    }

    /// PNG signature and IHDR size.
    func pngSize(_ path: String) throws -> (Int, Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let be = { (o: Int) in data[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be(16), be(20))
    }

    func testPathColourAppearsOnThePathAndTheFloorIsTheColormapLowEnd() throws {
        let surface = try Surface.named("bowl")
        // Three steps: the path stays well away from the minimum.
        let comparison = try Trajectories.compare([try OptimizerSpec.parse("adam(lr=0.1)")], on: surface, steps: 3)
        let figure = try TrajectoryFigure.make(comparison, layout: .overlay)
        let raster = figure.rasterize(dpi: 100)
        let points = comparison.results[0].points
        // The midpoint of the longest early segment lies on the drawn line.
        let length = { (a: Int) -> Double in hypot(points[a + 1].x - points[a].x, points[a + 1].y - points[a].y) }
        let k = (0..<3).max { length($0) < length($1) }!
        let mid = figure.axes.point(x: (points[k].x + points[k + 1].x) / 2, y: (points[k].y + points[k + 1].y) / 2)
        assertClose(raster.color(at: mid), Palette.color(forKey: "adam"))
        // Just below the minimum's star (f = 0.039 there) the surface is in its lowest band.
        assertClose(raster.color(at: figure.axes.point(x: 0, y: -0.14)), Colormap.viridis.color(at: 0))
    }

    func testGridHasOnePanelPerOptimizerTitledWithItsSpecAndOutcome() throws {
        let surface = try Surface.named("bowl")
        let comparison = try Trajectories.compare(Trajectories.classicSpecs(for: surface), on: surface, steps: 20)
        let figure = try TrajectoryFigure.make(comparison, layout: .grid)
        XCTAssertEqual(figure.panels.count, 9)
        XCTAssertEqual((figure.rows, figure.columns).0, 3)
        XCTAssertTrue(figure.panels[1].title!.hasPrefix("momentum(lr=0.04)\nfinal loss "), figure.panels[1].title!)
        XCTAssertTrue(figure.panels[8].title!.contains(",\nschedule=step("), "long specs wrap before the schedule")
    }

    func testDivergedPathIsCutAtTheWindowEdge() throws {
        let surface = try Surface.named("bowl")
        let result = try Trajectories.run(try OptimizerSpec.parse("sgd(lr=0.1)"), on: surface, from: surface.start, steps: 400)
        XCTAssertNotNil(result.divergedAt)
        let (exit, step) = try XCTUnwrap(TrajectoryFigure.exit(result, surface.window))
        XCTAssertEqual(step, result.divergedAt)
        let onEdge = [abs(exit.x - surface.window.x.lowerBound), abs(exit.x - surface.window.x.upperBound),
                      abs(exit.y - surface.window.y.lowerBound), abs(exit.y - surface.window.y.upperBound)].min()!
        XCTAssertLessThan(onEdge, 1e-12)
        let converged = try Trajectories.run(try OptimizerSpec.parse("adam(lr=0.1)"), on: surface, from: surface.start, steps: 50)
        XCTAssertNil(TrajectoryFigure.exit(converged, surface.window))
        // Leaving the window without diverging: the step of the first point outside.
        let saddle = try Surface.named("saddle")
        let away = try Trajectories.run(try OptimizerSpec.parse("sgd(lr=0.05)"), on: saddle, from: saddle.start, steps: 100)
        XCTAssertNil(away.divergedAt)
        let (_, left) = try XCTUnwrap(TrajectoryFigure.exit(away, saddle.window))
        XCTAssertFalse(saddle.window.y.contains(away.points[left].y))
        XCTAssertTrue(saddle.window.y.contains(away.points[left - 1].y))
    }

    func testColourKeysTellSGDVariantsApart() throws {
        XCTAssertEqual(try OptimizerSpec.parse("momentum").colorKey, "momentum")
        XCTAssertEqual(try OptimizerSpec.parse("sgd(momentum=0.9)").colorKey, "momentum")
        XCTAssertEqual(try OptimizerSpec.parse("nesterov(lr=0.1)").colorKey, "nesterov")
        XCTAssertEqual(try OptimizerSpec.parse("sgd(lr=0.1,schedule=step(step_size=5))").colorKey, "sgd")
        XCTAssertEqual(try OptimizerSpec.parse("adamw(label=mine)").colorKey, "adamw")
    }

    func testZeroSizeWindowIsAnError() throws {
        let surface = try Surface.formula("x^2 + y^2", window: Window(x: 1...1, y: -1...1))
        let comparison = try Trajectories.compare([try OptimizerSpec.parse("adam")], on: surface, from: Surfaces.Point(1, 0), steps: 2)
        XCTAssertThrowsError(try TrajectoryFigure.make(comparison, layout: .overlay)) { error in
            XCTAssertTrue("\(error)".contains("zero size"), "\(error)")
        }
    }

    // MARK: Learning-rate sweeps

    func testSweepFindsSGDsStabilityLimitOnTheBowl() throws {
        // On 20x² + 2y², SGD converges for lr < 2/40 = 0.05 and diverges above.
        let rates = try LRSweep.learningRates(0.01...0.09, count: 9, logarithmic: false)
        XCTAssertEqual(rates, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09].map { $0 }, accuracy: 1e-15)
        let sweep = try LRSweep.run([try OptimizerSpec.parse("sgd")], on: try Surface.named("bowl"), steps: 200, learningRates: rates)
        let diverged = sweep.runs[0].map(\.diverged)
        XCTAssertEqual(diverged, [false, false, false, false, false, true, true, true, true])
        XCTAssertEqual(sweep.toleratedRanges(0).map(\.lowerBound), [0.01])
        XCTAssertEqual(sweep.toleratedRanges(0).first?.upperBound ?? 0, 0.04, accuracy: 1e-15)
        XCTAssertEqual(sweep.tolerance, 1e-3 * sweep.startLoss)
        let csv = sweep.csv.split(separator: "\n")
        XCTAssertEqual(csv[0], "optimizer,lr,final_loss,final_x,final_y,diverged")
        XCTAssertEqual(csv.count, 10)
        XCTAssertTrue(csv[9].hasSuffix(",nan,nan,nan,true"), String(csv[9]))
    }

    func testSweepResultsDoNotDependOnParallelism() throws {
        let specs = try LRSweep.defaultOptimizers.map(OptimizerSpec.parse)
        let rates = try LRSweep.learningRates(0.001...3, count: 37, logarithmic: true)
        XCTAssertEqual(rates.first, 0.001)
        XCTAssertEqual(rates.last, 3)
        let surface = try Surface.named("rosenbrock")
        let sweep = try LRSweep.run(specs, on: surface, steps: 50, learningRates: rates)
        for (i, spec) in specs.enumerated() {
            for j in [0, 17, 36] {
                let path = try Trajectories.run(spec.with(learningRate: rates[j]), on: surface, from: surface.start, steps: 50,
                                                divergenceLoss: 1e6 * sweep.startLoss)
                XCTAssertEqual(sweep.runs[i][j].final?.loss, path.divergedAt == nil ? path.finalLoss : nil)
            }
        }
    }

    func testRangeParsingAndErrors() {
        XCTAssertEqual(try LRSweep.parseRange("0...5"), 0...5)
        XCTAssertEqual(try LRSweep.parseRange("1e-3..0.5"), 0.001...0.5)
        for (text, message) in [("5...0", "empty or reversed"), ("1...1", "empty or reversed"), ("0-5", "expected a learning-rate range")] {
            XCTAssertThrowsError(try LRSweep.parseRange(text)) { XCTAssertTrue("\($0)".contains(message), "\($0)") }
        }
        XCTAssertThrowsError(try LRSweep.learningRates(0...5, count: 11, logarithmic: true)) { XCTAssertTrue("\($0)".contains("--log")) }
        XCTAssertThrowsError(try LRSweep.learningRates(0...5, count: 1, logarithmic: false)) { XCTAssertTrue("\($0)".contains("--points")) }
    }

    // MARK: Experiments

    func testEveryExperimentFileParsesAndRuns() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: "experiments").filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 5)
        for file in files {
            let experiment = try Experiment.load("experiments/" + file)
            let written = try experiment.run(into: folder.path, dpi: 40)
            XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, [experiment.name + ".png", experiment.name + ".csv"])
            let (w, h) = try pngSize(written[0])
            XCTAssertGreaterThan(w, 200, file)
            XCTAssertGreaterThan(h, 200, file)
            XCTAssertGreaterThan(try String(contentsOfFile: written[1], encoding: .utf8).split(separator: "\n").count, 10)
        }
    }

    func testExperimentErrorsNameTheProblem() {
        let cases = [
            ("kind: trajectories\nstpes: 10", "unknown key 'stpes'"),
            ("kind: plot", "'kind' must be trajectories or lr-sweep"),
            ("kind: lr-sweep\nfn: bowl", "needs 'range: A...B'"),
            ("kind: trajectories\nlayout: spiral", "'layout' must be grid or overlay"),
            ("kind: trajectories\noptimizers: [adamm]", "unknown optimizer 'adamm'"),
            ("kind: trajectories\nstart: [1]", "'start' must be [x, y]"),
            ("- a\n- b", "expected a mapping"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try Experiment.parse(text, name: "x")) { XCTAssertTrue("\($0)".contains(message), "\(text): \($0)") }
        }
    }

    // MARK: Commands

    func testTrajectoriesWritesTheDefaultFigureAndEveryFormat() throws {
        let r = try runOptlab(["trajectories", "--fn", "rosenbrock", "--optimizers", "adam(lr=0.05)", "--steps", "20", "--dpi", "50"], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("wrote plots/trajectories-rosenbrock.png"), r.stdout)
        let size = try pngSize(folder.appendingPathComponent("plots/trajectories-rosenbrock.png").path)
        XCTAssertEqual([size.0, size.1], [475, 330], "9.5 × 6.6 inches at 50 dpi")
        for name in ["t.svg", "t.pdf"] {
            let out = folder.appendingPathComponent(name).path
            let r = try runOptlab(["trajectories", "--steps", "5", "--layout", "overlay", "--levels", "5", "--out", out], in: folder)
            XCTAssertEqual(r.status, 0, r.stderr)
            let head = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)).prefix(5), as: UTF8.self)
            XCTAssertEqual(head, name.hasSuffix("svg") ? "<?xml" : "%PDF-")
        }
    }

    func testLRSweepCommandWritesFigureAndCSV() throws {
        let csv = folder.appendingPathComponent("s.csv").path, out = folder.appendingPathComponent("s.png").path
        let r = try runOptlab(["lr-sweep", "0.001...1", "--log", "--points", "5", "--steps", "20", "--csv", csv, "--out", out, "--dpi", "40"], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count, 1 + 6 * 5)
        let size = try pngSize(out)
        XCTAssertEqual([size.0, size.1], [380, 304], "9.5 × 7.6 inches at 40 dpi")
        XCTAssertTrue(r.stdout.contains("momentum"), r.stdout)
    }

    /// Bad input: one line on stderr, non-zero exit, and nothing written.
    func testBadInputIsOneLineAndWritesNothing() throws {
        let out = folder.appendingPathComponent("x.png").path
        let cases: [([String], String)] = [
            (["lr-sweep", "5...0", "--out", out], "empty or reversed"),
            (["lr-sweep", "1...1", "--out", out], "empty or reversed"),
            (["lr-sweep", "0...5", "--log", "--out", out], "--log needs a range starting above 0"),
            (["lr-sweep", "0...5", "--points", "1", "--out", out], "--points must be ≥ 2"),
            (["lr-sweep", "0...5", "--out", folder.appendingPathComponent("x.jpg").path], "unknown image format '.jpg'"),
            (["lr-sweep", "0...5", "--out", folder.appendingPathComponent("no/such/x.png").path], "does not exist"),
            (["trajectories", "--out", folder.appendingPathComponent("x.gif").path], "unknown image format '.gif'"),
            (["trajectories", "--levels", "2", "--out", out], "--levels must be in 3...100"),
            (["trajectories", "--layout", "spiral", "--out", out], "spiral"),
            (["run", folder.appendingPathComponent("missing.yaml").path], "cannot read experiment"),
        ]
        for (arguments, expected) in cases {
            let r = try runOptlab(arguments, in: folder)
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") && !$0.hasPrefix("Help:") && !$0.isEmpty }
            XCTAssertEqual(lines.count, 1, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [], "no file, not even a temporary one")
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
