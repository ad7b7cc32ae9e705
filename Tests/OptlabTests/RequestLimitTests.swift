import Foundation
import XCTest

/// Requests that would exhaust memory or time are refused at once, with the estimate and the limit
/// (memory: half the machine's, so only estimates far above any machine's are asserted here).
final class RequestLimitTests: XCTestCase {
    func testHugeRequestsAreRefusedBeforeAnyWork() throws {
        let folder = try temporaryFolder(self)
        let cases: [([String], String)] = [
            (["lr-sweep", "0...1", "--points", "100000000"],
             "lr-sweep: 100,000,000 learning rates × 6 optimizers × 100 steps would need about 72.0 GB of memory; the limit is"),
            (["lr-sweep", "0...1", "--points", "1000000", "--steps", "100000"],
             "lr-sweep: 1,000,000 learning rates × 6 optimizers × 100,000 steps is 6e+11 optimizer steps; the limit is 1e+10"),
        ]
        for (arguments, message) in cases {
            let outcome = try runOptlab(arguments, in: folder)
            XCTAssertNotEqual(outcome.status, 0, arguments.joined(separator: " "))
            XCTAssert(outcome.stderr.contains(message), outcome.stderr)
            XCTAssertEqual(outcome.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, outcome.stderr)
        }
    }
}
