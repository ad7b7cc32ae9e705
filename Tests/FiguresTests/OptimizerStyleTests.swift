import CIFARFigures
@testable import CIFARLab
import Optim
import Plot
import Surfaces
import SurfaceLab
import XCTest
@testable import Figures

final class OptimizerStyleTests: XCTestCase {
    func testColourKeysTellSGDVariantsApart() throws {
        XCTAssertEqual(OptimizerStyle.colorKey(try OptimizerSpec.parse("momentum")), "momentum")
        XCTAssertEqual(OptimizerStyle.colorKey(try OptimizerSpec.parse("sgd(momentum=0.9)")), "momentum")
        XCTAssertEqual(OptimizerStyle.colorKey(try OptimizerSpec.parse("nesterov(lr=0.1)")), "nesterov")
        XCTAssertEqual(OptimizerStyle.colorKey(try OptimizerSpec.parse("sgd(lr=0.1,schedule=step(step_size=5))")), "sgd")
        XCTAssertEqual(OptimizerStyle.colorKey(try OptimizerSpec.parse("adamw(label=mine)")), "adamw")
    }

    func testKnownAlgorithmsHaveDistinctFixedColours() throws {
        // Every algorithm but the wrappers, which need a base= and take its colour.
        let known = OptimizerSpec.names.compactMap { try? OptimizerSpec.parse($0) }
        XCTAssertEqual(known.count, OptimizerSpec.names.count - 2)
        XCTAssertEqual(Set(known.map(OptimizerStyle.color)).count, known.count)
        XCTAssertEqual(OptimizerStyle.color(try OptimizerSpec.parse("adam")), Color(hex: 0xD55E00), "Okabe–Ito vermillion")
        XCTAssertTrue(known.allSatisfy { (Palette.colors + Palette.additional).contains(OptimizerStyle.color($0)) })
        let wrapped = try OptimizerSpec.parse("lookahead(base=sam(base=nesterov(lr=0.1)))")
        XCTAssertEqual(OptimizerStyle.color(wrapped), OptimizerStyle.color(try OptimizerSpec.parse("nesterov")))
    }

    func testSpecsOfOneAlgorithmAreDashedAfterTheFirst() throws {
        let specs = try ["sgd(lr=0.1)", "adam", "sgd(lr=0.1,schedule=step(step_size=5))", "sgd(lr=0.2)"].map { try OptimizerSpec.parse($0) }
        XCTAssertEqual(OptimizerStyle.styles(specs).map(\.dash), [[], [], LineStyle.dashed, LineStyle.dotted])
    }

    /// `sgd(momentum=0.9)` is drawn in momentum's colour, never SGD's, in a trajectory figure,
    /// a learning-rate sweep and a CIFAR comparison alike.
    func testASpecHasOneColourInEveryFigure() throws {
        let spec = try OptimizerSpec.parse("sgd(lr=0.01,momentum=0.9)")
        let momentum = OptimizerStyle.color(try OptimizerSpec.parse("momentum"))
        let sgd = OptimizerStyle.color(try OptimizerSpec.parse("sgd"))
        let bowl = try Surface.named("bowl")
        var comparisonRun = Comparison.Run(spec: spec, seed: 0)
        comparisonRun.epochs = [EpochMetrics(epoch: 1, trainLoss: 2, trainAccuracy: 0.3, testLoss: 2, testAccuracy: 0.3, seconds: 10),
                                EpochMetrics(epoch: 2, trainLoss: 1, trainAccuracy: 0.6, testLoss: 1, testAccuracy: 0.6, seconds: 20)]
        let figures: [(String, Figure)] = [
            ("trajectories", try TrajectoryFigure.make(try Trajectories.compare([spec], on: bowl, steps: 20), layout: .overlay)),
            ("lr-sweep", LRSweepFigure.make(try LRSweep.run([spec], on: bowl, steps: 20, learningRates: [0.001, 0.01, 0.02]),
                                            logarithmic: false)),
            ("comparison", ComparisonFigure.make([comparisonRun], model: "tutorial")),
        ]
        for (name, figure) in figures {
            let raster = figure.rasterize(dpi: 60)
            XCTAssertGreaterThan(pixels(of: momentum, in: raster), 20, name)
            XCTAssertEqual(pixels(of: sgd, in: raster), 0, name)
        }
    }

    private func pixels(of color: Color, in raster: Raster) -> Int {
        var count = 0
        for y in 0..<raster.height {
            for x in 0..<raster.width {
                let c = raster.color(x: x, y: y)
                if max(abs(c.red - color.red), abs(c.green - color.green), abs(c.blue - color.blue)) <= 1.0 / 255 { count += 1 }
            }
        }
        return count
    }
}
