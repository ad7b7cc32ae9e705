import Foundation
import XCTest

final class TrajectoriesCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-cli-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testDefaultNineWriteTheCSV() throws {
        let csv = folder.appendingPathComponent("bowl.csv").path
        let r = try runOptlab(["trajectories", "--fn", "bowl", "--csv", csv], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "optimizer,step,x,y,loss,evals,second_point,second_x,second_y")
        XCTAssertEqual(lines.count, 1 + 9 * 101)
        XCTAssertTrue(r.stdout.contains("adamw(lr=0.1)"), r.stdout)
    }

    func testDivergedPathIsReportedAndTheRunSucceeds() throws {
        let r = try runOptlab(["trajectories", "--optimizers", "sgd(lr=1),adam", "--steps", "300", "--start=1,0"], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("diverged at step 97"), r.stdout)
    }

    func testFormulaAndStartOption() throws {
        let csv = folder.appendingPathComponent("f.csv").path
        let r = try runOptlab(["trajectories", "--fn", "x^2 + 3*sin(x*y)", "--start=-1.5,1", "--steps", "5",
                               "--optimizers", "adam(lr=0.1)", "--csv", csv], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines[1], "adam(lr=0.1),0,-1.5,1.0,\(2.25 + 3 * sin(-1.5)),0,,,")
        XCTAssertEqual(lines.count, 7)
    }

    /// onecycle spans the path when total_steps is left out: its rate falls to max_lr/25/1e4 by the
    /// last step, so the path settles at the bowl's minimum.
    func testOneCycleSpansThePath() throws {
        let csv = folder.appendingPathComponent("onecycle.csv").path
        let spec = "sgd(lr=0.01,momentum=0.9,schedule=onecycle(max_lr=0.05))"
        let r = try runOptlab(["trajectories", "--fn", "bowl", "--optimizers", spec, "--csv", csv], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + 101)
        XCTAssertTrue(lines[1].hasPrefix("\"\(spec)\",0,"), String(lines[1]))
        let loss = Double(lines.last!.split(separator: ",", omittingEmptySubsequences: false).dropLast(4).last!)!
        XCTAssertLessThan(loss, 1e-3)
    }

    /// Bad input: one line on stderr naming the problem, non-zero exit, no file written.
    func testBadInputIsOneLineAndWritesNothing() throws {
        let csv = folder.appendingPathComponent("bad.csv").path
        let cases: [([String], String)] = [
            (["--optimizers", "adamm"], "unknown optimizer 'adamm'"),
            (["--optimizers", "adam(lr=-1)"], "adam: lr=-1 must be ≥ 0"),
            (["--optimizers", "sgd(nesterov=true)"], "nesterov=true needs momentum > 0"),
            (["--fn", "x^2 + * y"], "column 7"),
            (["--fn", "bowel"], "unknown surface 'bowel'"),
            (["--start", "1"], "--start expects X,Y"),
            (["--steps", "0"], "--steps must be in 1...10000000"),
            (["--steps", "99999999999"], "--steps must be in 1...10000000"),
            (["--optimizers", "adagrad(schedule=onecycle(max_lr=0.1))"], "adagrad: schedule onecycle cycles the momentum"),
            (["--optimizers", "sgd(schedule=plateau(mode=lowest))"], "schedule plateau: mode=lowest must be one of min, max"),
            (["--optimizers", "sgd(schedule=sequential(schedulers=(linear,cosine(T_max=9)),milestones=(1,2)))"],
             "schedule sequential: 2 schedulers need 1 milestone"),
            (["--optimizers", "sgd(schedule=cyclic(base_lr=0.01))"], "schedule cyclic: missing max_lr"),
            (["--optimizers", "sgd(momentum=0.9,schedule=onecycle(max_lr=0.1,total_steps=50))"],
             "schedule onecycle: tried to step 51 times; total_steps is 50"),
            (["--view", "3d", "--azimuth", "400"], "--azimuth must be in -360...360 degrees, got 400.0"),
            (["--view", "3d", "--elevation=-91"], "--elevation must be in -90...90 degrees, got -91.0"),
            (["--view", "3d", "--elevation", "nan"], "--elevation must be in -90...90 degrees, got nan"),
            (["--elevation", "45"], "--elevation applies to the 3-D view"),
            (["--view", "3d", "--rotate", "90"], "--rotate turns the camera in animations: write a .gif or .mp4"),
            (["--view", "3D"], "--view must be 2d or 3d, got '3D'"),
            (["--view", "3d", "--show", "step"], "--show draws on the 2-D view only"),
        ]
        for (arguments, expected) in cases {
            let r = try runOptlab(["trajectories"] + arguments + ["--csv", csv])
            XCTAssertNotEqual(r.status, 0, "\(arguments)")
            let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") }
            XCTAssertEqual(lines.count, 1, "\(arguments): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(arguments): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: csv), "\(arguments)")
        }
        let r = try runOptlab(["trajectories", "--csv", folder.appendingPathComponent("no/such/dir.csv").path], in: folder)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
    }
}

