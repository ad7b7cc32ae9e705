import XCTest
@testable import NN

/// Every layer's backward pass against central finite differences on tiny shapes. The loss is
/// L = Σ y·R for a fixed random R, so backward starts from dL/dy = R. Layers without parameters are
/// checked through the gradient of a convolution placed in front of them.
final class GradientCheckTests: XCTestCase {
    func check(_ layers: [Module], input shape: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        let network = Network(Sequential(layers), name: "check", seed: 5)
        var random = Random(seed: 11)
        for parameter in network.parameters {  // generic values, not the tidy initial ones (BN's 1 and 0)
            for i in parameter.value.indices { parameter.value[i] = random.uniform(-1, 1) }
        }
        let x = Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in random.uniform(-1, 1) })
        let y = try network.forward(x, training: true)
        let r = Tensor(shape: y.shape, values: (0..<y.count).map { _ in random.uniform(-1, 1) })
        network.backward(r)
        func loss() throws -> Double {
            let y = try network.forward(x, training: true)
            return zip(y.storage, r.storage).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 2e-4
        for parameter in network.parameters {
            let indices = Array(stride(from: 0, to: parameter.value.count, by: max(1, parameter.value.count / 7)))
            let analytic = indices.map { parameter.grad[$0] }
            var numeric: [Float] = []
            for i in indices {
                let saved = parameter.value[i]
                parameter.value[i] = saved + h
                let up = try loss()
                parameter.value[i] = saved - h
                let down = try loss()
                parameter.value[i] = saved
                numeric.append(Float((up - down) / Double(2 * h)))
            }
            assertClose(analytic, numeric, tolerance: 1e-2, "\(parameter.name) in \(layers.map { "\(type(of: $0))" })",
                        file: file, line: line)
        }
    }

    func testConv2dWithStridePaddingAndBias() throws {
        try check([Conv2d(3, 4, kernel: 3, stride: 2, padding: 1)], input: [2, 3, 7, 7])
        try check([Conv2d(2, 3, kernel: 1, bias: false)], input: [2, 2, 3, 3])
    }

    func testLinearAfterFlatten() throws {
        try check([Conv2d(2, 3, kernel: 3, padding: 1), Flatten(), Linear(3 * 4 * 4, 5)], input: [2, 2, 4, 4])
    }

    func testBatchNormTraining() throws {
        try check([Conv2d(3, 4, kernel: 3, padding: 1, bias: false), BatchNorm2d(4)], input: [3, 3, 5, 5])
        try check([Conv2d(3, 16, kernel: 3, padding: 1, bias: false), BatchNorm2d(16), Conv2d(16, 2, kernel: 1)], input: [2, 3, 4, 4])
        try check([Conv2d(3, 5, kernel: 3, padding: 1, bias: false), BatchNorm2d(5), ReLU(), Conv2d(5, 2, kernel: 1)], input: [2, 3, 5, 5])
        try check([BatchNorm2d(3), ReLU(inPlace: true)], input: [3, 3, 3, 3])
    }

    func testReLU() throws {
        try check([Conv2d(2, 3, kernel: 3), ReLU()], input: [2, 2, 5, 5])
        try check([Conv2d(2, 3, kernel: 3), ReLU(inPlace: true), Conv2d(3, 2, kernel: 1)], input: [2, 2, 5, 5])
    }

    func testGELUAndScale() throws {
        try check([Conv2d(2, 3, kernel: 3), GELU()], input: [2, 2, 5, 5])
        try check([Conv2d(2, 3, kernel: 3, padding: 1), GELU(), Flatten(), Linear(75, 4, bias: false), Scale(1 / 9)], input: [2, 2, 5, 5])
        try check([Conv2d(3, 4, kernel: 3, padding: 1, bias: false), BatchNorm2d(4, eps: 1e-12, learnsWeight: false), GELU(),
                   Conv2d(4, 2, kernel: 1)], input: [3, 3, 4, 4])
    }

    func testPooling() throws {
        try check([Conv2d(2, 3, kernel: 3, padding: 1), MaxPool2d(2)], input: [2, 2, 6, 6])
        try check([Conv2d(2, 3, kernel: 3, padding: 1), MaxPool2d(3, stride: 2, padding: 1)], input: [2, 2, 7, 7])
        try check([Conv2d(2, 3, kernel: 3, padding: 1), AvgPool2d(2)], input: [2, 2, 6, 6])
        try check([Conv2d(2, 3, kernel: 3, padding: 1), AvgPool2d(3, stride: 2, padding: 1)], input: [2, 2, 5, 5])
        try check([Conv2d(2, 3, kernel: 3, padding: 1), AdaptiveAvgPool2d(), Flatten(), Linear(3, 4)], input: [2, 2, 5, 5])
    }

    func testResidualBlocks() throws {
        try check([BasicBlock(4, 4)], input: [2, 4, 4, 4])
        try check([Conv2d(3, 4, kernel: 1), BasicBlock(4, 8, stride: 2)], input: [2, 3, 6, 6])
    }

    func testLosses() throws {
        var random = Random(seed: 3)
        let logits = Tensor(shape: [3, 5], values: (0..<15).map { _ in random.uniform(-2, 2) })
        let target = Tensor(shape: [3, 5], values: (0..<15).map { _ in random.uniform(-2, 2) })
        let labels = [4, 0, 2]
        for smoothing: Float in [0, 0.1] {
            let ce = CrossEntropyLoss(labelSmoothing: smoothing)
            _ = try ce(logits, labels)
            let analytic = ce.gradient.values
            let numeric = try (0..<15).map { i -> Float in
                let saved = logits[i]
                logits[i] = saved + 1e-2
                let up = try ce(logits, labels)
                logits[i] = saved - 1e-2
                let down = try ce(logits, labels)
                logits[i] = saved
                return (up - down) / 2e-2
            }
            assertClose(analytic, numeric, tolerance: 1e-3, "cross-entropy, smoothing \(smoothing)")
        }
        let mse = MSELoss()
        _ = try mse(logits, target)
        let analytic = mse.gradient.values
        let numeric = try (0..<15).map { i -> Float in
            let saved = logits[i]
            logits[i] = saved + 1e-2
            let up = try mse(logits, target)
            logits[i] = saved - 1e-2
            let down = try mse(logits, target)
            logits[i] = saved
            return (up - down) / 2e-2
        }
        assertClose(analytic, numeric, tolerance: 1e-3, "MSE")
    }

    func testCrossEntropyValues() throws {
        // PyTorch: F.cross_entropy([[1, 2, 3], [0, 0, 0]], [2, 1]) = 0.7531091; with label_smoothing=0.2: 0.8531091
        let logits = Tensor(shape: [2, 3], values: [1, 2, 3, 0, 0, 0])
        XCTAssertEqual(try CrossEntropyLoss()(logits, [2, 1]), 0.7531091, accuracy: 1e-6)
        XCTAssertEqual(try CrossEntropyLoss(labelSmoothing: 0.2)(logits, [2, 1]), 0.8531091, accuracy: 1e-6)
    }

    /// Identity initialisation: the first min(in, out) filters pass their input channel through
    /// (`torch.nn.init.dirac_`), the others keep PyTorch's default initialisation.
    func testDiracInitialisationPassesChannelsThrough() throws {
        let network = Network(Sequential([Conv2d(3, 5, kernel: 3, padding: 1, bias: false, dirac: true)]), name: "d", seed: 2)
        var random = Random(seed: 4)
        let input = Tensor(shape: [2, 3, 4, 4], values: (0..<96).map { _ in random.uniform(-1, 1) })
        let output = try network.forward(input, training: false).values
        for n in 0..<2 {
            for c in 0..<3 {
                XCTAssertEqual(Array(output[((n * 5 + c) * 16)..<((n * 5 + c + 1) * 16)]), Array(input.values[((n * 3 + c) * 16)..<((n * 3 + c + 1) * 16)]))
            }
        }
        let weights = Array(network.parameters[0].value)
        XCTAssertEqual(weights[..<81].filter { $0 != 0 }.count, 3, "one centre tap per identity filter")
        XCTAssert(weights[81...].allSatisfy { $0 != 0 && abs($0) <= 1 / Float(27).squareRoot() }, "the others as PyTorch initialises")
    }

    /// Dropout zeroes about p of the values, scales the rest by 1/(1 − p), routes gradients through the
    /// same mask, and passes values through unchanged in evaluation.
    func testDropout() throws {
        let network = Network(Sequential([Conv2d(1, 8, kernel: 1, bias: false), Dropout(0.25)]), name: "d", seed: 1)
        network.parameters[0].value.update(repeating: 1)
        let x = Tensor(shape: [4, 1, 16, 16], repeating: 2)
        let y = try network.forward(x, training: true)
        let zeros = y.values.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(y.count), 0.25, accuracy: 0.03)
        XCTAssert(y.values.allSatisfy { $0 == 0 || abs($0 - 2 / 0.75) < 1e-6 })
        network.backward(Tensor(shape: y.shape, repeating: 1))
        // d/dw of Σ y = Σ over kept positions of x/(1 − p), per output channel.
        let kept = (0..<8).map { c in (0..<4).reduce(Float(0)) { sum, n in
            sum + y.values[((n * 8 + c) * 256)..<((n * 8 + c + 1) * 256)].reduce(0) { $0 + ($1 == 0 ? 0 : 2 / 0.75) } } }
        assertClose(Array(network.parameters[0].grad), kept, tolerance: 1e-5, "dropout gradient")
        XCTAssertEqual(try network.forward(x, training: false).values, [Float](repeating: 2, count: y.count))
    }
}
