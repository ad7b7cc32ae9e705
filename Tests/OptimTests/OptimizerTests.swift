import XCTest
@testable import Optim

/// Owns the memory of a few parameters for a test.
final class Buffers<Scalar: BinaryFloatingPoint> {
    let parameters: [Parameter<Scalar>]
    init(_ values: [[Scalar]], shapes: [[Int]]? = nil) {
        parameters = values.enumerated().map { i, v in
            let value = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: v.count)
            _ = value.initialize(from: v)
            let grad = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: v.count)
            grad.initialize(repeating: 0)
            return Parameter(name: "p\(i)", value: value, grad: grad, shape: shapes?[i])
        }
    }
    deinit { for p in parameters { p.value.deallocate(); p.grad.deallocate() } }

    /// Gradient of Σ 3·θ² + θ, so every parameter gets a different, state-dependent gradient.
    func computeGradients() {
        for p in parameters { for j in p.value.indices { p.grad[j] = 6 * p.value[j] + 1 } }
    }
    var values: [[Scalar]] { parameters.map { Array($0.value) } }

    /// One step of `optimizer` on Σ 3·θ² + θ: torch's step(closure) where the algorithm needs it.
    func step(_ optimizer: Optimizer<Scalar>) throws {
        if optimizer.needsClosure {
            try optimizer.step {
                computeGradients()
                return parameters.reduce(0.0) { $0 + $1.value.reduce(0.0) { $0 + 3 * Double($1) * Double($1) + Double($1) } }
            }
        } else {
            computeGradients()
            optimizer.step()
        }
    }
}

final class OptimizerTests: XCTestCase {
    static let specs = [
        "sgd(lr=0.01,momentum=0.9,weight_decay=0.1,schedule=step(step_size=3,gamma=0.5))",
        "nesterov(lr=0.01,maximize=true)",
        "adagrad(lr=0.1,lr_decay=0.01,initial_accumulator_value=0.1)",
        "rmsprop(lr=0.01,momentum=0.5,centered=true,weight_decay=0.01)",
        "adadelta(weight_decay=0.1)",
        "adam(lr=0.05,amsgrad=true,schedule=cosine(T_max=5,eta_min=0.001))",
        "adamw(lr=0.05,schedule=exponential(gamma=0.9))",
        "nadam(lr=0.05,weight_decay=0.1,decoupled_weight_decay=true)",
        "radam(lr=0.05,schedule=multistep(milestones=(2,4),gamma=0.5))",
        "adamax(lr=0.05,weight_decay=0.01)",
    ]

    /// Beyond the classic set, in double: their Python-float scalars (Prodigy's d, schedule-free's
    /// weight_sum, LBFGS's t) are saved in the parameters' dtype.
    static let modernSpecs = [
        "rprop(lr=0.05)", "asgd(lr=0.05,t0=2,weight_decay=0.1)", "adafactor(lr=0.05,weight_decay=0.1)",
        "muon(lr=0.05,rest=nadam(lr=0.01))", "lbfgs(lr=0.1,history_size=2)", "lbfgs(max_iter=3,line_search_fn=strong_wolfe)",
        "lion(lr=0.01,schedule=step(step_size=3,gamma=0.5))", "adamw_schedulefree(lr=0.05,warmup_steps=2)",
        "sgd_schedulefree(lr=0.01,weight_decay=0.1)", "prodigy(betas=(0,0.99))", "prodigy(weight_decay=0.1,use_bias_correction=true)",
        "sam(base=adam(lr=0.05))", "lookahead(k=3,base=sgd(lr=0.01,momentum=0.9))",
        "lookahead(base=sam(base=nadam(lr=0.1)),schedule=onecycle(max_lr=0.1,total_steps=8))",
    ]

