import Foundation
import XCTest
@testable import NN

/// Forward, loss, gradients and the BatchNorm running update against what PyTorch computed for the
/// same weights and batch (fixtures written by PyTorch in train mode).
final class ParityTests: XCTestCase {
    func checkParity(model: String, fixture: String, network make: (() throws -> Network)? = nil) throws {
        let file = try SafeTensors(contentsOf: referenceFile(fixture))
        let network = try make?() ?? Models.make(model)
        try network.load(file)
        let input = try file.tensor("input")
        let labels = try file.int64s("labels").map { Int($0) }
        let loss = CrossEntropyLoss()

        let logits = try network.forward(input, training: true)
        assertClose(logits.values, try file.floats("expected.logits"), tolerance: 1e-4, "\(model) logits")
        let value = try loss(logits, labels)
        assertClose([value], try file.floats("expected.loss"), tolerance: 1e-4, "\(model) loss")

        network.backward(loss.gradient)
        XCTAssertFalse(network.parameters.isEmpty)
        for parameter in network.parameters {
            assertClose(Array(parameter.grad), try file.floats("expected.grad.\(parameter.name)"),
                        tolerance: 1e-3, "\(model) grad \(parameter.name)")
        }

        let eval = try network.forward(input, training: false)
        assertClose(eval.values, try file.floats("expected.eval_logits_after_one_train_forward"),
                    tolerance: 1e-4, "\(model) eval logits")
    }

    func testTutorialNetMatchesPyTorch() throws { try checkParity(model: "tutorial", fixture: "tutorial-net.safetensors") }
    func testVGGSmallMatchesPyTorch() throws { try checkParity(model: "vgg-small", fixture: "vgg-small.safetensors") }
    /// GELU, batch norms with a frozen γ and ε = 1e-12, max-pool 3 and the logit scale.
    func testAirbench94MatchesPyTorch() throws {
        try checkParity(model: "airbench narrow", fixture: "airbench-narrow.safetensors") {
            Network(airbench(widths: (8, 16, 16)), name: "airbench-narrow")
        }
        let network = try Models.make("airbench94")
        XCTAssertFalse(network.parameters.contains { $0.name.hasSuffix("norm1.weight") }, "γ is frozen, not a parameter")
        XCTAssertTrue(network.stateShapes.contains { $0.name == "block1.norm1.weight" }, "γ is still in the state dict")
    }

    /// Gradients are written, not accumulated: a second identical step gives identical gradients.
    func testBackwardOverwritesGradients() throws {
        let file = try SafeTensors(contentsOf: referenceFile("tutorial-net.safetensors"))
        let network = try Models.make("tutorial")
        try network.load(file)
        let input = try file.tensor("input"), labels = try file.int64s("labels").map { Int($0) }
        let loss = CrossEntropyLoss()
        var first: [[Float]] = []
        for step in 0..<2 {
            _ = try loss(network.forward(input, training: true), labels)
            network.backward(loss.gradient)
            let grads = network.parameters.map { Array($0.grad) }
            if step == 0 { first = grads } else { XCTAssertEqual(grads, first) }
        }
    }
}

