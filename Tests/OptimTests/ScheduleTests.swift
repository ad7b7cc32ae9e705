import XCTest
@testable import Optim

final class ScheduleTests: XCTestCase {
    /// One spec per new schedule and composite, each advancing once per optimizer step here.
    static let specs = [
        "sgd(lr=0.1,momentum=0.9,schedule=linear(start_factor=0.2,total_iters=3))",
        "adam(lr=0.05,schedule=constant(factor=0.5,total_iters=3))",
        "rmsprop(lr=0.01,schedule=polynomial(total_iters=6,power=2))",
        "sgd(lr=0.05,schedule=cyclic(base_lr=0.01,max_lr=0.1,step_size_up=2,mode=triangular2))",
        "adam(schedule=cyclic(base_lr=0.01,max_lr=0.05,step_size_up=3,mode=exp_range,gamma=0.9))",
        "nadam(lr=0.05,schedule=cosine_warm_restarts(T_0=2,T_mult=2,eta_min=0.001))",
        "sgd(lr=0.1,momentum=0.9,schedule=sequential(schedulers=(linear(start_factor=0.1,total_iters=3),cosine(T_max=5)),milestones=(3)))",
        "adamw(lr=0.05,schedule=chained(schedulers=(constant(factor=0.5,total_iters=2),exponential(gamma=0.9))))",
        "sgd(lr=0.1,momentum=0.9,schedule=sequential(schedulers=(linear(start_factor=0.1,total_iters=3),onecycle(max_lr=0.2,total_steps=6)),milestones=(2)))",
        "adam(schedule=chained(schedulers=(cyclic(base_lr=0.01,max_lr=0.05,step_size_up=2),sequential(schedulers=(constant(factor=0.5,total_iters=2),exponential(gamma=0.9)),milestones=(3)))))",
    ]

