import XCTest
@testable import Support

final class ProgressBarTests: XCTestCase {
    func testLineShowsCountRateAndETA() {
        let line = ProgressBar.line(label: "epoch 3", completed: 12_500, total: 50_000, unit: .items("img"), seconds: 5)
        XCTAssertEqual(line, "epoch 3  [#####...............]  12,500/50,000  2,500 img/s  ETA 0:15")
    }

    func testLineWithoutTotalOrWhenDone() {
        XCTAssertEqual(ProgressBar.line(label: "download", completed: 42_000_000, total: nil, unit: .bytes, seconds: 2),
                       "download  42.0 MB  21.0 MB/s")
        XCTAssertEqual(ProgressBar.line(label: "runs", completed: 4, total: 4, unit: .items("run"), seconds: 8),
                       "runs  [####################]  4/4  1 run/s")
    }

    func testClock() {
        XCTAssertEqual([0.2, 59, 61, 3_725].map(ProgressBar.clock), ["0:01", "0:59", "1:01", "1:02:05"])
    }
}
