import XCTest
@testable import NN

/// A network and every layer in it are freed once the caller lets go, after training steps have
/// built their plans (a plan that kept its layer alive kept the whole run's activations: ~0.4 GB
/// per labnet run, which an optimizer comparison or tuning accumulated until it ran out of memory).
final class LayerLifetimeTests: XCTestCase {
    func testLayersAreFreedWithTheirNetwork() throws {
        let algorithms: [ConvolutionAlgorithm] = [.direct] + KernelISA.available.map { .winograd($0) }
        for algorithm in algorithms {
            weak var network: Network?, conv: Conv2d?, linear: Linear?
            do {
                // As in WinogradTests: a 1×1 convolution in front gives the 3×3 one the 16 channels Winograd takes.
                let convolution = Conv2d(16, 16, kernel: 3, padding: 1)
                convolution.algorithm = algorithm
                let classifier = Linear(16 * 4 * 4, 10)
                let layers: [Module] = [Conv2d(3, 16, kernel: 1), convolution, ReLU(), MaxPool2d(2), Flatten(), classifier]
                let strong = Network(Sequential(layers), name: "lifetime")
                let images = Tensor(shape: [16, 3, 8, 8], values: (0..<(16 * 3 * 64)).map { Float($0 % 7) / 7 })
                for _ in 0..<2 {
                    _ = try strong.forward(images, training: true)
                    strong.backward(Tensor(shape: [16, 10], values: (0..<160).map { Float($0 % 3) / 160 }))
                }
                _ = try strong.forward(images, training: false)
                (network, conv, linear) = (strong, convolution, classifier)
            }
            XCTAssertNil(network, "\(algorithm): the network outlives its last reference")
            XCTAssertNil(conv, "\(algorithm): a convolution outlives its network")
            XCTAssertNil(linear, "\(algorithm): a linear layer outlives its network")
        }
    }
}
