import Foundation
import Optim
import Support
import Surfaces
import XCTest
@testable import SurfaceLab

final class GradientNoiseTests: XCTestCase {
    let specs = try! OptimizerSpec.parseList("sgd(lr=0.04),momentum(lr=0.04),adam(lr=0.1)")

    func testZeroNoiseChangesNothing() throws {
        let bowl = try Surface.named("bowl")
        let exact = try Trajectories.compare(specs, on: bowl, steps: 50)
        let silent = try Trajectories.compare(specs, on: bowl, steps: 50, noise: try GradientNoise(sigma: 0, seeds: 3))
        XCTAssertEqual(silent.results.count, 9)
        for (k, path) in silent.results.enumerated() {
            XCTAssertEqual(path.points, exact.results[k / 3].points, "seed \(path.seed!) of \(path.label): bit-identical")
            XCTAssertEqual(path.seed, k % 3)
        }
        XCTAssertEqual(exact.csv.split(separator: "\n").first, "optimizer,step,x,y,loss,evals,second_point,second_x,second_y")
        XCTAssertEqual(silent.csv.split(separator: "\n").first, "optimizer,seed,step,x,y,loss,evals,second_point,second_x,second_y")
    }

    func testNoiseStreamsAreReproducibleAndIndependent() throws {
        let bowl = try Surface.named("bowl")
        let noise = try GradientNoise(sigma: 2, seeds: 4)
        let a = try Trajectories.compare(specs, on: bowl, steps: 30, noise: noise)
        let b = try Trajectories.compare(specs, on: bowl, steps: 30, noise: noise)
        XCTAssertEqual(a.results.map(\.points), b.results.map(\.points), "the same seeds give the same paths")
        let sgd = a.groups[0]
        XCTAssertEqual(Set(sgd.map { $0.points[1].x }).count, 4, "each seed its own noise")
        // Every optimizer sees the same streams: SGD's first step is -lr (∇f + σ z) from the same start.
        let exactFirst = try Trajectories.compare([specs[0]], on: bowl, steps: 1).results[0].points[1]
        let momentumFirst = a.groups[1][2].points[1], sgdFirst = sgd[2].points[1]
        XCTAssertEqual(momentumFirst.x, sgdFirst.x, "momentum's first step equals SGD's (empty buffer)")
        XCTAssertNotEqual(sgdFirst.x, exactFirst.x)
        // The noise on the first gradient is N(0, σ²): over many seeds its spread is σ.
        let many = try Trajectories.compare([specs[0]], on: bowl, steps: 1, noise: try GradientNoise(sigma: 2, seeds: 1000))
        let z = many.results.map { ($0.points[1].x - exactFirst.x) / -0.04 }
        let mean = z.reduce(0, +) / 1000, spread = (z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 999).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.2)
        XCTAssertEqual(spread, 2, accuracy: 0.15)
    }

    func testTheMedianPathIsPointwiseAndDivergesWithTheMajority() throws {
        let bowl = try Surface.named("bowl")
        let fan = try Trajectories.compare([specs[0]], on: bowl, steps: 20, noise: try GradientNoise(sigma: 3, seeds: 5)).results
        let median = TrajectoryResult.median(of: fan, on: bowl)
        XCTAssertEqual(median.points[7].x, fan.map { $0.points[7].x }.sorted()[2])
        XCTAssertEqual(median.losses[7], bowl.value(median.points[7].x, median.points[7].y))
        let diverging = try Trajectories.compare(OptimizerSpec.parseList("sgd(lr=1e100),sgd(lr=1e100),sgd(lr=0.01)"), on: bowl, steps: 5).results
        XCTAssertNotNil(TrajectoryResult.median(of: diverging, on: bowl).divergedAt, "two of three diverged")
    }

    func testBadNoiseSettingsAreRefused() {
        XCTAssertThrowsError(try GradientNoise(sigma: -1, seeds: 2)) { XCTAssertEqual("\($0)", "noise must be a standard deviation ≥ 0, got -1.0") }
        XCTAssertThrowsError(try GradientNoise(sigma: 1, seeds: 0)) { XCTAssertEqual("\($0)", "seeds must be in 1...1000, got 0") }
    }
}

final class NoisySweepTests: XCTestCase {
    func testTheSweepEngineDrawsTheNoiseAsASinglePathDoes() throws {
        let bowl = try Surface.named("bowl")
        let noise = try GradientNoise(sigma: 1.5, seeds: 3)
        let spec = try OptimizerSpec.parse("adam")
        let rates = [0.01, 0.05, 0.2]
        let states = try Trajectories.finalStates(spec, learningRates: rates, on: bowl, from: bowl.start, steps: 40,
                                                  noise: (noise.sigma, noise.stream(2)))
        for (lr, state) in zip(rates, states) {
            let path = try Trajectories.run(spec.with(learningRate: lr), on: bowl, from: bowl.start, steps: 40,
                                            noise: (noise.sigma, noise.stream(2), 2))
            XCTAssertEqual(state.point, path.finalPoint, "lr \(lr): bit for bit")
        }
    }

    func testNoisySweepTakesTheMedianAndQuartilesOfTheSeeds() throws {
        let bowl = try Surface.named("bowl")
        let rates = try LRSweep.learningRates(0.001...0.2, count: 9, logarithmic: false)
        let specs = try OptimizerSpec.parseList("sgd,adam")
        let exact = try LRSweep.run(specs, on: bowl, steps: 50, learningRates: rates)
        let silent = try LRSweep.run(specs, on: bowl, steps: 50, learningRates: rates, noise: try GradientNoise(sigma: 0, seeds: 3))
        XCTAssertEqual(silent.runs.map { $0.map { $0.final?.loss } }, exact.runs.map { $0.map { $0.final?.loss } }, "σ = 0 changes nothing")
        XCTAssertEqual(silent.csv.split(separator: "\n").first, "optimizer,seed,lr,final_loss,final_x,final_y,diverged")
        XCTAssertEqual(silent.csv.split(separator: "\n").count, 1 + 2 * 3 * 9)

        let noisy = try LRSweep.run(specs, on: bowl, steps: 50, learningRates: rates, noise: try GradientNoise(sigma: 2, seeds: 5))
        let quartiles = try XCTUnwrap(noisy.interquartileRange(1))
        for j in rates.indices {
            let losses = noisy.seedRuns[1].map { $0[j].final?.loss ?? .infinity }.sorted()
            XCTAssertEqual(noisy.runs[1][j].final?.loss ?? .infinity, losses[2], "the median of five")
            XCTAssertEqual(quartiles[j].lower, losses[1])
            XCTAssertEqual(quartiles[j].upper, losses[3])
        }
        XCTAssertNil(exact.interquartileRange(0))
    }
}
