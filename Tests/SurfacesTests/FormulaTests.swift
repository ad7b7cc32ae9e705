import XCTest
import Foundation
@testable import Surfaces

final class FormulaTests: XCTestCase {
    private func value(_ formula: String, _ x: Double, _ y: Double) throws -> Double {
        try FormulaParser.parse(formula).evaluate(x, y)
    }

    func testPrecedenceAndAssociativity() throws {
        XCTAssertEqual(try value("1 + 2*3", 0, 0), 7)
        XCTAssertEqual(try value("(1 + 2)*3", 0, 0), 9)
        XCTAssertEqual(try value("8/4/2", 0, 0), 1)
        XCTAssertEqual(try value("10 - 4 - 3", 0, 0), 3)
        XCTAssertEqual(try value("2^3^2", 0, 0), 512)      // right-associative
        XCTAssertEqual(try value("2**3", 0, 0), 8)
        XCTAssertEqual(try value("-x^2", 3, 0), -9)        // unary minus binds looser than ^
        XCTAssertEqual(try value("2^-1", 0, 0), 0.5)
        XCTAssertEqual(try value("x - -y", 1, 2), 3)
        XCTAssertEqual(try value("1.5e1 + .5", 0, 0), 15.5)
        XCTAssertEqual(try value("2*e - e*2 + pi", 0, 0), .pi)
    }

    func testFunctions() throws {
        let (x, y) = (0.3, -0.7)
        XCTAssertEqual(try value("sin(x) + cos(y)", x, y), sin(x) + cos(y))
        XCTAssertEqual(try value("tan(x*y)", x, y), tan(x * y))
        XCTAssertEqual(try value("exp(x) * log(2 + y)", x, y), exp(x) * log(2 + y))
        XCTAssertEqual(try value("sqrt(abs(y))", x, y), sqrt(abs(y)))
        XCTAssertEqual(try value("tanh(x - y)", x, y), tanh(x - y))
    }

    /// Symbolic derivatives against hand-derived analytic ones at several points.
    func testDerivativesMatchAnalyticOnes() throws {
        let cases: [(String, (Double, Double) -> (Double, Double))] = [
            ("x^2 + 3*sin(x*y)", { x, y in (2 * x + 3 * cos(x * y) * y, 3 * cos(x * y) * x) }),
            ("x/y", { x, y in (1 / y, -x / (y * y)) }),
            ("exp(-x^2 - y^2)", { x, y in (-2 * x * exp(-x * x - y * y), -2 * y * exp(-x * x - y * y)) }),
            ("log(x^2 + 1) * y^3", { x, y in (2 * x / (x * x + 1) * y * y * y, log(x * x + 1) * 3 * y * y) }),
            ("sqrt(x^2 + y^2 + 1)", { x, y in let r = sqrt(x * x + y * y + 1); return (x / r, y / r) }),
            ("tan(x) + tanh(y)", { x, y in (1 / (cos(x) * cos(x)), 1 - tanh(y) * tanh(y)) }),
            ("abs(x - y)", { x, y in let s: Double = x > y ? 1 : -1; return (s, -s) }),
            ("cos(x)^3", { x, _ in (-3 * cos(x) * cos(x) * sin(x), 0) }),
            ("(x^2 + 1)^y", { x, y in let b = x * x + 1; return (y * pow(b, y - 1) * 2 * x, pow(b, y) * log(b)) }),
            ("2^x * -y", { x, y in (-y * pow(2, x) * log(2), -pow(2, x)) }),
            ("pi*x - e", { _, _ in (.pi, 0) }),
        ]
        for (formula, analytic) in cases {
            let f = try FormulaParser.parse(formula)
            let dx = f.derivative(.x), dy = f.derivative(.y)
            for (x, y) in [(0.3, -0.7), (1.2, 0.4), (-0.9, 1.7)] {
                let (ax, ay) = analytic(x, y)
                XCTAssertEqual(dx.evaluate(x, y), ax, accuracy: 1e-12 * max(1, abs(ax)), "d/dx \(formula) = \(dx)")
                XCTAssertEqual(dy.evaluate(x, y), ay, accuracy: 1e-12 * max(1, abs(ay)), "d/dy \(formula) = \(dy)")
            }
        }
    }

    func testDerivativesAreSimplified() throws {
        XCTAssertEqual(try FormulaParser.parse("20*x^2 + 2*y^2").derivative(.x).description, "(40*x)")
        XCTAssertEqual(try FormulaParser.parse("x*y + 7").derivative(.y).description, "x")
        XCTAssertEqual(try FormulaParser.parse("3").derivative(.x).description, "0")
    }

    /// Every error is one line that points at the column of the problem.
    func testErrorsPointAtTheColumn() {
        let cases: [(String, String)] = [
            ("x^2 + * y", "column 7: expected a number, x, y, a function or '(', found '*'"),
            ("x^2 + 3*sin(x*y", "column 16: expected ')' to close sin("),
            ("x + z", "column 5: unknown name 'z'; valid: x, y, pi, e, sin, cos, tan, exp, log, sqrt, abs, tanh"),
            ("(x + y", "column 7: expected ')' to close the '(' at column 1"),
            ("x y", "column 3: expected an operator (+ - * / ^), found 'y'"),
            ("x + y)", "column 6: unmatched ')'"),
            ("sin x", "column 5: expected '(' after sin"),
            ("x + ", "column 5: unexpected end"),
            ("1.2.3 * x", "column 1: '1.2.3' is not a number"),
            ("sign(x)", "column 1: unknown name 'sign'"),
            (String(repeating: "(", count: 10_000) + "x", "column 201: nested deeper than 200 levels"),
            (String(repeating: "-", count: 10_000) + "x", "column 201: nested deeper than 200 levels"),
        ]
        for (formula, expected) in cases {
            XCTAssertThrowsError(try Surface.named(formula), formula) { error in
                let message = "\(error)"
                XCTAssertTrue(message.hasPrefix("formula \"\(formula)\", \(expected)"), "\(formula): \(message)")
                XCTAssertFalse(message.contains("\n"))
            }
        }
    }
}