    /// Bad specs: one line naming the part and, where there is a choice, the valid ones.
    func testErrorsNameThePartAndTheChoices() {
        let cases: [(String, [String])] = [
            ("sgd(schedule=plateau(mode=lowest))", ["schedule plateau: mode=lowest must be one of min, max"]),
            ("sgd(schedule=plateau(threshold_mode=relative))", ["threshold_mode=relative must be one of rel, abs"]),
            ("sgd(schedule=plateau(factor=1))", ["schedule plateau: factor=1 must be < 1"]),
            ("sgd(schedule=plateau(patience=-1))", ["patience=-1 must be a whole number ≥ 0"]),
            ("sgd(schedule=sequential(schedulers=(linear,cosine(T_max=5)),milestones=(3,6)))",
             ["schedule sequential: 2 schedulers need 1 milestone", "got 2"]),
            ("sgd(schedule=sequential(schedulers=(linear,cosine(T_max=5),exponential(gamma=0.9)),milestones=(3)))",
             ["schedule sequential: 3 schedulers need 2 milestones", "got 1"]),
            ("sgd(schedule=sequential(schedulers=(linear,cosine(T_max=5))))", ["schedule sequential: missing milestones"]),
            ("sgd(schedule=sequential(milestones=(3)))", ["schedule sequential: missing schedulers=(...)", "linear(total_iters=5)"]),
            ("sgd(schedule=sequential(schedulers=(linear,linear,linear),milestones=(6,3)))", ["milestones=6,3 must not decrease"]),
            ("sgd(schedule=sequential(schedulers=(linear,plateau),milestones=(3)))",
             ["schedule sequential: plateau cannot be one of its schedulers", "valid: step, exponential, cosine, multistep, onecycle, linear"]),
            ("sgd(schedule=sequential(schedulers=(linear,chained(schedulers=(linear))),milestones=(3)))",
             ["schedule sequential: chained can only be its first scheduler", "_update_lr(0)"]),
            ("sgd(momentum=0.9,schedule=chained(schedulers=(linear,onecycle(max_lr=1))))", ["schedule chained: onecycle inside it needs total_steps="]),
            ("adagrad(schedule=chained(schedulers=(linear,cyclic(base_lr=0.01,max_lr=0.1))))", ["adagrad: schedule chained cycles the momentum"]),
            ("sgd(schedule=chained(schedulers=(linear,2)))", ["schedulers=(linear,2) must be calls like"]),
            ("sgd(schedule=cyclic(base_lr=0.01))", ["schedule cyclic: missing max_lr"]),
            ("sgd(schedule=cyclic(max_lr=0.1))", ["schedule cyclic: missing base_lr"]),
            ("sgd(schedule=cyclic(base_lr=0.01,max_lr=0.1,mode=sawtooth))", ["mode=sawtooth must be one of triangular, triangular2, exp_range"]),
            ("sgd(schedule=cyclic(base_lr=0.01,max_lr=0.1,step_size_up=0))", ["step_size_up=0 must be a whole number ≥ 1"]),
            ("adagrad(schedule=cyclic(base_lr=0.01,max_lr=0.1))", ["adagrad: schedule cyclic cycles the momentum", "cycle_momentum=false"]),
            ("adam(schedule=cyclic(base_lr=0.01,max_lr=0.1,max_momentum=1))", ["schedule cyclic: max_momentum=1 must be in [0, 1)"]),
            ("sgd(schedule=linear(start_factor=0))", ["schedule linear: start_factor=0 must be in (0, 1]"]),
            ("sgd(schedule=linear(end_factor=1.5))", ["end_factor=1.5 must be in [0, 1]"]),
            ("sgd(schedule=constant(factor=1.5))", ["schedule constant: factor=1.5 must be in [0, 1]"]),
            ("sgd(schedule=polynomial(total_iters=0))", ["total_iters=0 must be a whole number ≥ 1"]),
            ("sgd(schedule=cosine_warm_restarts)", ["schedule cosine_warm_restarts: missing T_0"]),
            ("sgd(schedule=cosine_warm_restarts(T_0=10,T_mult=0))", ["T_mult=0 must be a whole number ≥ 1"]),
            ("sgd(schedule=cosine_warm_restarts(T_0=1.5))", ["T_0=1.5 must be a whole number ≥ 1"]),
            ("sgd(schedule=linear(total_iter=3))", ["schedule linear: unknown key 'total_iter'", "start_factor, end_factor, total_iters"]),
        ]
        assertOneLineErrors(cases)
    }

    /// Composites print canonically and parse back to the same spec.
    func testCompositesRoundTrip() throws {
        for text in Self.specs + ["sgd(schedule=plateau(mode=max,cooldown=2))"] {
            let spec = try OptimizerSpec.parse(text)
            XCTAssertEqual(try OptimizerSpec.parse(spec.description), spec, text)
        }
        let warmup = try OptimizerSpec.parse("sgd(schedule=sequential(schedulers=(linear, cosine(T_max=95)), milestones=5))")
        XCTAssertEqual(warmup.description, "sgd(schedule=sequential(schedulers=(linear,cosine(T_max=95)),milestones=5))")
    }

    /// Where each advances on a network, and which cannot take rates per parameter.
    func testWhereSchedulesStep() throws {
        func schedule(_ text: String) throws -> ScheduleSpec { try OptimizerSpec.parse(text).schedule! }
        XCTAssertTrue(try schedule("sgd(schedule=cyclic(base_lr=0.01,max_lr=0.1))").advancesEveryStep)
        XCTAssertFalse(try schedule(Self.specs[6]).advancesEveryStep)
        XCTAssertTrue(try schedule(Self.specs[8]).advancesEveryStep)  // holds a onecycle
        XCTAssertTrue(try schedule("sgd(schedule=plateau)").needsLoss)
        XCTAssertFalse(try schedule(Self.specs[7]).needsLoss)
        let buffers = Buffers<Double>([[0], [1]])
        XCTAssertThrowsError(try Optimizer(OptimizerSpec.parse("sgd(schedule=cyclic(base_lr=0.01,max_lr=0.1))"),
                                           parameters: buffers.parameters, learningRates: [0.1, 0.2])) {
            XCTAssertTrue("\($0)".contains("cyclic sets every learning rate from its base_lr and max_lr"), "\($0)")
        }
        // The same rate for every parameter is no sweep: the schedule sets it (bench optim's sweep of onecycle).
        let same = try Optimizer(OptimizerSpec.parse("sgd(schedule=cyclic(base_lr=0.01,max_lr=0.1))"),
                                 parameters: buffers.parameters, learningRates: [0.3, 0.3])
        XCTAssertEqual(same.learningRates, [0.01, 0.01])
        let plateau = try Optimizer(OptimizerSpec.parse("sgd(schedule=plateau)"), parameters: buffers.parameters)
        XCTAssertThrowsError(try plateau.scheduleStep()) { XCTAssertEqual("\($0)", "schedule plateau: needs the loss at every step") }
    }

