import XCTest
@testable import NN

/// airbench's patch-whitening first layer and the kinds of parameters settings attach to.
final class WhiteningTests: XCTestCase {
    /// Images whose neighbouring pixels and channels are correlated, as natural images are.
    private func correlatedImages(_ n: Int, channels c: Int, size s: Int) -> Tensor {
        var random = Random(seed: 9)
        let noise = (0..<(n * s * s)).map { _ in Float.random(in: -1...1, using: &random) }
        let images = Tensor(shape: [n, c, s, s])
        for image in 0..<n {
            for channel in 0..<c {
                for y in 0..<s {
                    for x in 0..<s {
                        let shared = noise[(image * s + y) * s + x] + 0.5 * noise[(image * s + y) * s + (x + 1) % s]
                        images[((image * c + channel) * s + y) * s + x] = shared + 0.3 * Float(channel) * Float.random(in: -1...1, using: &random)
                    }
                }
            }
        }
        return images
    }

    /// The second moments of every 2×2 patch, computed the plain way.
    private func patchMoments(_ images: Tensor, kernel k: Int) -> [[Double]] {
        let (n, c, s) = (images.shape[0], images.shape[1], images.shape[2])
        let d = c * k * k
        var sigma = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        var count = 0.0
        for image in 0..<n {
            for y in 0...(s - k) {
                for x in 0...(s - k) {
                    var patch: [Double] = []
                    for channel in 0..<c { for r in 0..<k { for q in 0..<k { patch.append(Double(images[((image * c + channel) * s + y + r) * s + x + q])) } } }
                    for i in 0..<d { for j in 0..<d { sigma[i][j] += patch[i] * patch[j] } }
                    count += 1
                }
            }
        }
        return sigma.map { $0.map { $0 / count } }
    }

    /// The whitened filters W turn the patch moments Σ into the identity (W Σ Wᵀ = I), the second
    /// half of the filters are the first half negated, and the weight leaves the parameters the
    /// optimizer steps while the bias and the batch norm after it stay.
    func testWhitenedConvolutionDecorrelatesPatchesAndIsFrozen() throws {
        let conv = Conv2d(3, 24, kernel: 2, bias: true)
        let network = Network(Sequential([conv, BatchNorm2d(24)]), name: "whitened", seed: 1)
        XCTAssertEqual(network.parameterRoles, [.weight, .bias, .normWeight, .normBias])
        let images = correlatedImages(6, channels: 3, size: 8)
        try network.whitenFirstConvolution(with: images, eps: 1e-12)
        XCTAssertEqual(network.parameters.map(\.name), ["0.bias", "1.weight", "1.bias"])
        XCTAssertEqual(network.parameterRoles, [.bias, .normWeight, .normBias])

        let sigma = patchMoments(images, kernel: 2), w = Array(conv.weight.value).map(Double.init), d = 12
        for f in 0..<d {
            XCTAssertEqual(Array(w[(f * d)..<((f + 1) * d)]), w[((f + d) * d)..<((f + d + 1) * d)].map { -$0 })
            for g in 0..<d {
                var product = 0.0
                for i in 0..<d { for j in 0..<d { product += w[f * d + i] * sigma[i][j] * w[g * d + j] } }
                XCTAssertEqual(product, f == g ? 1 : 0, accuracy: 1e-4, "filters \(f), \(g)")
            }
        }
    }

    /// A layer with fewer filters keeps the leading eigenvectors; one with more than twice a
    /// patch's values is refused.
    func testWhiteningFillsWhatTheLayerHas() throws {
        let images = correlatedImages(4, channels: 3, size: 6)
        let narrow = Conv2d(3, 4, kernel: 2, bias: false)
        try Network(Sequential([narrow]), name: "narrow", seed: 1).whitenFirstConvolution(with: images)
        let whitening = try PatchWhitening(images: images, kernel: 2)
        let expected = whitening.eigenvectors[0].map { Float($0 / (whitening.eigenvalues[0] + 5e-4).squareRoot()) }
        XCTAssertEqual(Array(narrow.weight.value[0..<12]), expected)
        XCTAssertEqual(Array(narrow.weight.value[24..<36]), expected.map { -$0 })
        XCTAssertThrowsError(try Network(Sequential([Conv2d(3, 26, kernel: 2)]), name: "wide", seed: 1).whitenFirstConvolution(with: images)) {
            XCTAssertEqual("\($0)", "0 (Conv2d) has 26 filters; patch whitening fills at most 2 × 12 (each eigenvector and its negative)")
        }
    }

    func testBatchNormMomentumIsSetInEveryLayer() throws {
        let network = Network(Sequential([Conv2d(3, 4, kernel: 3), BatchNorm2d(4), BasicBlock(4, 4)]), name: "norms", seed: 1)
        network.setBatchNormMomentum(0.4)
        var momenta: [Float] = []
        network.root.visit(prefix: "") { _, module in if let norm = module as? BatchNorm2d { momenta.append(norm.momentum) } }
        XCTAssertEqual(momenta, [0.4, 0.4, 0.4])
    }
}
