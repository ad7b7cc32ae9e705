import XCTest
@testable import Optim

final class SpecTests: XCTestCase {
    func testBareNameTakesDefaultsAndPresetsResolve() throws {
        let adam = try OptimizerSpec.parse("adam")
        XCTAssertEqual(adam.name, "adam")
        XCTAssertEqual(adam.label, "adam")
        XCTAssertFalse(adam.hasExplicitLearningRate)
        guard let o = adam.options as? AdamOptions else { return XCTFail() }
        XCTAssertEqual(o.lr, 1e-3)
        XCTAssertEqual(o.beta1, 0.9)
        XCTAssertEqual(o.beta2, 0.999)
        XCTAssertEqual(o.eps, 1e-8)
        XCTAssertEqual(o.weightDecay, 0)

        let nesterov = try OptimizerSpec.parse("nesterov(lr=0.02)")
        XCTAssertEqual(nesterov.name, "sgd")
        XCTAssertEqual(nesterov.label, "nesterov(lr=0.02)")
        guard let s = nesterov.options as? SGDOptions else { return XCTFail() }
        XCTAssertEqual(s.momentum, 0.9)
        XCTAssertTrue(s.nesterov)
        XCTAssertEqual(s.lr, 0.02)

        guard let w = try OptimizerSpec.parse("adamw").options as? AdamOptions else { return XCTFail() }
        XCTAssertEqual(w.weightDecay, 0.01)
        XCTAssertTrue(w.decoupledWeightDecay)
    }

    func testTorchDefaults() throws {
        func lr(_ text: String) throws -> Double { try OptimizerSpec.parse(text).options.lr }
        XCTAssertEqual(try lr("sgd"), 1e-3)
        XCTAssertEqual(try lr("adagrad"), 1e-2)
        XCTAssertEqual(try lr("rmsprop"), 1e-2)
        XCTAssertEqual(try lr("adadelta"), 1.0)
        XCTAssertEqual(try lr("nadam"), 2e-3)
        XCTAssertEqual(try lr("radam"), 1e-3)
        XCTAssertEqual(try lr("adamax"), 2e-3)
        guard let n = try OptimizerSpec.parse("nadam").options as? NAdamOptions else { return XCTFail() }
        XCTAssertEqual(n.momentumDecay, 4e-3)
        guard let a = try OptimizerSpec.parse("adagrad").options as? AdagradOptions else { return XCTFail() }
        XCTAssertEqual(a.eps, 1e-10)
        guard let d = try OptimizerSpec.parse("adadelta").options as? AdadeltaOptions else { return XCTFail() }
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
        XCTAssertEqual(m.options.lr, 0.01)
        let a = try OptimizerSpec.parse("adam(betas=(0.8,0.9),lr=0.5)").with(learningRate: 0.25)
        XCTAssertEqual(a.label, "adam(betas=(0.8,0.9),lr=0.25)")
        XCTAssertEqual(try OptimizerSpec.parse("adam(label=x)").with(learningRate: 2).label, "x")
    }

