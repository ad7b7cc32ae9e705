import Experiments
import Foundation
import XCTest

final class ExperimentTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-experiments-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testEveryExperimentFileParsesAndRuns() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: "experiments").filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 5)
        for file in files {
            let experiment = try Experiment.load("experiments/" + file)
            let written = try experiment.run(into: folder.path, dpi: 40)
            XCTAssertEqual(written.map { ($0 as NSString).lastPathComponent }, (experiment.outputs + ["csv"]).map { experiment.name + "." + $0 })
            if experiment.outputs.contains("gif") {
                let gif = try Data(contentsOf: URL(fileURLWithPath: folder.appendingPathComponent(experiment.name + ".gif").path))
                XCTAssertEqual(Array(gif.prefix(6)), Array("GIF89a".utf8), file)
            }
            let (w, h) = try pngSize(written[0])
            XCTAssertGreaterThan(w, 200, file)
            XCTAssertGreaterThan(h, 200, file)
            XCTAssertGreaterThan(try String(contentsOfFile: written.last!, encoding: .utf8).split(separator: "\n").count, 10)
        }
    }

    func testExperimentErrorsNameTheProblem() {
        let cases = [
            ("kind: trajectories\nstpes: 10", "unknown key 'stpes'"),
            ("kind: plot", "'kind' must be trajectories, lr-sweep or phase-map"),
            ("kind: phase-map\noptimizers: [sgd, adam]", "exactly one spec"),
            ("kind: phase-map\noptimizers: sgd\npoints: 10x1", "'points' must be N×M"),
            ("kind: trajectories\nseeds: 5", "'seeds' needs 'noise'"),
            ("kind: lr-sweep\nfn: bowl", "needs 'range: A...B'"),
            ("kind: trajectories\nlayout: spiral", "'layout' must be grid or overlay"),
            ("kind: trajectories\noptimizers: [adamm]", "unknown optimizer 'adamm'"),
            ("kind: trajectories\nstart: [1]", "'start' must be [x, y]"),
            ("kind: trajectories\noutputs: [png, avi]", "'outputs' of trajectories must be among png, svg, pdf, gif, mp4, got 'avi'"),
            ("kind: lr-sweep\nrange: 0...1\noutputs: [gif]", "'outputs' of lr-sweep must be among png, svg, pdf, got 'gif'"),
            ("kind: trajectories\nview: 3d\nelevation: 100", "'elevation' must be in -90...90 degrees, got 100.0"),
            ("kind: trajectories\nview: 3d\nazimuth: high", "'azimuth' must be a number of degrees"),
            ("kind: trajectories\nazimuth: 10", "'azimuth' applies to the 3-D view"),
            ("kind: trajectories\nview: 3d\nrotate: 90", "'rotate' turns the camera in animations"),
            ("kind: trajectories\nview: 4d", "'view' must be 2d or 3d, got '4d'"),
            ("- a\n- b", "expected a mapping"),
            // Keys that are not names made Yams trap (found by the experiment fuzzer).
            ("? [a, b]\n: c\nkind: trajectories", "a key must be a name, not a list"),
            ("kind: trajectories\nfn: {? {a: 1}: b}", "a key must be a name, not a mapping"),
            // A base-60 integer too large for Int made Yams trap (found by the experiment fuzzer).
            ("kind: trajectories\nsteps: 1111111111119111111:0", "'steps' must be a whole number, got 1111111111119111111:0"),
            ("kind: lr-sweep\nrange: 0...1\npoints: 100000000", "100,000,000 learning rates × 6 optimizers × 100 steps would need about 72.0 GB"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try Experiment.parse(text, name: "x")) { XCTAssertTrue("\($0)".contains(message), "\(text): \($0)") }
        }
    }
}

/// PNG signature and IHDR size.
func pngSize(_ path: String) throws -> (Int, Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    let be = { (o: Int) in data[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20))
}