    func testModernStateRoundTripResumesBitExactly() throws {
        for text in Self.modernSpecs {
            let spec = try OptimizerSpec.parse(text)
            let start: [[Double]] = [[0.5, -1.25, 2, 0.25], [0.75, 0.5], [-0.5]], shapes = [[2, 2], [1, 2], [1]]
            let straight = Buffers(start, shapes: shapes), resumed = Buffers(start, shapes: shapes)
            let a = try Optimizer(spec, parameters: straight.parameters)
            for _ in 0..<8 { try straight.step(a); try a.scheduleStep() }
            var b = try Optimizer(spec, parameters: resumed.parameters)
            for _ in 0..<4 { try resumed.step(b); try b.scheduleStep() }
            let saved = b.stateTensors()
            XCTAssertEqual(Set(saved.map(\.name)).count, saved.count, text)
            b = try Optimizer(spec, parameters: resumed.parameters)
            try b.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.values) }))
            for _ in 0..<4 { try resumed.step(b); try b.scheduleStep() }
            XCTAssertEqual(resumed.values, straight.values, text)
            XCTAssertNotEqual(straight.values, start, text)
        }
    }

    /// Muon steps the matrices but the classifier head (the last 2-D parameter) and hands the
    /// rest to rest=SPEC; the only matrix of a 2-D surface is Muon's.
    func testMuonPartitionsAMatricesAndTheRest() {
        XCTAssertEqual(MuonOptions.steps([[6, 3, 5, 5], [6], [16, 6, 5, 5], [16], [120, 400], [120], [10, 120], [10]]),
                       [true, false, true, false, true, false, false, false])
        XCTAssertEqual(MuonOptions.steps([[1, 2]]), [true])
    }

    /// Each with a total_steps of its own (per-parameter rates do not apply to them).
    static let oneCycleSpecs = [
        "sgd(lr=0.01,momentum=0.9,schedule=onecycle(max_lr=0.05,total_steps=8))",
        "nesterov(schedule=onecycle(max_lr=0.05,total_steps=9,anneal_strategy=linear,three_phase=true))",
        "rmsprop(schedule=onecycle(max_lr=0.01,total_steps=10))",
        "adam(schedule=onecycle(max_lr=0.05,total_steps=10,three_phase=true))",
        "nadam(schedule=onecycle(max_lr=0.05,total_steps=8,pct_start=0.5))",
        "radam(schedule=onecycle(max_lr=0.05,total_steps=8))",
        "adamax(schedule=onecycle(max_lr=0.05,epochs=2,steps_per_epoch=4))",
        "adadelta(schedule=onecycle(max_lr=1,total_steps=8,cycle_momentum=false))",
    ]

    /// Stepping 4 times, saving, loading into a fresh optimizer and stepping 4 more lands on
    /// exactly the same values as 8 uninterrupted steps, schedules (onecycle's momentum) included.
    func testStateRoundTripResumesBitExactly() throws {
        for text in Self.specs + Self.oneCycleSpecs {
            let spec = try OptimizerSpec.parse(text)
            let start: [[Float]] = [[0.5, -1.25, 2], [0.75]]
            let straight = Buffers(start), resumed = Buffers(start)
            let a = try Optimizer(spec, parameters: straight.parameters)
            for _ in 0..<8 { straight.computeGradients(); a.step(); try a.scheduleStep() }

            var b = try Optimizer(spec, parameters: resumed.parameters)
            for _ in 0..<4 { resumed.computeGradients(); b.step(); try b.scheduleStep() }
            let saved = b.stateTensors()
            XCTAssertEqual(Set(saved.map(\.name)).count, saved.count, text)
            b = try Optimizer(spec, parameters: resumed.parameters)
            try b.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.values) }))
            XCTAssertEqual(b.stepCount, 4, text)
            for _ in 0..<4 { resumed.computeGradients(); b.step(); try b.scheduleStep() }

            XCTAssertEqual(resumed.values, straight.values, text)
            XCTAssertEqual(b.learningRates, a.learningRates, text)
            XCTAssertEqual(b.momentum, a.momentum, text)
            XCTAssertNotEqual(straight.values, start, text)
        }
    }

    func testStateNamesFollowTorch() throws {
        let buffers = Buffers<Double>([[1, 2], [3]])
        let adam = try Optimizer(OptimizerSpec.parse("adam(amsgrad=true)"), parameters: buffers.parameters)
        let names = adam.stateTensors().map(\.name)
        XCTAssertEqual(names, ["state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
                               "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
                               "schedule.last_epoch"])
        XCTAssertEqual(adam.stateTensors()[1].shape, [2])
        let nadam = try Optimizer(OptimizerSpec.parse("nadam"), parameters: buffers.parameters)
        XCTAssertTrue(nadam.stateTensors().map(\.name).contains("state.1.mu_product"))
    }

    func testLoadStateErrorsNameTheTensor() throws {
        let buffers = Buffers<Double>([[1, 2]])
        let adam = try Optimizer(OptimizerSpec.parse("adam"), parameters: buffers.parameters)
        var state = Dictionary(uniqueKeysWithValues: adam.stateTensors().map { ($0.name, $0.values) })
        state["state.0.exp_avg"] = [1, 2, 3]
        XCTAssertThrowsError(try adam.loadState(state)) {
            XCTAssertEqual("\($0)", "optimizer state: 'state.0.exp_avg' has 3 values, expected 2")
        }
        state["state.0.exp_avg"] = nil
        XCTAssertThrowsError(try adam.loadState(state)) {
            XCTAssertEqual("\($0)", "optimizer state: missing tensor 'state.0.exp_avg'")
        }
        let sgd = try Optimizer(OptimizerSpec.parse("sgd"), parameters: buffers.parameters)
        XCTAssertThrowsError(try sgd.loadState(Dictionary(uniqueKeysWithValues: adam.stateTensors().map { ($0.name, $0.values) }))) {
            XCTAssertTrue("\($0)".contains("unexpected tensor 'state.0.exp_avg'"), "\($0)")
        }
    }

    func testMismatchedGradientIsAnError() throws {
        let value = UnsafeMutableBufferPointer<Double>.allocate(capacity: 2)
        let grad = UnsafeMutableBufferPointer<Double>.allocate(capacity: 1)
        defer { value.deallocate(); grad.deallocate() }
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd"), parameters: [Parameter(name: "w", value: value, grad: grad)])) {
            XCTAssertEqual("\($0)", "parameter 0 'w' has 2 values but 1 gradients")
        }
    }

    /// SGD's first momentum step copies the gradient (no dampening); later steps dampen.
    func testFirstMomentumStepIsUndampened() throws {
        let buffers = Buffers<Double>([[0]])
        let sgd = try Optimizer(OptimizerSpec.parse("sgd(lr=1,momentum=0.5,dampening=0.5)"), parameters: buffers.parameters)
        buffers.parameters[0].grad[0] = 1
        sgd.step()
        XCTAssertEqual(buffers.values, [[-1]])
        sgd.step()
        XCTAssertEqual(buffers.values, [[-2]])  // b = 0.5·1 + 0.5·1 = 1
    }

    /// torch's chainable schedules: step halves every step_size, cosine ends at eta_min.
    func testSchedules() throws {
        let buffers = Buffers<Double>([[0]])
        let step = try Optimizer(OptimizerSpec.parse("sgd(lr=1,schedule=step(step_size=2,gamma=0.5))"), parameters: buffers.parameters)
        var rates: [Double] = []
        for _ in 0..<5 { rates.append(step.learningRates[0]); try step.scheduleStep() }
        XCTAssertEqual(rates, [1, 1, 0.5, 0.5, 0.25])
        let cosine = try Optimizer(OptimizerSpec.parse("sgd(lr=1,schedule=cosine(T_max=4,eta_min=0.1))"), parameters: buffers.parameters)
        for _ in 0..<4 { try cosine.scheduleStep() }
        XCTAssertEqual(cosine.learningRates[0], 0.1, accuracy: 1e-15)
        let multi = try Optimizer(OptimizerSpec.parse("sgd(lr=1,schedule=multistep(milestones=(1,3,3)))"), parameters: buffers.parameters)
        rates = []
        for _ in 0..<4 { try multi.scheduleStep(); rates.append(multi.learningRates[0]) }
        XCTAssertEqual(rates[0], 0.1, accuracy: 1e-16)
        XCTAssertEqual(rates[2], 0.001, accuracy: 1e-17)
        XCTAssertEqual(rates[3], rates[2])
    }
}

