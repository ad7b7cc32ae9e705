import Foundation
import Optim
import XCTest
@testable import NN

/// A network without BatchNorm or Dropout splits a batch into one slice per thread, each run on its
/// own replica; the result must be the whole batch's, up to float rounding, and repeatable.
final class BatchSplitTests: XCTestCase {
    override func setUp() {
        saved = Threads.count
        Threads.set(2)
    }

    override func tearDown() { Threads.set(saved) }

    private var saved = 1

    private func batch(_ images: Int, seed: UInt64) -> (input: Tensor, labels: [Int]) {
        var random = Random(seed: seed)
        let input = Tensor(shape: [images, 3, 32, 32], values: (0..<(images * 3 * 32 * 32)).map { _ in random.uniform(-1, 1) })
        return (input, (0..<images).map { ($0 * 7) % 10 })
    }

    /// Logits, loss, every gradient and evaluation logits of one training step.
    private func step(_ network: Network, _ input: Tensor, _ labels: [Int]) throws -> (logits: [Float], loss: Float, grads: [[Float]], eval: [Float]) {
        let loss = CrossEntropyLoss()
        let logits = try network.forward(input, training: true).values
        let value = try loss(Tensor(shape: [labels.count, 10], values: logits), labels)
        network.backward(loss.gradient)
        return (logits, value, network.parameters.map { Array($0.grad) }, try network.forward(input, training: false).values)
    }

    private func checkSplitMatchesWhole(images: Int, slices: Int,
                                        model: () throws -> Network = { try Models.make("tutorial", seed: 4) }) throws {
        let (input, labels) = batch(images, seed: 5)
        let split = try model(), whole = try model()
        whole.splitsBatches = false
        let a = try step(split, input, labels)
        XCTAssertEqual(split.lastSlices, slices, "batch \(images) runs in \(slices) slices")
        let b = try step(whole, input, labels)
        XCTAssertEqual(whole.lastSlices, 1)
        assertClose(a.logits, b.logits, tolerance: 1e-5, "logits at batch \(images)")
        assertClose([a.loss], [b.loss], tolerance: 1e-5, "loss at batch \(images)")
        for (parameter, (ga, gb)) in zip(split.parameters, zip(a.grads, b.grads)) {
            assertClose(ga, gb, tolerance: 1e-5, "\(parameter.name) gradient at batch \(images)")
        }
        assertClose(a.eval, b.eval, tolerance: 1e-5, "evaluation logits at batch \(images)")
    }

    func testSplitBatchMatchesWholeBatch() throws { try checkSplitMatchesWhole(images: 64, slices: 2) }

    /// Replicas running Winograd's convolutions at once, each with its own scratch.
    func testSplitBatchWithWinogradConvolutions() throws {
        try checkSplitMatchesWhole(images: 32, slices: 2) {
            let winograd = Conv2d(16, 16, kernel: 3, padding: 1)
            winograd.algorithm = .winograd(KernelISA.current)
            return Network(Sequential([Conv2d(3, 16, kernel: 3, padding: 1), ReLU(), winograd, ReLU(), MaxPool2d(4),
                                       Flatten(), Linear(16 * 8 * 8, 10)]), name: "winograd-split", seed: 4)
        }
    }

    /// An odd batch over 2 threads: slices of m and m + 1 rows.
    func testOddBatchSplitsUnevenly() throws {
        try checkSplitMatchesWhole(images: 2 * Network.minimumSliceImages + 1, slices: 2)
    }

    /// Too few images per slice: the batch runs whole.
    func testSmallBatchRunsWhole() throws {
        try checkSplitMatchesWhole(images: 2 * Network.minimumSliceImages - 1, slices: 1)
    }

    /// At 512 images a slice's conv1 (90 M multiply-adds) would get both threads on its own
    /// (`Threads.count(forMultiplyAdds:)`); inside a replica it must be made for and run on one.
    func testLargeSlicesRunSingleThreadedKernels() throws {
        XCTAssertEqual(Threads.count(forMultiplyAdds: 256 * 6 * 28 * 28 * 75), 2)
        try checkSplitMatchesWhole(images: 512, slices: 2)
    }

    /// Same seed and thread count: bit-identical losses and weights over a few split SGD steps.
    func testSplitTrainingIsDeterministic() throws {
        func run() throws -> (losses: [Float], weights: [[Float]]) {
            let network = try Models.make("tutorial", seed: 9)
            let optimizer = try Optimizer<Float>(OptimizerSpec.parse("sgd(lr=0.05,momentum=0.9)"), parameters: network.parameters)
            let (input, labels) = batch(33, seed: 6)
            let loss = CrossEntropyLoss()
            var losses: [Float] = []
            for _ in 0..<4 {
                losses.append(try loss(network.forward(input, training: true), labels))
                XCTAssertEqual(network.lastSlices, 2)
                network.backward(loss.gradient)
                optimizer.step()
            }
            return (losses, network.parameters.map { Array($0.value) })
        }
        let first = try run(), second = try run()
        XCTAssertEqual(first.losses, second.losses)
        XCTAssertEqual(first.weights, second.weights)
        XCTAssertLessThan(first.losses[3], first.losses[0], "training lowers the loss on a fixed batch")
    }

    /// BatchNorm mixes a batch's images and Dropout draws from one generator: never split.
    func testNetworksWithBatchNormOrDropoutRunWhole() throws {
        for model in ["vgg-small", "resnet18"] {
            XCTAssertFalse(try Models.make(model).splitsBatches, model)
        }
        let dropout = Network(Sequential([Flatten(), Linear(3 * 32 * 32, 10), Dropout(0.5)]), name: "dropout")
        XCTAssertFalse(dropout.splitsBatches)
        let plain = Network(Sequential([Conv2d(3, 4, kernel: 3), ReLU(), AvgPool2d(2), Flatten(), Linear(4 * 15 * 15, 10)]), name: "plain")
        XCTAssertTrue(plain.splitsBatches)

        let vgg = try Models.make("vgg-small")
        _ = try vgg.forward(batch(4 * Network.minimumSliceImages, seed: 1).input, training: true)
        XCTAssertEqual(vgg.lastSlices, 1)
    }
}