    /// Saving after 4 steps and resuming in a fresh optimizer lands exactly where 8 straight steps
    /// do: replayed from the step count, or for plateau (which depends on the losses it saw)
    /// restored from its saved state.
    func testResumeIsBitExact() throws {
        let plateau = "adam(lr=0.2,schedule=plateau(patience=1,factor=0.5,cooldown=1,threshold=0.5))"
        for text in Self.specs + [plateau] {
            let spec = try OptimizerSpec.parse(text)
            let start: [[Float]] = [[0.5, -1.25, 2], [0.75]]
            let straight = Buffers(start), resumed = Buffers(start)
            // A loss that plateaus after the second step, so plateau reduces and cools down.
            func loss(_ step: Int) -> Double { step < 2 ? 1.0 / Double(step + 1) : 0.5 }
            let a = try Optimizer(spec, parameters: straight.parameters)
            var rates: Set<Double> = []
            for k in 0..<8 {
                straight.computeGradients(); a.step(); try a.scheduleStep(loss: loss(k))
                rates.insert(a.learningRates[0])
            }
            XCTAssertGreaterThan(rates.count, 1, text)

            var b = try Optimizer(spec, parameters: resumed.parameters)
            for k in 0..<4 { resumed.computeGradients(); b.step(); try b.scheduleStep(loss: loss(k)) }
            let tensors = Dictionary(uniqueKeysWithValues: b.stateTensors().map { ($0.name, $0.values) })
            let schedule = Dictionary(uniqueKeysWithValues: b.scheduleState.map { ($0.name, $0.values) })
            XCTAssertEqual(schedule.isEmpty, text != plateau, text)
            b = try Optimizer(spec, parameters: resumed.parameters)
            try b.loadState(tensors, scheduleState: schedule)
            for k in 4..<8 { resumed.computeGradients(); b.step(); try b.scheduleStep(loss: loss(k)) }

            XCTAssertEqual(resumed.values, straight.values, text)
            XCTAssertEqual(b.learningRates, a.learningRates, text)
            XCTAssertEqual(b.momentum, a.momentum, text)
        }
    }

    /// plateau's state must come back whole; other schedules keep none.
    func testScheduleStateIsChecked() throws {
        let buffers = Buffers<Double>([[0]])
        let plateau = try Optimizer(OptimizerSpec.parse("sgd(schedule=plateau)"), parameters: buffers.parameters)
        let tensors = Dictionary(uniqueKeysWithValues: plateau.stateTensors().map { ($0.name, $0.values) })
        var state = Dictionary(uniqueKeysWithValues: plateau.scheduleState.map { ($0.name, $0.values) })
        XCTAssertEqual(state["best"], [.infinity])
        state["num_bad_epochs"] = nil
        XCTAssertThrowsError(try plateau.loadState(tensors, scheduleState: state)) {
            XCTAssertTrue("\($0)".contains("'num_bad_epochs'"), "\($0)")
        }
        let step = try Optimizer(OptimizerSpec.parse("sgd(schedule=step(step_size=2))"), parameters: buffers.parameters)
        XCTAssertThrowsError(try step.loadState(tensors, scheduleState: ["best": [1]])) {
            XCTAssertTrue("\($0)".contains("unexpected schedule state 'best'"), "\($0)")
        }
    }
}
