import Foundation
import Optim
import XCTest
@testable import NN

/// One optimizer step on the tutorial net lands where PyTorch's SGD would put the weights.
final class OptimizerStepTests: XCTestCase {
    func testOneSGDStepMatchesTorchFormula() throws {
        let file = try SafeTensors(contentsOf: referenceFile("tutorial-net.safetensors"))
        let network = try Models.make("tutorial")
        try network.load(file)
        let loss = CrossEntropyLoss()
        _ = try loss(network.forward(try file.tensor("input"), training: true), try file.int64s("labels").map { Int($0) })
        network.backward(loss.gradient)
        let before = network.parameters.map { Array($0.value) }

        let (lr, momentum, decay): (Float, Float, Float) = (0.1, 0.9, 0.01)
        let optimizer = try Optimizer<Float>(OptimizerSpec.parse("sgd(lr=\(lr),momentum=\(momentum),weight_decay=\(decay))"),
                                             parameters: network.parameters)
        optimizer.step()
        // torch.optim.SGD, first step: d = g + λw; the momentum buffer starts as d; w ← w − lr·d.
        for (parameter, w0) in zip(network.parameters, before) {
            let g = try file.floats("expected.grad.\(parameter.name)")
            let expected = zip(w0, g).map { w, g in w - lr * (g + decay * w) }
            assertClose(Array(parameter.value), expected, tolerance: 1e-6, "SGD step \(parameter.name)")
        }
    }

    /// Same seed and thread count: bit-identical losses over a few steps.
    func testTrainingIsDeterministic() throws {
        func losses() throws -> [Float] {
            let network = try Models.make("vgg-small", seed: 7)
            let optimizer = try Optimizer<Float>(OptimizerSpec.parse("sgd(lr=0.01,momentum=0.9)"), parameters: network.parameters)
            var random = Random(seed: 1)
            let input = Tensor(shape: [4, 3, 32, 32], values: (0..<(4 * 3 * 32 * 32)).map { _ in random.uniform(-1, 1) })
            let labels = [1, 5, 9, 0], loss = CrossEntropyLoss(labelSmoothing: 0.1)
            var out: [Float] = []
            for _ in 0..<3 {
                out.append(try loss(network.forward(input, training: true), labels))
                network.backward(loss.gradient)
                optimizer.step()
            }
            return out
        }
        let first = try losses()
        XCTAssertEqual(first, try losses())
        XCTAssertLessThan(first[1], first[0], "training lowers the loss on a fixed batch")
    }

    /// At batch 160 the tutorial net's conv1 is big enough for every thread while the other layers
    /// run on one (`Threads.count(forMultiplyAdds:)`); the gradients must match an all-one-thread pass.
    func testMixedThreadCountsGiveTheSameGradients() throws {
        func gradients(threads: Int) throws -> [[Float]] {
            let saved = Threads.count
            defer { Threads.set(saved) }
            Threads.set(threads)
            if threads == 2 {
                XCTAssertEqual(Threads.count(forMultiplyAdds: 160 * 6 * 28 * 28 * 75), 2, "conv1")
                XCTAssertEqual(Threads.count(forMultiplyAdds: 160 * 16 * 10 * 10 * 150), 1, "conv2")
            }
            let network = try Models.make("tutorial", seed: 3)
            network.splitsBatches = false  // whole batches, so conv1 runs on both threads
            var random = Random(seed: 2)
            let input = Tensor(shape: [160, 3, 32, 32], values: (0..<(160 * 3 * 32 * 32)).map { _ in random.uniform(-1, 1) })
            let loss = CrossEntropyLoss()
            _ = try loss(network.forward(input, training: true), (0..<160).map { $0 % 10 })
            network.backward(loss.gradient)
            return network.parameters.map { Array($0.grad) }
        }
        for (mixed, single) in zip(try gradients(threads: 2), try gradients(threads: 1)) {
            assertClose(mixed, single, tolerance: 1e-5, "gradient with mixed thread counts")
        }
    }
}
