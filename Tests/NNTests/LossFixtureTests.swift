import Foundation
import XCTest
@testable import NN

/// Cross-entropy with label smoothing against torch's `nn.CrossEntropyLoss(label_smoothing=ε)`
/// (Tests/Fixtures/make_label_smoothing.py): loss and gradient on float32 logits.
final class LossFixtureTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Case: Decodable {
            let shape: [Int], labels: [Int], label_smoothing: Float
            let logits: [Float], gradient: [Float]
            let loss: Float
        }
        let cases: [Case]
    }

    func testLabelSmoothingMatchesTorch() throws {
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: referenceFile("label-smoothing.json")))
        XCTAssertEqual(fixture.cases.count, 12)
        for c in fixture.cases {
            let loss = CrossEntropyLoss(labelSmoothing: c.label_smoothing)
            let value = try loss(Tensor(shape: c.shape, values: c.logits), c.labels)
            let what = "shape \(c.shape), label_smoothing \(c.label_smoothing)"
            XCTAssertEqual(value, c.loss, accuracy: 2e-6 * max(1, abs(c.loss)), what)
            assertClose(loss.gradient.values, c.gradient, tolerance: 1e-6, what)
        }
    }
}
