import Data
import Foundation
import NN
import XCTest
@testable import CIFARLab
import Support

/// Training, checkpoints and evaluation on small slices of the real CIFAR-10.
final class TrainingTests: XCTestCase {
    private static let splits: Result<(train: Dataset, test: Dataset), Error> = Result {
        // The shared copy of the real data, found as `optlab` finds it (a failure, never a skip, when absent).
        let folder = try DataLocation.find(option: nil).folder
        return (try CIFAR10.load(.train, from: folder), try CIFAR10.load(.test, from: folder).prefix(500))
    }

    private func plan(_ model: String = "tutorial", optimizer: String = "sgd(lr=0.01,momentum=0.9)", epochs: Int = 1,
                      subset: Int = 2_000, augment: Bool = false) -> TrainingPlan {
        TrainingPlan(model: model, optimizer: optimizer, epochs: epochs, batchSize: 32, seed: 3, trainSubset: subset,
                     augment: augment, normalization: .tutorial)
    }

    private func trainer(_ plan: TrainingPlan, testImages: Int = 500) throws -> Trainer {
        let (train, test) = try Self.splits.get()
        return try Trainer(plan, train: train, test: test.prefix(testImages))
    }

    private func temporaryFile(_ name: String) -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-train-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder.appendingPathComponent(name)
    }

    private func weights(_ network: Network) -> [[Float]] { network.parameters.map { Array($0.value) } }

    func testOneEpochOnTwoThousandImagesLowersTheLoss() throws {
        let trainer = try trainer(plan(optimizer: "adam(lr=0.002)"))
        // The loss on the training images themselves, in eval mode, before and after one epoch.
        let seen = DataLoader(trainer.trainLoader.dataset, batchSize: 250, transforms: [.tutorialNormalization])
        let before = try Trainer.evaluate(trainer.network, on: seen).loss
        guard case .finished(let metrics) = try trainer.trainEpoch() else { return XCTFail("interrupted") }
        let after = try Trainer.evaluate(trainer.network, on: seen).loss
        XCTAssertEqual(metrics.epoch, 1)
        XCTAssertEqual(before, log(10), accuracy: 0.05, "an untrained net is near chance")
        XCTAssertLessThan(after, before - 0.05)
        XCTAssert(metrics.trainLoss.isFinite && (0...1).contains(metrics.testAccuracy ?? -1))
    }

    func testSaveThenLoadGivesIdenticalLogits() throws {
        let trainer = try trainer(plan(subset: 320))
        _ = try trainer.trainEpoch()
        let url = temporaryFile("net.safetensors")
        try Checkpoint.save(trainer, to: url)
        let loaded = try Checkpoint.network(url)
        let batch = Trainer.testLoader(try XCTUnwrap(trainer.testLoader).dataset, trainer.normalization).batch(0, epoch: 0, order: Array(0..<500))
        let input = Tensor(shape: batch.images.shape, values: batch.images.pixels)
        let expected = try trainer.network.forward(input, training: false).values
        XCTAssertEqual(try loaded.network.forward(input, training: false).values, expected)
        XCTAssertEqual(loaded.normalization, trainer.normalization)
        XCTAssertEqual(loaded.plan, trainer.plan)
    }

    func testResumeEqualsAnUninterruptedRun() throws {
        // Adam (moment buffers), batch norm (running statistics), a schedule and augmentation:
        // everything a resume must restore; onecycle and cyclic advance (lr and momentum) after
        // every batch; plateau after each epoch's evaluation, from state that is no function of
        // its step count (it halves the rate at epoch 2 only if it remembers epoch 1's loss).
        // Kept tiny: batch norm is slow in debug builds (the other runs take the tutorial net).
        // The fifth run adds airbench's frozen whitening layer and a ×64 rate for biases; the last is
        // airbench94's whole recipe (reflected translation, alternating flips, test-time augmentation)
        // with its lookahead, in batches of 8 so that the average has moved before the resume.
        let plateau = "sgd(lr=0.05,momentum=0.9,schedule=plateau(patience=0,factor=0.5,threshold=0.9))"
        let onecycle = "nesterov(lr=0.2,weight_decay=5e-4,schedule=onecycle(max_lr=0.01))"
        let runs = [("vgg-small", "adam(lr=0.001,schedule=step(step_size=1,gamma=0.5))", 2, false),
                    ("tutorial", onecycle, 6, false),
                    ("tutorial", "sgd(lr=0.05,schedule=cyclic(base_lr=0.001,max_lr=0.02,step_size_up=2))", 6, false),
                    ("tutorial", plateau, 2, false), ("tutorial", onecycle, 6, true), ("airbench94", "", 12, false)]
        for (model, spec, scheduleSteps, airbench) in runs {
            var plan = spec.isEmpty ? try TrainingPlan.recipe(model: model, epochs: 2, seed: 3, trainSubset: 48)
                                    : plan(model, optimizer: spec, epochs: 2, subset: 48, augment: true)
            plan.batchSize = 16
            if model == "airbench94" { (plan.batchSize, plan.emaLookahead, plan.batchNormMomentum) = (8, true, 0.4) }
            if airbench { (plan.patchWhitening, plan.learningRateMultipliers) = (true, ["bias": 64]) }
            let straight = try trainer(plan, testImages: 20)
            if model == "airbench94" { XCTAssertEqual(straight.trainLoader.transforms.first, .randomTranslate(pixels: 2)) }
            XCTAssertEqual(try straight.run(checkpoint: nil) { _ in }, .finished)
            let state = Dictionary(uniqueKeysWithValues: straight.optimizer.stateTensors().map { ($0.name, $0.values) })
            XCTAssertEqual(state["schedule.last_epoch"], [Float(scheduleSteps)], spec)
            if spec == plateau { XCTAssertEqual(Set(straight.optimizer.learningRates), [0.025]) }

            // Interrupted after 2 steps of epoch 1, resumed; then stopped after epoch 1, resumed again.
            let url = temporaryFile("run.safetensors")
            let first = try trainer(plan, testImages: 20)
            let cancellation = Cancellation()
            guard case .interrupted = try first.trainEpoch(progress: CancelAfter(steps: 2, cancellation), cancellation: cancellation)
            else { return XCTFail("expected the interruption") }
            try Checkpoint.save(first, to: url)
            let (train, test) = try Self.splits.get()
            let second = try Checkpoint.resume(url, train: train, test: test.prefix(20))
            guard case .finished = try second.trainEpoch() else { return XCTFail("interrupted") }
            try Checkpoint.save(second, to: url)
            let third = try Checkpoint.resume(url, train: train, test: test.prefix(20))
            XCTAssertEqual(try third.run(checkpoint: url) { _ in }, .finished)

            XCTAssertEqual(weights(third.network), weights(straight.network), spec)
            XCTAssertEqual(third.history.map(\.trainLoss), straight.history.map(\.trainLoss), spec)
            XCTAssertEqual(third.history.map(\.testAccuracy), straight.history.map(\.testAccuracy), spec)
            XCTAssertEqual(third.optimizer.stateTensors().map(\.values), straight.optimizer.stateTensors().map(\.values), spec)
            XCTAssertEqual(third.optimizer.learningRates, straight.optimizer.learningRates, spec)
            XCTAssertEqual(third.optimizer.momentum, straight.optimizer.momentum, spec)
            XCTAssertEqual(third.plan, straight.plan, spec)
            if airbench {
                // The whitened first convolution stayed as computed: not a parameter, never stepped.
                let fresh = try trainer(plan, testImages: 20)
                XCTAssertFalse(straight.network.parameters.contains { $0.name == "conv1.weight" })
                var saved = SafeTensors(), initial = SafeTensors()
                straight.network.save(into: &saved)
                fresh.network.save(into: &initial)
                XCTAssertEqual(try saved.floats("conv1.weight", shape: [6, 3, 5, 5]), try initial.floats("conv1.weight", shape: [6, 3, 5, 5]))
                XCTAssertNotEqual(try saved.floats("conv1.bias", shape: [6]), try initial.floats("conv1.bias", shape: [6]))
            }
        }
    }

    /// A validation split is held out of the whole training split before the subset, reported
    /// every epoch, never trained on, and comes back whole from a checkpoint.
    func testValidationSplitIsHeldOutReportedAndSaved() throws {
        var plan = plan(subset: 300)
        plan.validation = try ValidationSplit(count: 200)
        let trainer = try trainer(plan, testImages: 20)
        let (train, _) = try Self.splits.get()
        let held = try ValidationSplit(count: 200).indices(in: train)
        let expectedTrain = train.subset((0..<train.count).filter { !Set(held).contains($0) }).prefix(300)
        XCTAssertEqual(trainer.trainLoader.dataset.labels, expectedTrain.labels)
        XCTAssertEqual(trainer.trainLoader.dataset.images, expectedTrain.images, "no held-out image is trained on")
        XCTAssertEqual(trainer.validationLoader?.dataset.classCounts, [Int](repeating: 20, count: 10))

        let url = temporaryFile("run.safetensors")
        XCTAssertEqual(try trainer.run(checkpoint: url) { _ in }, .finished)
        let metrics = try XCTUnwrap(trainer.history.last)
        let direct = try Trainer.evaluate(trainer.network, on: XCTUnwrap(trainer.validationLoader))
        XCTAssertEqual(metrics.validationAccuracy, direct.report.accuracy)
        XCTAssertEqual(metrics.validationLoss, direct.loss)
        XCTAssertEqual(try Checkpoint.resume(url, train: train, test: Self.splits.get().test.prefix(20)).plan.validation, plan.validation)
    }

    /// With test-time augmentation planned, the last epoch's evaluation scores the weighted mean
    /// of the views' logits, earlier epochs the plain logits; plans saved before the option
    /// existed read as without it.
    func testTestTimeAugmentationAveragesTheViewsInTheLastEpoch() throws {
        var plan = plan(epochs: 2, subset: 64)
        plan.testTimeAugmentation = true
        let trainer = try trainer(plan, testImages: 20)
        guard case .finished(let first) = try trainer.trainEpoch() else { return XCTFail("interrupted") }
        XCTAssertEqual(first.testLoss, try Trainer.evaluate(trainer.network, on: XCTUnwrap(trainer.testLoader)).loss)
        guard case .finished(let last) = try trainer.trainEpoch() else { return XCTFail("interrupted") }
        let plain = try Trainer.evaluate(trainer.network, on: XCTUnwrap(trainer.testLoader))

        let batch = try XCTUnwrap(trainer.testLoader).batch(0, epoch: 0, order: Array(0..<20))
        var mean = [Float](repeating: 0, count: 20 * 10)
        for view in TestTimeAugmentation.views {
            let images = TestTimeAugmentation.apply(view, to: batch.images)
            let logits = try trainer.network.forward(Tensor(shape: images.shape, values: images.pixels), training: false).values
            for i in mean.indices { mean[i] += view.weight * logits[i] }
        }
        let expected = try CrossEntropyLoss()(Tensor(shape: [20, 10], values: mean), batch.labels)
        XCTAssertEqual(try XCTUnwrap(last.testLoss), Double(expected), accuracy: 1e-6)
        XCTAssertNotEqual(try XCTUnwrap(last.testLoss), plain.loss, accuracy: 1e-4)

        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(plan)) as! [String: Any]
        old["testTimeAugmentation"] = nil
        old["alternatingFlips"] = nil
        for key in ["patchWhitening", "learningRateMultipliers", "batchNormMomentum"] { old[key] = nil }
        let decoded = try JSONDecoder().decode(TrainingPlan.self, from: JSONSerialization.data(withJSONObject: old))
        XCTAssertFalse(decoded.testTimeAugmentation || decoded.alternatingFlips || decoded.patchWhitening)
        XCTAssertEqual(decoded.learningRateMultipliers, [:])
        XCTAssertNil(decoded.batchNormMomentum)
        XCTAssertEqual(try JSONDecoder().decode(TrainingPlan.self, from: JSONEncoder().encode(plan)), plan)
    }

    /// plateau steps after each epoch with the validation loss, or the training loss without a
    /// validation split (never the test loss): after one step its best loss is that loss.
    func testPlateauReadsTheValidationLoss() throws {
        for validation in [nil, try ValidationSplit(count: 100)] {
            var plan = plan(optimizer: "sgd(lr=0.01,schedule=plateau)", subset: 64)
            plan.validation = validation
            let trainer = try trainer(plan, testImages: 20)
            guard case .finished(let metrics) = try trainer.trainEpoch() else { return XCTFail("interrupted") }
            let best = trainer.optimizer.scheduleState.first { $0.name == "best" }?.values
            XCTAssertEqual(best, [metrics.validationLoss ?? metrics.trainLoss])
            XCTAssertNotEqual(best, [try XCTUnwrap(metrics.testLoss)])
        }
    }

    /// Evaluating every 2nd epoch of 3 reads the validation and test sets after epochs 2 and 3 only
    /// and trains the same bits; plateau with a validation split, which steps on every epoch's
    /// validation loss, refuses it, as does an interval below 1.
    func testEvaluationIntervalSkipsEvaluationsOnly() throws {
        var plan = plan(optimizer: "sgd(lr=0.01,momentum=0.9,schedule=step(step_size=1,gamma=0.5))", epochs: 3, subset: 96)
        plan.validation = try ValidationSplit(count: 100)
        let (every, second) = (try trainer(plan, testImages: 40), try trainer(plan, testImages: 40))
        try second.evaluate(every: 2)
        for _ in 0..<3 {
            _ = try every.trainEpoch()
            _ = try second.trainEpoch()
        }
        XCTAssertEqual(second.history.map { $0.testAccuracy != nil }, [false, true, true])
        XCTAssertEqual(second.history.map { $0.validationLoss != nil }, [false, true, true])
        XCTAssertEqual(second.history.map(\.trainLoss), every.history.map(\.trainLoss))
        XCTAssertEqual(second.history.last?.testAccuracy, every.history.last?.testAccuracy)
        XCTAssertEqual(weights(second.network), weights(every.network))
        XCTAssertThrowsError(try every.evaluate(every: 0))
        plan.optimizer = "sgd(lr=0.01,schedule=plateau)"
        let plateau = try trainer(plan, testImages: 20)
        XCTAssertThrowsError(try plateau.evaluate(every: 2)) { XCTAssert("\($0)".contains("plateau"), "\($0)") }
        XCTAssertNoThrow(try plateau.evaluate(every: 1))
        plan.validation = nil
        XCTAssertNoThrow(try trainer(plan, testImages: 20).evaluate(every: 2), "plateau without a split steps on the training loss")
    }

    /// onecycle's total_steps is the run's epochs × batches unless given; the plan (and so the
    /// checkpoint) names it, and a run longer than a given total is refused before it starts.
    func testOneCycleSpansTheRun() throws {
        var plan = plan(optimizer: "nesterov(lr=0.2,schedule=onecycle(max_lr=0.05))", epochs: 2, subset: 100)
        plan.batchSize = 32  // 4 batches, the last one partial
        let trainer = try trainer(plan, testImages: 20)
        XCTAssertEqual(trainer.plan.optimizer, "sgd(momentum=0.9,nesterov=true,lr=0.2,schedule=onecycle(max_lr=0.05,total_steps=8))")
        XCTAssertEqual(trainer.optimizer.learningRates[0], 0.05 / 25, accuracy: 1e-12)

        plan.optimizer = "nesterov(lr=0.2,schedule=onecycle(max_lr=0.05,total_steps=7))"
        XCTAssertThrowsError(try self.trainer(plan, testImages: 20)) {
            XCTAssertEqual("\($0)", "schedule onecycle: total_steps=7 is shorter than the run's 2 epochs × 4 batches = 8 steps")
        }
    }

    func testNonFiniteLossStopsTheRun() throws {
        let trainer = try trainer(plan(optimizer: "sgd(lr=1e6)", subset: 640))
        XCTAssertThrowsError(try trainer.trainEpoch()) { error in
            guard case TrainingError.diverged(let epoch, let batch, let loss)? = error as? TrainingError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(epoch, 1)
            XCTAssertGreaterThan(batch, 1)
            XCTAssertFalse(loss.isFinite)
            XCTAssert("\(error)".contains("diverged (too high a learning rate?)"))
        }
    }

    func testCheckpointErrorsAreClear() throws {
        let trainer = try trainer(plan(subset: 64))
        let url = temporaryFile("net.safetensors")
        try Checkpoint.save(trainer, to: url)
        XCTAssertThrowsError(try Checkpoint.network(url, model: "vgg-small")) {
            XCTAssertEqual("\($0)", "\(url.path) is a checkpoint of model tutorial, not vgg-small")
        }
        let bytes = try Foundation.Data(contentsOf: url)
        let truncated = temporaryFile("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        XCTAssertThrowsError(try Checkpoint.network(truncated)) { XCTAssert("\($0)".contains("truncated"), "\($0)") }

        let file = try SafeTensors(contentsOf: url)
        var partial = SafeTensors()
        partial.metadata = file.metadata
        for name in file.names where name != "fc2.bias" { partial.set(name, floats: try file.floats(name), shape: file.entries[name]!.shape) }
        let missing = temporaryFile("missing.safetensors")
        try partial.write(to: missing)
        XCTAssertThrowsError(try Checkpoint.network(missing)) { XCTAssert("\($0)".contains("missing tensor fc2.bias"), "\($0)") }

        // A plain state_dict (no optlab metadata) loads when the model is named, and only then.
        var plain = try SafeTensors(contentsOf: url)
        plain.metadata = [:]
        let stateDict = temporaryFile("state_dict.safetensors")
        try plain.write(to: stateDict)
        XCTAssertThrowsError(try Checkpoint.network(stateDict)) {
            XCTAssertEqual("\($0)", "\(stateDict.path) has no optlab metadata: say which model it holds with --model")
        }
        XCTAssertNoThrow(try Checkpoint.network(stateDict, model: "tutorial"))
    }

    func testEvaluationReportCountsAndJSON() throws {
        let report = EvaluationReport(classNames: ["a", "b", "c"], predictions: [0, 1, 1, 2, 0], labels: [0, 1, 2, 2, 2])
        XCTAssertEqual(report.confusion, [[1, 0, 0], [0, 1, 0], [1, 1, 1]])
        XCTAssertEqual(report.accuracy, 0.6)
        XCTAssertEqual(report.perClass, [1, 1, 1.0 / 3])
        let json = try JSONSerialization.jsonObject(with: Foundation.Data(try report.json().utf8)) as! [String: Any]
        XCTAssertEqual(json["images"] as? Int, 5)
        XCTAssertEqual(json["accuracy"] as? Double, 0.6)
        XCTAssertEqual(json["confusion"] as? [[Int]], [[1, 0, 0], [0, 1, 0], [1, 1, 1]])
        XCTAssertEqual((json["per_class"] as? [String: Double])?["b"], 1)
    }

    func testLearningRateMultipliersParseAndAreChecked() throws {
        XCTAssertEqual(try TrainingPlan.multipliers(parsing: "norm-bias=64, bias=2"), ["norm-bias": 64, "bias": 2])
        XCTAssertEqual(try TrainingPlan.multipliers(parsing: "none"), [:])
        for (text, message) in [("norm-bias", "'norm-bias' is not KIND=NUMBER, e.g. norm-bias=64"),
                                ("bias=2,bias=3", "bias is given twice"), ("head=2", "unknown kind of parameter 'head'; valid: weight, bias, norm-weight, norm-bias"),
                                ("bias=0", "bias=0.0 must be > 0")] {
            XCTAssertThrowsError(try TrainingPlan.multipliers(parsing: text), text) { XCTAssertTrue("\($0)".hasSuffix(message), "\($0)") }
        }
    }

    func testBareOptimizerNamesGetTheModelsLearningRate() throws {
        XCTAssertEqual(try TrainingPlan.recipe(model: "tutorial", optimizer: "sgd").optimizer, "sgd(lr=0.01)")
        XCTAssertEqual(try TrainingPlan.recipe(model: "tutorial", optimizer: "adam(lr=0.1)").optimizer, "adam(lr=0.1)")
        XCTAssertThrowsError(try TrainingPlan.recipe(model: "nonet")) {
            XCTAssert("\($0)".hasPrefix("unknown model nonet (known: "), "\($0)")
        }
    }
}