extension OptimizerTests {
    func testNegativeLearningRateFromASweepIsAnError() throws {
        let buffers = Buffers<Double>([[0]])
        let spec = try OptimizerSpec.parse("adam").with(learningRate: -0.5)
        XCTAssertThrowsError(try Optimizer(spec, parameters: buffers.parameters)) {
            XCTAssertEqual("\($0)", "adam: lr=-0.5 must be ≥ 0")
        }
    }
}

extension OptimizerTests {
    /// maximize=true on gradient g steps exactly as the default does on −g, for every algorithm.
    func testMaximizeIsDescentOnTheNegatedGradient() throws {
        // Every algorithm with torch's maximize keyword (LBFGS negates its losses too: not this test).
        let withMaximize = OptimizerSpec.names.filter { (try? OptimizerSpec.parse("\($0)(maximize=true)")) != nil }
        XCTAssertEqual(withMaximize.count, 15)
        for name in withMaximize where name != "lbfgs" {
            let up = Buffers<Double>([[0.5, -1.5]]), down = Buffers<Double>([[0.5, -1.5]])
            let maximizing = try Optimizer(OptimizerSpec.parse("\(name)(maximize=true)"), parameters: up.parameters)
            let minimizing = try Optimizer(OptimizerSpec.parse(name), parameters: down.parameters)
            for _ in 0..<5 {
                up.computeGradients()
                down.computeGradients()
                for j in 0..<2 { down.parameters[0].grad[j] = -down.parameters[0].grad[j] }
                maximizing.step()
                minimizing.step()
            }
            XCTAssertEqual(up.values, down.values, name)
            XCTAssertNotEqual(up.values, [[0.5, -1.5]], name)
        }
    }
}

