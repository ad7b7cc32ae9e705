import Foundation
import XCTest

/// Requests that would exhaust memory or time are refused at once, before any work (nothing
/// printed, nothing written), with the estimate and the limit (memory: half the machine's, so only
/// estimates far above any machine's are asserted here).
final class RequestLimitTests: XCTestCase {
    func testHugeRequestsAreRefusedBeforeAnyWork() throws {
        let folder = try temporaryFolder(self)
        try """
            kind: lr-sweep
            fn: bowl
            range: 0...1
            points: 5
            steps: 10
            """.write(to: folder.appendingPathComponent("sweep.yaml"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["lr-sweep", "0...1", "--points", "100000000"],
             "lr-sweep: 100,000,000 learning rates × 6 optimizers × 100 steps would need about 72.0 GB of memory; the limit is"),
            (["lr-sweep", "0...1", "--points", "1000000", "--steps", "100000"],
             "lr-sweep: 1,000,000 learning rates × 6 optimizers × 100,000 steps is 6e+11 optimizer steps; the limit is 1e+10"),
            // Pixels: 9.5 × 7.6 inches at 2000 dpi; the classic nine's 3 × 3 grid (11.4 × 10.5
            // inches) at 1000 dpi; a 10⁷-step race with a frame per step at 80 dpi; an experiment.
            (["lr-sweep", "0...1", "--points", "5", "--steps", "10", "--dpi", "2000", "--out", "sweep.png"],
             "a 19000×15200-pixel image is 289 megapixels (about 2.3 GB of memory to draw); the limit is 100 megapixels: lower --dpi"),
            (["trajectories", "--dpi", "1000", "--out", "grid.png"],
             "a 11400×10500-pixel image is 120 megapixels (about 958 MB of memory to draw); the limit is 100 megapixels: lower --dpi"),
            (["trajectories", "--steps", "10000000", "--frames", "10000001", "--out", "race.gif"],
             "10,000,001 frames of 912×840 pixels are 7660.8 gigapixels to draw; the limit is 2 gigapixels (about ten minutes): lower --dpi or --frames"),
            (["run", "sweep.yaml", "--plots", ".", "--dpi", "2000"],
             "a 19000×15200-pixel image is 289 megapixels"),
        ]
        for (arguments, message) in cases {
            let outcome = try runOptlab(arguments, in: folder)
            XCTAssertNotEqual(outcome.status, 0, arguments.joined(separator: " "))
            XCTAssert(outcome.stderr.contains(message), outcome.stderr)
            XCTAssertEqual(outcome.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, outcome.stderr)
            XCTAssertEqual(outcome.stdout, "", arguments.joined(separator: " "))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["sweep.yaml"])
    }
}