/// The 3-D view from the command line: negative angles read as numbers.
extension TrajectoriesCommandTests {
    func test3DViewTakesNegativeAngles() throws {
        let out = folder.appendingPathComponent("saddle.png").path
        let r = try runOptlab(["trajectories", "--fn", "saddle", "--view", "3d", "--azimuth", "-30", "--elevation", "-20", "--steps", "5",
                               "--optimizers", "adam", "--dpi", "40", "--out", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try pngSize(out).0, 380, "9.5 in at 40 dpi")
    }
}

/// The figure commands: every format, the lr-sweep's figure and CSV, bad input.
extension TrajectoriesCommandTests {
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

    func testAnimationAndPhaseMapCommandsWriteTheirFiles() throws {
        let gif = folder.appendingPathComponent("race.gif").path
        let r = try runOptlab(["trajectories", "--optimizers", "adam(lr=0.1)", "--steps", "10", "--frames", "6", "--dpi", "30", "--out", gif], in: folder)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: gif)).prefix(6)), Array("GIF89a".utf8))
        let csv = folder.appendingPathComponent("map.csv").path, png = folder.appendingPathComponent("map.png").path
        let m = try runOptlab(["phase-map", "--points", "11x10", "--csv", csv, "--out", png, "--dpi", "40"], in: folder)
        XCTAssertEqual(m.status, 0, m.stderr)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first, "lr,momentum,final_loss,diverged")
        XCTAssertEqual(rows.count, 1 + 110)
        XCTAssertTrue(m.stdout.contains("110 runs of 100 steps"), m.stdout)
    }

    /// Bad input: one line on stderr, non-zero exit, and nothing written.
    func testFigureCommandsBadInputIsOneLineAndWritesNothing() throws {
        let out = folder.appendingPathComponent("x.png").path
        let cases: [([String], String)] = [
            (["lr-sweep", "5...0", "--out", out], "empty or reversed"),
            (["lr-sweep", "1...1", "--out", out], "empty or reversed"),
            (["lr-sweep", "0...5", "--log", "--out", out], "--log needs a range starting above 0"),
            (["lr-sweep", "0...5", "--points", "1", "--out", out], "--points must be ≥ 2"),
            (["lr-sweep", "0...5", "--out", folder.appendingPathComponent("x.jpg").path], "unknown image format '.jpg'"),
            (["lr-sweep", "0...5", "--out", folder.appendingPathComponent("no/such/x.png").path], "does not exist"),
            (["trajectories", "--out", folder.appendingPathComponent("x.avi").path], "unknown format '.avi' (use .png, .svg, .pdf, .gif or .mp4)"),
            (["lr-sweep", "0...5", "--out", folder.appendingPathComponent("x.gif").path], "unknown image format '.gif'"),
            (["trajectories", "--fps", "30", "--out", out], "--fps and --frames apply to animations"),
            (["trajectories", "--seeds", "3", "--out", out], "--seeds needs --noise"),
            (["trajectories", "--noise", "1", "--seeds", "4", "--out", folder.appendingPathComponent("x.gif").path], "--seeds must be 1 in an animation"),
            (["trajectories", "--show", "speed", "--out", out], "--show takes step, velocity or scale"),
            (["phase-map", "--y", "rho=0...1", "--out", out], "rho cannot be swept in sgd"),
            (["phase-map", "--points", "3000x3000", "--out", out], "9,000,000 runs; at most 1,000,000"),
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

/// PNG signature and IHDR size.
func pngSize(_ path: String) throws -> (Int, Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let be = { (o: Int) in data[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20))
}