extension OptimizerTests {
    /// Parameters with learning rates of their own (a sweep's paths in one optimizer) step exactly
    /// as separate optimizers at those rates would, schedules included.
    func testPerParameterLearningRatesEqualSeparateOptimizers() throws {
        let rates = [0.3, 0.02, 0]
        for text in Self.specs {
            let spec = try OptimizerSpec.parse(text)
            let start: [[Double]] = [[0.5, -1.25], [2, 0.75], [1, -1]]
            let together = Buffers(start)
            let one = try Optimizer(spec, parameters: together.parameters, learningRates: rates)
            let apart = start.map { Buffers([$0]) }
            let separate = try zip(apart, rates).map { try Optimizer(spec.with(learningRate: $1), parameters: $0.parameters) }
            for _ in 0..<6 {
                together.computeGradients(); one.step(); try one.scheduleStep()
                for (b, o) in zip(apart, separate) { b.computeGradients(); o.step(); try o.scheduleStep() }
            }
            XCTAssertEqual(together.values, apart.map { $0.values[0] }, text)
            XCTAssertEqual(one.learningRates, separate.map { $0.learningRates[0] }, text)
            XCTAssertNotEqual(together.values[1], start[1], text)
        }
    }

    func testLearningRatesMustMatchTheParametersAndBeValid() throws {
        let buffers = Buffers<Double>([[0], [1]])
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd"), parameters: buffers.parameters, learningRates: [0.1])) {
            XCTAssertEqual("\($0)", "1 learning rates for 2 parameters")
        }
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd"), parameters: buffers.parameters, learningRates: [0.1, .nan])) {
            XCTAssertEqual("\($0)", "sgd: lr=nan must be ≥ 0")
        }
    }
}

extension OptimizerTests {
    /// OneCycleLR's curve: from max_lr/div_factor up to max_lr at step pct_start·T−1 while the
    /// momentum falls from max_momentum to base_momentum, then down to the minimum at step T−1.
    func testOneCycleCurve() throws {
        let buffers = Buffers<Double>([[0]])
        // SGD without momentum: onecycle sets it before the first step, so a buffer exists (as in torch).
        let sgd = try Optimizer(OptimizerSpec.parse("sgd(lr=7,schedule=onecycle(max_lr=1,total_steps=10,pct_start=0.5))"),
                                parameters: buffers.parameters)
        XCTAssertTrue(sgd.stateTensors().map(\.name).contains("state.0.momentum_buffer"))
        var rates: [Double] = [], momenta: [Double] = []
        for k in 0...10 {
            rates.append(sgd.learningRates[0])
            momenta.append(sgd.momentum!)
            if k < 10 { try sgd.scheduleStep() }
        }
        XCTAssertEqual(rates[0], 0.04, accuracy: 1e-15)       // max_lr / div_factor, not the spec's lr
        XCTAssertEqual(momenta[0], 0.95, accuracy: 1e-15)
        XCTAssertEqual(rates[4], 1)                           // the peak at step 0.5·10 − 1
        XCTAssertEqual(momenta[4], 0.85)
        XCTAssertEqual(rates[9], 4e-6, accuracy: 1e-18)       // max_lr / div_factor / final_div_factor at step T − 1
        XCTAssertEqual(momenta[9], 0.95, accuracy: 1e-15)
        XCTAssertTrue(zip(rates[0..<4], rates[1..<5]).allSatisfy { $0 < $1 }, "\(rates)")
        XCTAssertTrue(zip(rates[4..<9], rates[5..<10]).allSatisfy { $0 > $1 }, "\(rates)")
        XCTAssertTrue(zip(momenta[0..<4], momenta[1..<5]).allSatisfy { $0 > $1 }, "\(momenta)")

        // Stepping beyond total_steps is torch's error, and loading a state that claims it too.
        XCTAssertThrowsError(try sgd.scheduleStep()) {
            XCTAssertEqual("\($0)", "schedule onecycle: tried to step 11 times; total_steps is 10")
        }
        var state = Dictionary(uniqueKeysWithValues: sgd.stateTensors().map { ($0.name, $0.values) })
        state["schedule.last_epoch"] = [11]
        XCTAssertThrowsError(try sgd.loadState(state))
    }

