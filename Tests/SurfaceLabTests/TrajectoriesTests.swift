import Foundation
import XCTest
@testable import SurfaceLab
import Optim
import Surfaces

final class TrajectoriesTests: XCTestCase {
    func testPathStartsAtTheStartAndRecordsEveryStep() throws {
        let bowl = try Surface.named("bowl")
        let r = try Trajectories.run(OptimizerSpec.parse("sgd(lr=0.04)"), on: bowl, from: Point(-1, 1.5), steps: 3)
        XCTAssertEqual(r.points.count, 4)
        XCTAssertEqual(r.points[0], Point(-1, 1.5))
        XCTAssertEqual(r.points[1].x, -1 - 0.04 * 40 * -1, accuracy: 1e-15)
        XCTAssertEqual(r.losses, r.points.map { bowl.value($0.x, $0.y) })
        XCTAssertNil(r.divergedAt)
    }

    /// x ← x − 1·40x = −39x grows until 20x² overflows: the path stops at the first infinite loss.
    func testDivergenceStopsThePathAtTheFirstNonFiniteValue() throws {
        let r = try Trajectories.run(OptimizerSpec.parse("sgd(lr=1)"), on: Surface.named("bowl"), from: Point(1, 0), steps: 1000)
        let k = try XCTUnwrap(r.divergedAt)
        XCTAssertEqual(r.points.count, k)
        XCTAssertTrue(r.losses.allSatisfy(\.isFinite))
        XCTAssertEqual(k, 97)  // 20·39^(2k) first overflows at k = 97

        let capped = try Trajectories.run(OptimizerSpec.parse("sgd(lr=1)"), on: Surface.named("bowl"), from: Point(1, 0), steps: 1000,
                                          divergenceLoss: 20e6)
        XCTAssertEqual(capped.divergedAt, 2)  // 20·39⁴ > 2e7 ≥ 20·39²
    }

    func testStartOutsideTheDomainIsAnError() throws {
        XCTAssertThrowsError(try Trajectories.run(OptimizerSpec.parse("sgd"), on: Surface.named("log(x)"), from: Point(-1, 0), steps: 5)) {
            XCTAssertEqual("\($0)", "the start (-1.0, 0.0) is outside the surface's domain: f = nan")
        }
    }

    func testCSVHasTheHeaderAndQuotesLabels() throws {
        let specs = try OptimizerSpec.parseList("sgd(lr=0.04,momentum=0.9),adam(lr=0.1,label=say \"hi\")")
        let comparison = try Trajectories.compare(specs, on: Surface.named("bowl"), steps: 2)
        let lines = comparison.csv.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "optimizer,step,x,y,loss,evals,second_point,second_x,second_y")
        XCTAssertEqual(lines[1], "\"sgd(lr=0.04,momentum=0.9)\",0,-1.0,1.5,24.5,0,,,")
        XCTAssertEqual(lines[4], "\"say \"\"hi\"\"\",0,-1.0,1.5,24.5,0,,,")
        XCTAssertTrue(lines[2].hasSuffix(",1,,,"), lines[2])
        XCTAssertEqual(lines.count, 1 + 2 * 3)
    }

    func testClassicSpecsAreNineFinitePathsOnEveryBuiltin() throws {
        for surface in Surface.builtins {
            let specs = Trajectories.classicSpecs(for: surface)
            XCTAssertEqual(specs.map(\.name), ["sgd", "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "sgd", "sgd"])
            if surface.name == "saddle" { continue }  // unbounded below: leaving is the point
            for r in try Trajectories.compare(specs, on: surface, steps: 100).results {
                XCTAssertNil(r.divergedAt, "\(surface.name) \(r.label)")
            }
        }
    }
}

extension TrajectoriesTests {
    /// A sweep's final states are exactly the ends of the single paths, diverged ones included,
    /// across blocks and with schedules (plateau's, which steps with each path's own loss, too).
    func testFinalStatesEqualTheEndsOfSinglePaths() throws {
        let bowl = try Surface.named("bowl")
        let rates = [0.001, 0.01, 0.04, 0.049, 0.05, 0.06, 0.2]  // sgd on bowl diverges above 0.05
        // Separable rules run as one optimizer over blocks of paths; SAM, LBFGS, Prodigy and Muon
        // (global norms, one flat vector, a parameter's role) and schedule-free (evaluated at x)
        // must run one by one, or their paths would couple.
        for text in ["sgd", "momentum(schedule=step(step_size=5,gamma=0.5))", "adam", "nadam", "adadelta",
                     "adam(schedule=plateau(patience=2,factor=0.5,threshold=0.05))",
                     "momentum(schedule=sequential(schedulers=(linear,cosine(T_max=55)),milestones=(5)))",
                     "rprop", "lion", "lookahead(base=adam)", "sam(base=sgd)", "lbfgs(max_iter=3)", "prodigy", "muon",
                     "sgd_schedulefree"] {
            let spec = try OptimizerSpec.parse(text)
            let states = try Trajectories.finalStates(spec, learningRates: rates, on: bowl, from: bowl.start, steps: 60,
                                                      divergenceLoss: 1e4, block: 3)
            for (lr, state) in zip(rates, states) {
                let path = try Trajectories.run(spec.with(learningRate: lr), on: bowl, from: bowl.start, steps: 60, divergenceLoss: 1e4)
                XCTAssertEqual(state, FinalState(point: path.finalPoint, loss: path.finalLoss, divergedAt: path.divergedAt), "\(text) lr=\(lr)")
            }
        }
        let sgd = try Trajectories.finalStates(OptimizerSpec.parse("sgd"), learningRates: rates, on: bowl, from: bowl.start, steps: 60,
                                               divergenceLoss: 1e4)
        XCTAssertEqual(sgd.map { $0.divergedAt != nil }, [false, false, false, false, false, true, true])
    }

    func testFinalStatesRejectBadInput() throws {
        let sgd = try OptimizerSpec.parse("sgd")
        XCTAssertThrowsError(try Trajectories.finalStates(sgd, learningRates: [0.1, -1], on: Surface.named("bowl"), from: Point(1, 1), steps: 5)) {
            XCTAssertEqual("\($0)", "sgd: lr=-1 must be ≥ 0")
        }
        XCTAssertThrowsError(try Trajectories.finalStates(sgd, learningRates: [0.1], on: Surface.named("log(x)"), from: Point(-1, 0), steps: 5)) {
            XCTAssertEqual("\($0)", "the start (-1.0, 0.0) is outside the surface's domain: f = nan")
        }
        XCTAssertEqual(try Trajectories.finalStates(sgd, learningRates: [], on: Surface.named("bowl"), from: Point(1, 1), steps: 5), [])
    }
}
