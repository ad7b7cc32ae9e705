import XCTest
@testable import Optim

final class SpecTests: XCTestCase {
    func testBareNameTakesDefaultsAndPresetsResolve() throws {
        let adam = try OptimizerSpec.parse("adam")
        XCTAssertEqual(adam.name, "adam")
        XCTAssertEqual(adam.label, "adam")
        XCTAssertFalse(adam.hasExplicitLearningRate)
        guard case .adam(let o) = adam.options else { return XCTFail() }
        XCTAssertEqual(o.lr, 1e-3)
        XCTAssertEqual(o.beta1, 0.9)
        XCTAssertEqual(o.beta2, 0.999)
        XCTAssertEqual(o.eps, 1e-8)
        XCTAssertEqual(o.weightDecay, 0)

        let nesterov = try OptimizerSpec.parse("nesterov(lr=0.02)")
        XCTAssertEqual(nesterov.name, "sgd")
        XCTAssertEqual(nesterov.label, "nesterov(lr=0.02)")
        guard case .sgd(let s) = nesterov.options else { return XCTFail() }
        XCTAssertEqual(s.momentum, 0.9)
        XCTAssertTrue(s.nesterov)
        XCTAssertEqual(s.lr, 0.02)

        guard case .adam(let w) = try OptimizerSpec.parse("adamw").options else { return XCTFail() }
        XCTAssertEqual(w.weightDecay, 0.01)
        XCTAssertTrue(w.decoupledWeightDecay)
    }

    func testTorchDefaults() throws {
        func lr(_ text: String) throws -> Double { try OptimizerSpec.parse(text).options.learningRate }
        XCTAssertEqual(try lr("sgd"), 1e-3)
        XCTAssertEqual(try lr("adagrad"), 1e-2)
        XCTAssertEqual(try lr("rmsprop"), 1e-2)
        XCTAssertEqual(try lr("adadelta"), 1.0)
        XCTAssertEqual(try lr("nadam"), 2e-3)
        XCTAssertEqual(try lr("radam"), 1e-3)
        XCTAssertEqual(try lr("adamax"), 2e-3)
        guard case .nadam(let n) = try OptimizerSpec.parse("nadam").options else { return XCTFail() }
        XCTAssertEqual(n.momentumDecay, 4e-3)
        guard case .adagrad(let a) = try OptimizerSpec.parse("adagrad").options else { return XCTFail() }
        XCTAssertEqual(a.eps, 1e-10)
        guard case .adadelta(let d) = try OptimizerSpec.parse("adadelta").options else { return XCTFail() }
        XCTAssertEqual(d.rho, 0.9)
        XCTAssertEqual(d.eps, 1e-6)
    }

    func testListScheduleLabelAndCanonicalText() throws {
        let specs = try OptimizerSpec.parseList(
            "sgd(lr=0.04, momentum=0.9, schedule=step(step_size=10,gamma=0.5)), adam(lr=0.1,betas=(0.8,0.99),amsgrad=true,label=my adam), momentum")
        XCTAssertEqual(specs.count, 3)
        XCTAssertEqual(specs[0].label, "sgd(lr=0.04,momentum=0.9,schedule=step(step_size=10,gamma=0.5))")
        XCTAssertEqual(specs[0].schedule?.name, "step")
        XCTAssertEqual(specs[1].label, "my adam")
        XCTAssertEqual(specs[1].description, "adam(lr=0.1,betas=(0.8,0.99),amsgrad=true,label=my adam)")
        XCTAssertEqual(specs[2].description, "sgd(momentum=0.9)")
        XCTAssertEqual(specs[2].label, "momentum")
        for spec in specs {
            XCTAssertEqual(try OptimizerSpec.parse(spec.description).description, spec.description)
        }
    }

    func testWithLearningRate() throws {
        let m = try OptimizerSpec.parse("momentum").with(learningRate: 0.01)
        XCTAssertTrue(m.hasExplicitLearningRate)
        XCTAssertEqual(m.label, "momentum(lr=0.01)")
        XCTAssertEqual(m.options.learningRate, 0.01)
        let a = try OptimizerSpec.parse("adam(betas=(0.8,0.9),lr=0.5)").with(learningRate: 0.25)
        XCTAssertEqual(a.label, "adam(betas=(0.8,0.9),lr=0.25)")
        XCTAssertEqual(try OptimizerSpec.parse("adam(label=x)").with(learningRate: 2).label, "x")
    }

    /// Every error is one line naming the offending part and, where there is a choice, the valid ones.
    func testErrorsNameTheProblem() {
        let cases: [(String, [String])] = [
            ("adamm(lr=0.1)", ["unknown optimizer 'adamm'", "sgd, adagrad", "momentum, nesterov"]),
            ("adam(beta=0.9)", ["adam: unknown key 'beta'", "valid keys: lr, betas, eps"]),
            ("adam(lr=abc)", ["column 9", "lr=abc"]),
            ("adam(lr=-0.1)", ["adam: lr=-0.1 must be ≥ 0"]),
            ("adam(betas=(0.9,1.0))", ["betas[1]=1 must be in [0, 1)"]),
            ("adam(betas=0.9)", ["betas=0.9 must be a pair"]),
            ("sgd(nesterov=true)", ["nesterov=true needs momentum > 0"]),
            ("sgd(lr=0.1,momentum=0.9,nesterov=true,dampening=0.1)", ["dampening=0"]),
            ("adam(amsgrad=1)", ["amsgrad=1 must be true or false"]),
            ("adam(lr=0.1", ["expected ',' or ')'", "found the end"]),
            ("adam(lr=0.1,lr=0.2)", ["'lr' is given twice"]),
            ("sgd(schedule=warmup(steps=3))", ["unknown schedule 'warmup'", "step, exponential, cosine, multistep"]),
            ("sgd(schedule=step(gamma=0.5))", ["schedule step: missing step_size"]),
            ("sgd(schedule=step(step_size=2.5))", ["step_size=2.5 must be a whole number"]),
            ("sgd(schedule=cosine(T_max=10,eta=0))", ["unknown key 'eta'", "T_max, eta_min"]),
            ("sgd(schedule=0.5)", ["schedule=0.5 must be a schedule"]),
            ("adadelta(rho=1.5)", ["rho=1.5 must be in [0, 1]"]),
            ("sgd(lr=0.1) adam", ["expected ',' between specs"]),
            ("sgd(lr=" + String(repeating: "(", count: 10_000), ["nested deeper than 50 levels"]),
        ]
        for (text, fragments) in cases {
            XCTAssertThrowsError(try OptimizerSpec.parseList(text), text) { error in
                let message = "\(error)"
                XCTAssertFalse(message.contains("\n"), message)
                XCTAssertEqual((error as? LocalizedError)?.errorDescription, message)
                for fragment in fragments {
                    XCTAssertTrue(message.contains(fragment), "\(text): '\(message)' lacks '\(fragment)'")
                }
            }
        }
    }
}
