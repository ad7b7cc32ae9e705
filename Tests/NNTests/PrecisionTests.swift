import XCTest
@testable import NN

/// bf16 convolutions and linear layers (float32 accumulation, float32 around them) against the
/// same network in float32: within bfloat16's rounding (8 bits of mantissa), and not equal.
final class PrecisionTests: XCTestCase {
    func network(_ precision: Precision) -> Network {
        Precision.current = precision
        defer { Precision.current = .fp32 }
        return Network(Sequential([Conv2d(3, 16, kernel: 3, padding: 1, bias: false), BatchNorm2d(16), ReLU(),
                                   Conv2d(16, 32, kernel: 3, padding: 1), ReLU(), MaxPool2d(2),
                                   Flatten(), Linear(32 * 4 * 4, 10)]), name: "precision", seed: 3)
    }

    func testBF16MatchesFP32WithinBF16Rounding() throws {
        if let reason = Precision.bf16.unsupportedReason { throw XCTSkip(reason) }
        let (low, full) = (network(.bf16), network(.fp32))
        XCTAssertEqual(low.parameters.map { Array($0.value) }, full.parameters.map { Array($0.value) })
        var random = Random(seed: 11)
        let x = Tensor(shape: [8, 3, 8, 8], values: (0..<8 * 3 * 64).map { _ in random.uniform(-1, 1) })
        let labels = (0..<8).map { $0 % 10 }
        let (lossLow, lossFull) = (CrossEntropyLoss(), CrossEntropyLoss())
        let logitsLow = Array(try low.forward(x, training: true).storage)
        let logitsFull = Array(try full.forward(x, training: true).storage)
        XCTAssertNotEqual(logitsLow, logitsFull, "bf16 layers computed in float32")
        XCTAssertLessThan(relativeError(logitsLow, logitsFull), 2e-2)
        _ = try lossLow(low.forward(x, training: true), labels)
        _ = try lossFull(full.forward(x, training: true), labels)
        low.backward(lossLow.gradient)
        full.backward(lossFull.gradient)
        // Gradients of the convolution in front of the batch norm carry its cancellation (measured
        // 5.8 % at worst here, PyTorch's autocast alike); a float32 layer would give ~1e-6.
        for (a, b) in zip(low.parameters, full.parameters) {
            XCTAssertLessThan(relativeError(Array(a.grad), Array(b.grad)), 0.1, a.name)
        }
        XCTAssertLessThan(relativeError(Array(try low.forward(x, training: false).storage),
                                        Array(try full.forward(x, training: false).storage)), 2e-2, "evaluation")
    }

    func testBF16LayersRunDirect() {
        Precision.current = .bf16
        defer { Precision.current = .fp32 }
        XCTAssertEqual(Conv2d(16, 32, kernel: 3, padding: 1).algorithm, .direct)
    }
}
