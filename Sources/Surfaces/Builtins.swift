import Foundation

/// The built-in surfaces. Each has its formula (for display, and checked against the hand-written
/// gradient in the tests) and a closed-form gradient written out for speed in sweeps.
@usableFromInline enum Builtin: String, CaseIterable, Sendable {
    case bowl, localmin, rosenbrock, beale, himmelblau, rastrigin, saddle

    var surface: Surface {
        let (formula, window, start, minima) = details
        return Surface(name: rawValue, formula: formula, window: window, start: start, minima: minima,
                       function: .builtin(self))
    }

    private var details: (String, Window, Point, [Point]) {
        switch self {
        case .bowl:  // the classic ill-conditioned bowl: 10× steeper in x than in y
            return ("20*x^2 + 2*y^2", Window(x: -1.5...1.5, y: -2...2), Point(-1, 1.5), [Point(0, 0)])
        case .localmin:  // a global minimum beside two local ones, all on x = 0
            return ("2*x^2 + 10*y^2 + 10*sin(5*y)", Window(x: -1.5...1.5, y: -2...2), Point(-1, 1.5),
                    [Point(0, -0.29083931499532345), Point(0, 0.8712810830760778), Point(0, -1.4473142236328096)])
        case .rosenbrock:  // a curved, flat-bottomed valley
            return ("(1-x)^2 + 100*(y-x^2)^2", Window(x: -2...2, y: -1...3), Point(-1.2, 1), [Point(1, 1)])
        case .beale:
            return ("(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
                    Window(x: -4.5...4.5, y: -4.5...4.5), Point(1, 1.5), [Point(3, 0.5)])
        case .himmelblau:  // four equal minima
            return ("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", Window(x: -5...5, y: -5...5), Point(0, 0),
                    [Point(3, 2), Point(-2.805118086952745, 3.131312518250573),
                     Point(-3.779310253377747, -3.283185991286170), Point(3.584428340330492, -1.848126526964404)])
        case .rastrigin:  // a bowl covered in local minima
            return ("20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)", Window(x: -5.12...5.12, y: -5.12...5.12),
                    Point(2.2, -2.7), [Point(0, 0)])
        case .saddle:  // unbounded below: no minimum, a saddle point at the origin
            return ("x^2 - y^2", Window(x: -2...2, y: -2...2), Point(-1.5, 0.001), [])
        }
    }

    @inlinable @inline(__always)
    func value(_ x: Double, _ y: Double) -> Double {
        switch self {
        case .bowl: return 20 * x * x + 2 * y * y
        case .localmin: return 2 * x * x + 10 * y * y + 10 * sin(5 * y)
        case .rosenbrock: return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
        case .beale:
            let a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y
            return a * a + b * b + c * c
        case .himmelblau:
            let a = x * x + y - 11, b = x + y * y - 7
            return a * a + b * b
        case .rastrigin: return 20 + x * x - 10 * cos(2 * .pi * x) + y * y - 10 * cos(2 * .pi * y)
        case .saddle: return x * x - y * y
        }
    }

    @inlinable @inline(__always)
    func gradient(_ x: Double, _ y: Double) -> (x: Double, y: Double) {
        switch self {
        case .bowl: return (40 * x, 4 * y)
        case .localmin: return (4 * x, 20 * y + 50 * cos(5 * y))
        case .rosenbrock:
            let r = y - x * x
            return (-2 * (1 - x) - 400 * x * r, 200 * r)
        case .beale:
            let a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y
            return (2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1),
                    2 * a * x + 2 * b * (2 * x * y) + 2 * c * (3 * x * y * y))
        case .himmelblau:
            let a = x * x + y - 11, b = x + y * y - 7
            return (4 * x * a + 2 * b, 2 * a + 4 * y * b)
        case .rastrigin:
            return (2 * x + 20 * .pi * sin(2 * .pi * x), 2 * y + 20 * .pi * sin(2 * .pi * y))
        case .saddle: return (2 * x, -2 * y)
        }
    }
}