    func testOneCycleNeedsATotalAndOneRate() throws {
        let buffers = Buffers<Double>([[0], [1]])
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("adam(schedule=onecycle(max_lr=1))"), parameters: buffers.parameters)) {
            XCTAssertTrue("\($0)".hasPrefix("schedule onecycle: missing total_steps=..."), "\($0)")
        }
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("adam(schedule=onecycle(max_lr=1,total_steps=5))"),
                                           parameters: buffers.parameters, learningRates: [0.1, 0.2])) {
            XCTAssertTrue("\($0)".contains("onecycle sets every learning rate from its max_lr"), "\($0)")
        }
    }
}

extension OptimizerTests {
    /// A parameter at multiplier 64 steps exactly as a separate optimizer whose every scheduled
    /// rate is 64 times as high (onecycle's max_lr, cyclic's base_lr and max_lr, a plain lr) and
    /// whose weight_decay is 64 times lower (AdamW's default one too); a state saved mid-run and
    /// loaded into a fresh grouped optimizer continues bit-exactly. 64 is a power of two, so the
    /// products are exact and the comparisons can ask for equal bits.
    func testLearningRateMultipliersComposeWithSchedulesAndResume() throws {
        let cases = [
            ("nesterov(lr=0.01,weight_decay=0.5,schedule=onecycle(max_lr=0.05,total_steps=8))",
             "nesterov(lr=0.01,weight_decay=0.0078125,schedule=onecycle(max_lr=3.2,total_steps=8))"),
            ("sgd(lr=0.05,momentum=0.9,weight_decay=0.5,schedule=cyclic(base_lr=0.01,max_lr=0.05,step_size_up=2))",
             "sgd(lr=0.05,momentum=0.9,weight_decay=0.0078125,schedule=cyclic(base_lr=0.64,max_lr=3.2,step_size_up=2))"),
            ("adamw(lr=0.05,schedule=cosine(T_max=5))", "adamw(lr=3.2,weight_decay=0.00015625,schedule=cosine(T_max=5))"),
            ("lookahead(k=3,base=sgd(lr=0.01,momentum=0.9,weight_decay=0.5),schedule=onecycle(max_lr=0.1,total_steps=8))",
             "lookahead(k=3,base=sgd(lr=0.01,momentum=0.9,weight_decay=0.0078125),schedule=onecycle(max_lr=6.4,total_steps=8))"),
        ]
        let start: [[Float]] = [[0.5, -1.25], [2, 0.75], [1, -1]], multipliers = [1.0, 64, 1]
        for (text, scaled) in cases {
            let spec = try OptimizerSpec.parse(text)
            let straight = Buffers(start), resumed = Buffers(start)
            let grouped = try Optimizer(spec, parameters: straight.parameters, multipliers: multipliers)
            let plain = Buffers([start[0], start[2]]), fast = Buffers([start[1]])
            let plainOptimizer = try Optimizer(spec, parameters: plain.parameters)
            let fastOptimizer = try Optimizer(OptimizerSpec.parse(scaled), parameters: fast.parameters)
            var partial = try Optimizer(spec, parameters: resumed.parameters, multipliers: multipliers)
            for step in 0..<8 {
                for (buffers, optimizer) in [(straight, grouped), (plain, plainOptimizer), (fast, fastOptimizer), (resumed, partial)] {
                    buffers.computeGradients()
                    optimizer.step()
                    try optimizer.scheduleStep()
                }
                if step == 3 {
                    let saved = partial.stateTensors()
                    partial = try Optimizer(spec, parameters: resumed.parameters, multipliers: multipliers)
                    try partial.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.values) }))
                }
            }
            XCTAssertEqual(straight.values, [plain.values[0], fast.values[0], plain.values[1]], text)
            XCTAssertEqual(resumed.values, straight.values, text)
            XCTAssertEqual(grouped.learningRates, partial.learningRates, text)
            XCTAssertNotEqual(straight.values[1], start[1], text)
        }
    }

    func testMultipliersMustBePositiveAndStepOnTheirOwn() throws {
        let buffers = Buffers<Double>([[0], [1]])
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd"), parameters: buffers.parameters, multipliers: [1, 0])) {
            XCTAssertEqual("\($0)", "learning-rate multiplier 0 must be > 0")
        }
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd"), parameters: buffers.parameters, multipliers: [1])) {
            XCTAssertEqual("\($0)", "1 learning-rate multipliers for 2 parameters")
        }
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sam(base=sgd)"), parameters: buffers.parameters, multipliers: [1, 2])) {
            XCTAssertTrue("\($0)".hasPrefix("sam evaluates the loss for all parameters at once"), "\($0)")
        }
    }
}
