import XCTest
@testable import Plot

final class TicksTests: XCTestCase {
    func testLinearTicksAreNiceNumbers() {
        XCTAssertEqual(Ticks.linear(0...1, target: 5).map(\.value), [0, 0.2, 0.4, 0.6, 0.8, 1.0].map { $0 }, accuracy: 1e-12)
        XCTAssertEqual(Ticks.linear(0...1, target: 5).map(\.label), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(Ticks.linear(-2.5...2.5, target: 4).map(\.label), ["−2", "0", "2"])
        XCTAssertEqual(Ticks.linear(0...5, target: 6).map(\.label), ["0", "1", "2", "3", "4", "5"])
        XCTAssertEqual(Ticks.linear(0...0.5, target: 5).map(\.label), ["0", "0.1", "0.2", "0.3", "0.4", "0.5"])
        XCTAssertEqual(Ticks.linear(0...10, target: 4).map(\.label), ["0", "2.5", "5.0", "7.5", "10.0"])
        XCTAssertEqual(Ticks.linear(-37...1234, target: 5).map(\.label), ["0", "500", "1000"])
        XCTAssertEqual(Ticks.linear(0...3e6, target: 3).map(\.label), ["0", "10⁶", "2×10⁶", "3×10⁶"])
    }

    func testNiceStepsAreOneTwoTwoPointFiveOrFive() {
        XCTAssertEqual(Ticks.niceStep(0.13), 0.2, accuracy: 1e-15)
        XCTAssertEqual(Ticks.niceStep(2.1), 2.5, accuracy: 1e-15)
        XCTAssertEqual(Ticks.niceStep(3), 5)
        XCTAssertEqual(Ticks.niceStep(7), 10)
        XCTAssertEqual(Ticks.niceStep(100), 100)
    }

    func testLogTicksLabelDecades() {
        let ticks = Ticks.log(0.005...2000, maxLabels: 8)
        XCTAssertEqual(ticks.filter(\.isMajor).map(\.label), ["10⁻²", "10⁻¹", "1", "10", "10²", "10³"])
        XCTAssertTrue(ticks.contains { $0.value == 0.02 && !$0.isMajor }, "minor ticks at 2…9 × 10ⁿ")
        let wide = Ticks.log(1e-12...1e6, maxLabels: 7)
        XCTAssertEqual(wide.filter(\.isMajor).map(\.label), ["10⁻¹²", "10⁻⁹", "10⁻⁶", "10⁻³", "1", "10³", "10⁶"])
        XCTAssertFalse(wide.contains { !$0.isMajor && $0.value > 1e-12 && log10($0.value).rounded() != log10($0.value) },
                       "no 2…9 minor ticks over 18 decades")
    }

    func testCompactLabels() {
        XCTAssertEqual(Ticks.compact(9.99e-5), "10⁻⁴", "a mantissa rounding up to 10 moves to the next power")
        XCTAssertEqual(Ticks.compact(-2.96e-7), "−3×10⁻⁷")
        XCTAssertEqual(Ticks.compact(0.0925), "0.0925")
        XCTAssertEqual(Ticks.compact(92.5), "92.5")
        XCTAssertEqual(Ticks.compact(1234.6), "1235")
        XCTAssertEqual(Ticks.compact(2e-5), "2×10⁻⁵")
        XCTAssertEqual(Ticks.compact(-3.14159), "−3.14")
        XCTAssertEqual(Ticks.distinct([-3.9912, -3.9947, -3.5]), ["−3.991", "−3.995", "−3.5"])
        XCTAssertEqual(Ticks.distinct([0.0942, 0.168, 0.298]), ["0.0942", "0.168", "0.298"])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