/// Requests the cancellation once `steps` training steps have reported, as Ctrl-C would then.
final class CancelAfter: ProgressObserver, @unchecked Sendable {  // used from the training thread only
    private var remaining: Int
    private let cancellation: Cancellation

    init(steps: Int, _ cancellation: Cancellation) {
        remaining = steps
        self.cancellation = cancellation
    }

    func advance(by count: Int) {
        remaining -= 1
        if remaining == 0 { cancellation.request() }
    }

    func finish() {}
}

/// The optimizers beyond the classic set on a real network: each lowers the tutorial net's loss,
/// and a run resumed from a checkpoint equals an uninterrupted one (SAM and LBFGS evaluate the
/// batch again; schedule-free evaluates and saves x, with labnet's batch-norm statistics recomputed).
final class ModernOptimizerTrainingTests: XCTestCase {
    static let specs = [
        "rprop(lr=0.001)", "asgd(lr=0.2)", "adafactor(lr=0.02)", "muon(lr=0.02)",
        "lbfgs(lr=0.5,max_iter=3,history_size=10,line_search_fn=strong_wolfe)", "lion(lr=0.001)",
        "adamw_schedulefree(lr=0.003)", "sgd_schedulefree(lr=1.5)", "prodigy(d0=1e-4)", "sam(base=adam(lr=0.003))",
        "lookahead(base=adam(lr=0.002))",
    ]