    /// Every error is one line naming the offending part and, where there is a choice, the valid ones.
    func testErrorsNameTheProblem() {
        let cases: [(String, [String])] = [
            ("adamm(lr=0.1)", ["unknown optimizer 'adamm'", "sgd, adagrad", "momentum, nesterov"]),
            ("adam(beta=0.9)", ["adam: unknown key 'beta'", "valid keys: lr, betas, eps"]),
            ("adam(lr=abc)", ["adam: lr=abc is not a number"]),
            ("adam(lr=0.1e)", ["column 9", "lr=0.1e"]),
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
            ("sgd(momentum=0.9,schedule=onecycle(total_steps=10))", ["schedule onecycle: missing max_lr"]),
            ("sgd(momentum=0.9,schedule=onecycle(max_lr=0.1,pct_start=1.5))", ["pct_start=1.5 must be in [0, 1]"]),
            ("sgd(schedule=onecycle(max_lr=0.1,anneal_strategy=cubic))", ["anneal_strategy=cubic must be one of cos, linear"]),
            ("sgd(schedule=onecycle(max_lr=0.1,epochs=3))", ["give total_steps, or both epochs and steps_per_epoch"]),
            ("sgd(schedule=onecycle(max_lr=0.1,total_steps=0))", ["total_steps=0 must be a whole number ≥ 1"]),
            ("sgd(schedule=onecycle(max_lr=0.1,div_factor=0))", ["div_factor=0 must be > 0"]),
            ("sgd(schedule=onecycle(max_lr=0.1,total_steps=10,pct_start=1))", ["phase 2 has length 0", "step 10"]),
            ("sgd(schedule=onecycle(max_lr=0.1,total_steps=10,pct_start=0.1))", ["phase 1 has length 0", "step 0"]),
            ("adagrad(schedule=onecycle(max_lr=0.1))", ["adagrad: schedule onecycle cycles the momentum", "cycle_momentum=false"]),
            ("adam(schedule=onecycle(max_lr=0.1,max_momentum=1))", ["max_momentum=1 must be in [0, 1)", "beta1"]),
            ("sgd(schedule=onecycle(max_lr=0.1,base_momentum=0))", ["base_momentum=0 must be > 0"]),
            ("sgd(lr=" + String(repeating: "(", count: 10_000), ["nested deeper than 50 levels"]),
            ("sam(rho=0.1)", ["sam: missing base=SPEC", "valid: sgd, adagrad"]),
            ("lookahead(k=5)", ["lookahead: missing base=SPEC"]),
            ("sam(base=adamm)", ["unknown optimizer 'adamm'"]),
            ("sam(base=adam(beta=0.9))", ["adam: unknown key 'beta'"]),
            ("sam(base=lbfgs)", ["base of sam must take one gradient"]),
            ("lookahead(base=adam(schedule=step(step_size=2)))", ["give schedule= to lookahead"]),
            ("lookahead(k=0,base=sgd)", ["k=0 must be a whole number ≥ 1"]),
            ("lookahead(alpha=1.5,base=sgd)", ["alpha=1.5 must be in [0, 1]"]),
            ("sam(rho=-1,base=sgd)", ["sam: rho=-1 must be ≥ 0"]),
            ("lion(lr=0)", ["lion: lr=0 must be > 0"]),
            ("lion(betas=(0.9,1.5))", ["betas[1]=1.5 must be in [0, 1]"]),
            ("rprop(etas=(1.5,1.2))", ["0 < etas[0] < 1 < etas[1]"]),
            ("asgd(lambd=-1)", ["asgd: lambd=-1 must be ≥ 0"]),
            ("adafactor(beta2_decay=0.5)", ["beta2_decay=0.5 must be ≤ 0"]),
            ("adafactor(d=0.5)", ["d=0.5 must be ≥ 1"]),
            ("adafactor(eps=(none,none))", ["needs a number at position 1"]),
            ("muon(adjust_lr_fn=cubic)", ["adjust_lr_fn=cubic must be one of original, match_rms_adamw, spectral_unclamped"]),
            ("muon(ns_steps=100)", ["ns_steps=100 must be less than 100"]),
            ("muon(ns_coefficients=(1,2))", ["must be a tuple of 3 numbers"]),
            ("muon(rest=lbfgs)", ["rest=lbfgs must be a plain optimizer"]),
            ("lbfgs(line_search_fn=armijo)", ["line_search_fn=armijo must be one of none, strong_wolfe"]),
            ("lbfgs(history_size=0)", ["history_size=0 must be a whole number ≥ 1"]),
            ("sgd_schedulefree(momentum=1)", ["momentum=1 must be between 0 and 1 exclusive"]),
            ("adamw_schedulefree(warmup_steps=-1)", ["warmup_steps=-1 must be a whole number ≥ 0"]),
            ("prodigy(d0=0)", ["prodigy: d0=0 must be > 0"]),
            ("prodigy(lr=0)", ["prodigy: lr=0 must be > 0"]),
            ("prodigy(growth_rate=fast)", ["growth_rate=fast is not a number, inf or none"]),
        ]
        assertOneLineErrors(cases)
    }
}

