import XCTest
@testable import Surfaces

final class BuiltinTests: XCTestCase {
    /// The hand-written fast gradients agree with the symbolic derivative of each formula.
    func testBuiltinsAgreeWithTheirFormulas() throws {
        for surface in Surface.builtins {
            let parsed = try Surface.formula(surface.formula)
            for i in 0..<25 {
                let x = surface.window.x.lowerBound + Double(i % 5) / 4 * (surface.window.x.upperBound - surface.window.x.lowerBound)
                let y = surface.window.y.lowerBound + Double(i / 5) / 4 * (surface.window.y.upperBound - surface.window.y.lowerBound)
                let scale = max(1, abs(parsed.value(x, y)))
                XCTAssertEqual(surface.value(x, y), parsed.value(x, y), accuracy: 1e-12 * scale, "\(surface.name) at \(x),\(y)")
                let (gx, gy) = surface.gradient(x, y), (px, py) = parsed.gradient(x, y)
                XCTAssertEqual(gx, px, accuracy: 1e-12 * max(1, abs(px)), "\(surface.name) ∂x at \(x),\(y)")
                XCTAssertEqual(gy, py, accuracy: 1e-12 * max(1, abs(py)), "\(surface.name) ∂y at \(x),\(y)")
            }
        }
    }

    /// Known minima are stationary, inside the window, and the first is the lowest.
    func testMinimaAreStationaryAndGlobalFirst() {
        for surface in Surface.builtins {
            XCTAssertTrue(surface.window.x.contains(surface.start.x) && surface.window.y.contains(surface.start.y), surface.name)
            for m in surface.minima {
                let (gx, gy) = surface.gradient(m.x, m.y)
                XCTAssertEqual(gx, 0, accuracy: 1e-9, "\(surface.name) \(m)")
                XCTAssertEqual(gy, 0, accuracy: 1e-9, "\(surface.name) \(m)")
                XCTAssertTrue(surface.window.x.contains(m.x) && surface.window.y.contains(m.y))
                XCTAssertGreaterThanOrEqual(surface.value(m.x, m.y), surface.value(surface.minima[0].x, surface.minima[0].y) - 1e-9)
            }
        }
        XCTAssertEqual(Surface.builtinNames, ["bowl", "localmin", "rosenbrock", "beale", "himmelblau", "rastrigin", "saddle"])
        XCTAssertTrue(try Surface.named("saddle").minima.isEmpty)
    }

    func testNamedFallsBackToFormulaAndRejectsUnknownWords() throws {
        XCTAssertEqual(try Surface.named("bowl").formula, "20*x^2 + 2*y^2")
        XCTAssertEqual(try Surface.named("x^2 + 3*sin(x*y)").gradient(1, 0).x, 2 + 3 * 0, accuracy: 0)
        XCTAssertThrowsError(try Surface.named("bowel")) {
            XCTAssertEqual("\($0)", "unknown surface 'bowel'; valid: bowl, localmin, rosenbrock, beale, himmelblau, rastrigin, saddle, or a formula in x and y such as \"x^2 + 3*sin(x*y)\"")
        }
    }
}