    private static let splits: Result<(train: Dataset, test: Dataset), Error> = Result {
        let folder = try DataLocation.find(option: nil).folder
        return (try CIFAR10.load(.train, from: folder), try CIFAR10.load(.test, from: folder).prefix(20))
    }

    private func trainer(_ model: String, _ spec: String, subset: Int, batchSize: Int, epochs: Int = 1) throws -> Trainer {
        let (train, test) = try Self.splits.get()
        let plan = TrainingPlan(model: model, optimizer: spec, epochs: epochs, batchSize: batchSize, seed: 3, trainSubset: subset,
                                augment: false, normalization: .tutorial)
        return try Trainer(plan, train: train, test: test)
    }

    func testEveryNewOptimizerLowersTheTutorialNetsLoss() throws {
        for spec in Self.specs {
            let trainer = try trainer("tutorial", spec, subset: 640, batchSize: 32)
            let seen = DataLoader(trainer.trainLoader.dataset, batchSize: 320, transforms: [.tutorialNormalization])
            let before = try Trainer.evaluate(trainer.network, on: seen).loss
            guard case .finished = try trainer.trainEpoch() else { return XCTFail("interrupted") }
            let after = try trainer.withEvaluationWeights { try Trainer.evaluate(trainer.network, on: seen).loss }
            print("tutorial \(spec): loss \(before) → \(after)")
            XCTAssertLessThan(after, before - 0.01, spec)
        }
    }

    func testResumeEqualsAnUninterruptedRun() throws {
        let (train, test) = try Self.splits.get()
        for (model, spec) in Self.specs.map({ ("tutorial", $0) }) + [("labnet", "adamw_schedulefree(lr=0.003)")] {
            let straight = try trainer(model, spec, subset: 48, batchSize: 16, epochs: 2)
            XCTAssertEqual(try straight.run(checkpoint: nil) { _ in }, .finished)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-modern-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            let first = try trainer(model, spec, subset: 48, batchSize: 16, epochs: 2)
            guard case .finished = try first.trainEpoch() else { return XCTFail("interrupted") }
            try Checkpoint.save(first, to: url)
            let second = try Checkpoint.resume(url, train: train, test: test)
            XCTAssertEqual(try second.run(checkpoint: nil) { _ in }, .finished)
            let same = second.network.parameters.map { Array($0.value) } == straight.network.parameters.map { Array($0.value) }
            XCTAssertTrue(same, "\(model) \(spec): resumed weights differ")
            XCTAssertEqual(second.history.map(\.testAccuracy), straight.history.map(\.testAccuracy), "\(model) \(spec)")
        }
    }
}