extension XCTestCase {
    /// Each spec list fails to parse with one line that contains every fragment.
    func assertOneLineErrors(_ cases: [(spec: String, fragments: [String])]) {
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

extension SpecTests {
    /// A wrapper's learning rate is its base's: a sweep sets it inside base=, and the text parses back.
    func testWrapperLearningRateLivesInItsBase() throws {
        let sam = try OptimizerSpec.parse("sam(rho=0.1,base=lookahead(k=3,base=sgd(lr=0.1,momentum=0.9)))")
        XCTAssertEqual(sam.learningRate, 0.1)
        let faster = sam.with(learningRate: 0.5)
        XCTAssertEqual(faster.learningRate, 0.5)
        XCTAssertEqual(faster.description, "sam(rho=0.1,base=lookahead(k=3,base=sgd(lr=0.5,momentum=0.9)))")
        XCTAssertEqual(faster.label, faster.description)
        XCTAssertEqual(try OptimizerSpec.parse(faster.description).description, faster.description)
        XCTAssertFalse(sam.batchesPaths)
        XCTAssertTrue(try OptimizerSpec.parse("lookahead(base=adam)").batchesPaths)
        XCTAssertFalse(try OptimizerSpec.parse("adamw_schedulefree").batchesPaths)
    }

    /// onecycle specs print canonically and parse back; total_steps is filled in only where missing.
    func testOneCycleRoundTripsAndFillsTotalSteps() throws {
        let spec = try OptimizerSpec.parse("nesterov(lr=0.2, schedule=onecycle(max_lr=0.2, anneal_strategy='linear', three_phase=true))")
        XCTAssertEqual(spec.description, "sgd(momentum=0.9,nesterov=true,lr=0.2,schedule=onecycle(max_lr=0.2,anneal_strategy=linear,three_phase=true))")
        XCTAssertEqual(try OptimizerSpec.parse(spec.description).description, spec.description)
        XCTAssertTrue(spec.schedule?.advancesEveryStep == true)
        XCTAssertNil(spec.schedule?.totalSteps)

        let filled = try spec.fillingTotalSteps(196)
        XCTAssertEqual(filled.description, "sgd(momentum=0.9,nesterov=true,lr=0.2,schedule=onecycle(max_lr=0.2,total_steps=196,anneal_strategy=linear,three_phase=true))")
        XCTAssertEqual(filled.label, spec.label)
        XCTAssertEqual(try OptimizerSpec.parse(filled.description).schedule?.totalSteps, 196)
        XCTAssertEqual(try filled.fillingTotalSteps(50).description, filled.description)
        XCTAssertEqual(try OptimizerSpec.parse("sgd(momentum=0.9,schedule=onecycle(max_lr=1,epochs=2,steps_per_epoch=5))").schedule?.totalSteps, 10)
        XCTAssertThrowsError(try OptimizerSpec.parse("sgd(schedule=onecycle(max_lr=1,pct_start=1))").fillingTotalSteps(20)) {
            XCTAssertTrue("\($0)".contains("phase 2 has length 0"), "\($0)")
        }
        // cycle_momentum=false needs no momentum; other schedules stay per-epoch.
        XCTAssertNoThrow(try OptimizerSpec.parse("adadelta(schedule=onecycle(max_lr=1,cycle_momentum=false))"))
        XCTAssertFalse(try OptimizerSpec.parse("sgd(schedule=step(step_size=2))").schedule!.advancesEveryStep)
    }

    /// What a form offers: every name's keywords as the registry reads them, with the value a
    /// bare spec gets and torch's range; every schedule's example is a spec that parses.
    func testKeywordsAndScheduleExamplesComeFromTheRegistry() throws {
        for name in OptimizerSpec.names {
            let keywords = try XCTUnwrap(OptimizerSpec.keywords(of: name), name)
            XCTAssertFalse(keywords.isEmpty, name)
            XCTAssertEqual(Set(keywords.map(\.key)).count, keywords.count, "\(name): a key twice")
            let example = try XCTUnwrap(OptimizerSpec.example(of: name))
            XCTAssertEqual(try OptimizerSpec.parse(example).name, OptimizerSpec.presets[name] == nil ? name : "sgd")
        }
        XCTAssertNil(OptimizerSpec.keywords(of: "adamm"))
        let adam = try XCTUnwrap(OptimizerSpec.keywords(of: "adamw"))
        XCTAssertEqual(adam.map(\.key).prefix(4), ["lr", "betas", "eps", "weight_decay"])
        XCTAssertEqual(adam[0].value, "0.001")
        XCTAssertEqual(adam[1], SpecKeyword(key: "betas", kind: .pair, value: "(0.9,0.999)", minimum: 0, minimumIncluded: true, maximum: 1))
        XCTAssertEqual(adam[3].value, "0.01", "AdamW's own default")
        // A preset's values are what it sets; a wrapper's keywords are its own.
        XCTAssertEqual(OptimizerSpec.keywords(of: "nesterov")?.first { $0.key == "nesterov" }?.value, "true")
        XCTAssertEqual(OptimizerSpec.keywords(of: "momentum")?.first { $0.key == "momentum" }?.value, "0.9")
        XCTAssertEqual(OptimizerSpec.keywords(of: "sam")?.map(\.key), ["rho", "adaptive", "base"])
        let lookahead = try XCTUnwrap(OptimizerSpec.keywords(of: "lookahead"))
        XCTAssertEqual(lookahead.first { $0.key == "alpha" }?.maximumIncluded, true)
        XCTAssertEqual(lookahead.first { $0.key == "k" }.map { [$0.minimum, $0.value.flatMap(Double.init)] }, [1, 5])

        XCTAssertEqual(ScheduleSpec.catalog.map(\.name), ScheduleSpec.names)
        for schedule in ScheduleSpec.catalog {
            let spec = try OptimizerSpec.parse("sgd(lr=0.1,schedule=\(schedule.example))")
            XCTAssertEqual(spec.schedule?.name, schedule.name)
        }
    }
}
