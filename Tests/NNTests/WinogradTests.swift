import XCTest
@testable import NN

/// Winograd's F(2×2, 3×3) convolutions against oneDNN's direct ones on the same weights: outputs,
/// weight and bias gradients, and (through the convolution in front) the input gradient, on shapes
/// with odd sizes, partial tiles, single pixels and batches that span several tile blocks.
final class WinogradTests: XCTestCase {
    func compare(inChannels: Int, outChannels: Int, bias: Bool, input shape: [Int],
                 file: StaticString = #filePath, line: UInt = #line) throws {
        func network(winograd: Bool) -> Network {
            let conv = Conv2d(inChannels, outChannels, kernel: 3, padding: 1, bias: bias)
            XCTAssertTrue(conv.usesWinograd, "a 3×3 padding-1 convolution of 16k channels should run by Winograd", file: file, line: line)
            conv.usesWinograd = winograd
            // A direct 1×1 convolution in front receives the Winograd layer's input gradient.
            let network = Network(Sequential([Conv2d(shape[1], inChannels, kernel: 1), conv, ReLU()]), name: "winograd", seed: 3)
            network.splitsBatches = false
            return network
        }
        let fast = network(winograd: true), direct = network(winograd: false)
        var random = Random(seed: 17)
        let x = Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in random.uniform(-1, 1) })
        let y = try fast.forward(x, training: true).storage
        let expected = try direct.forward(x, training: true).storage
        assertClose(Array(y), Array(expected), tolerance: 1e-5, "output \(shape)", file: file, line: line)
        let r = Tensor(shape: [shape[0], outChannels, shape[2], shape[3]], values: (0..<y.count).map { _ in random.uniform(-1, 1) })
        fast.backward(r)
        direct.backward(r)
        for (a, b) in zip(fast.parameters, direct.parameters) {
            assertClose(Array(a.grad), Array(b.grad), tolerance: 1e-5, "\(a.name) gradient \(shape)", file: file, line: line)
        }
        // The evaluation forward runs the same path.
        assertClose(Array(try fast.forward(x, training: false).storage), Array(try direct.forward(x, training: false).storage),
                    tolerance: 1e-5, "evaluation output \(shape)", file: file, line: line)
    }

    func testMatchesDirectConvolution() throws {
        try compare(inChannels: 16, outChannels: 32, bias: true, input: [3, 5, 7, 9])
        try compare(inChannels: 32, outChannels: 16, bias: false, input: [2, 3, 8, 8])
        try compare(inChannels: 16, outChannels: 16, bias: true, input: [2, 3, 1, 1])
        try compare(inChannels: 48, outChannels: 64, bias: false, input: [2, 3, 2, 3])
        // 20 × 16 × 16 tiles: several blocks per thread, the last one partial.
        try compare(inChannels: 16, outChannels: 16, bias: false, input: [20, 3, 31, 32])
    }

    func testOtherConvolutionsStayDirect() {
        XCTAssertFalse(Conv2d(16, 16, kernel: 3, stride: 2, padding: 1).usesWinograd)
        XCTAssertFalse(Conv2d(16, 16, kernel: 3, padding: 0).usesWinograd)
        XCTAssertFalse(Conv2d(3, 16, kernel: 3, padding: 1).usesWinograd)
        XCTAssertFalse(Conv2d(16, 24, kernel: 3, padding: 1).usesWinograd)
        XCTAssertFalse(Conv2d(16, 16, kernel: 5, padding: 2).usesWinograd)
    }
}
