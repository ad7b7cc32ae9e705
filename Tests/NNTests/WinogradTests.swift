import XCTest
@testable import NN

/// Winograd's F(4×4, 3×3) and F(2×2, 3×3) convolutions, at every vector width this CPU runs, and
/// oneDNN's own Winograd where it has one, against oneDNN's direct convolutions on the same weights:
/// outputs, weight and bias gradients, and (through the convolution in front) the input gradient,
/// on shapes with odd sizes, partial tiles, single pixels and batches that span several tile blocks.
final class WinogradTests: XCTestCase {
    func compare(_ algorithm: ConvolutionAlgorithm, inChannels: Int, outChannels: Int, bias: Bool, input shape: [Int],
                 file: StaticString = #filePath, line: UInt = #line) throws {
        func network(_ algorithm: ConvolutionAlgorithm) -> Network {
            let conv = Conv2d(inChannels, outChannels, kernel: 3, padding: 1, bias: bias)
            conv.algorithm = algorithm
            // A direct 1×1 convolution in front receives the Winograd layer's input gradient.
            let network = Network(Sequential([Conv2d(shape[1], inChannels, kernel: 1), conv, ReLU()]), name: "winograd", seed: 3)
            network.splitsBatches = false
            return network
        }
        let fast = network(algorithm), direct = network(.direct)
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

    /// (in, out, bias, input shape); the input's height and width choose the tile size.
    static let cases: [(Int, Int, Bool, [Int])] = [
        (16, 32, true, [3, 5, 7, 9]),  // F(4×4), partial tiles both ways
        (32, 16, false, [2, 3, 8, 8]),  // F(4×4)
        (16, 16, true, [2, 3, 1, 1]),  // F(2×2), one pixel
        (48, 80, false, [2, 3, 2, 3]),  // F(2×2); 48 and 80 columns: 16-lane 32-column blocks plus a 16-column one
        (16, 16, true, [40, 3, 6, 5]),  // F(2×2), interior tiles, several blocks per thread
        (16, 16, false, [20, 3, 31, 32]),  // F(4×4), several blocks per thread, the last one partial
        (24, 64, true, [4, 3, 10, 12]),  // 8-lane products only: airbench94's first 3×3 layer, 24 → 64
        (64, 24, false, [2, 3, 8, 8]),  // and its input gradient's 24 columns
    ]

    func compareShapes(_ algorithm: ConvolutionAlgorithm, file: StaticString = #filePath, line: UInt = #line) throws {
        let lanes = if case .winograd(let isa) = algorithm { isa.lanes } else { 16 }
        for (inChannels, outChannels, bias, shape) in Self.cases where inChannels % lanes == 0 && outChannels % lanes == 0 {
            try compare(algorithm, inChannels: inChannels, outChannels: outChannels, bias: bias, input: shape, file: file, line: line)
        }
    }

    /// The tile with fewer multiplications, F(2×2) on a tie; the cases above run both.
    func testTileSizeByImageSize() {
        for (height, width, size) in [(1, 1, 2), (2, 3, 2), (5, 6, 2), (6, 6, 2), (3, 3, 4), (4, 4, 4), (7, 9, 4), (8, 8, 4),
                                      (16, 16, 4), (31, 32, 4), (2, 32, 2)] {
            XCTAssertEqual(Winograd.tileSize(height: height, width: width), size, "\(height)×\(width)")
        }
        XCTAssertEqual(Set(Self.cases.map { Winograd.tileSize(height: $0.3[2], width: $0.3[3]) }), [2, 4])
    }

    /// A 2×2 max pool right after a Winograd convolution runs inside its output transform: the same
    /// bits as the pool on its own, in the output, in where each gradient goes (the argmax) and in
    /// every parameter's gradient; ties (zero filters leave only the bias, so every window ties), NaNs
    /// (they win, as in PyTorch) and both tile sizes; an odd size leaves the pool on its own.
    func testMaxPoolInsideTheOutputTransformGivesTheSameBits() throws {
        func same(_ a: [Float], _ b: [Float]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        }
        let cases: [(shape: [Int], filters: String, fuses: Bool)] = [
            ([3, 3, 8, 12], "random", true), ([2, 3, 6, 6], "random", true), ([2, 3, 8, 8], "zero", true),
            ([2, 3, 4, 4], "nan", true), ([2, 3, 10, 6], "random", true), ([2, 3, 7, 9], "random", false),
        ]
        for isa in KernelISA.available {
            for (shape, filters, fuses) in cases {
                func network(fused: Bool) -> (Network, Pool2d) {
                    let conv = Conv2d(16, 32, kernel: 3, padding: 1, bias: true)
                    conv.algorithm = .winograd(isa)
                    let pool = MaxPool2d(2)
                    // A convolution alone in a Sequential does not see the pool after it.
                    let layers: [Module] = [Conv2d(shape[1], 16, kernel: 1), fused ? conv : Sequential([conv]), pool]
                    let network = Network(Sequential(layers), name: "pooled", seed: 4)
                    network.splitsBatches = false
                    if filters != "random" { conv.weight.value.update(repeating: 0) }
                    if filters == "nan" { conv.weight.value[9 * 16 * 3 + 4] = .nan }
                    return (network, pool)
                }
                let ((fused, fusedPool), (alone, alonePool)) = (network(fused: true), network(fused: false))
                var random = Random(seed: 8)
                let x = Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in random.uniform(-1, 1) })
                let what = "\(isa) \(shape) \(filters)"
                let y = try fused.forward(x, training: true).values
                XCTAssert(same(y, try alone.forward(x, training: true).values), "output, \(what)")
                XCTAssertEqual(fusedPool.fusedPlans.count, fuses ? 1 : 0, what)
                XCTAssertEqual(alonePool.fusedPlans.count, 0, what)
                let r = Tensor(shape: [shape[0], 32, shape[2] / 2, shape[3] / 2], values: (0..<y.count).map { _ in random.uniform(-1, 1) })
                fused.backward(r)
                alone.backward(r)
                for (a, b) in zip(fused.parameters, alone.parameters) {
                    XCTAssert(same(Array(a.grad), Array(b.grad)), "\(a.name) gradient, \(what)")
                }
                XCTAssert(same(try fused.forward(x, training: false).values, try alone.forward(x, training: false).values),
                          "evaluation output, \(what)")
            }
        }
    }

    func testEveryAvailableWidthMatchesDirectConvolution() throws {
        for isa in KernelISA.available { try compareShapes(.winograd(isa)) }
    }

    func testOneDNNWinogradMatchesDirectConvolution() throws {
        try XCTSkipUnless(KernelISA.oneDNNHasAVX512, "oneDNN's Winograd needs AVX-512")
        try compareShapes(.oneDNNWinograd)
    }

    /// Each element's products are summed in the same order at every width: the same bits.
    func testWidthsGiveIdenticalBits() throws {
        try XCTSkipUnless(KernelISA.available.count > 1, "this CPU runs one width")
        var random = Random(seed: 5)
        let (rows, columns, depth) = (29, 80, 37)
        let a = (0..<rows * depth).map { _ in random.uniform(-1, 1) }, b = (0..<depth * columns).map { _ in random.uniform(-1, 1) }
        let products = KernelISA.available.map { isa in
            var c = [Float](repeating: 0.5, count: rows * columns)
            Winograd.multiply(isa, rows: rows, columns: columns, depth: depth, a, aRow: depth, aDepth: 1, b, bRow: columns,
                              &c, cRow: columns, accumulate: true)
            return c
        }
        for c in products.dropFirst() { XCTAssertEqual(c, products[0]) }
    }

    func testAutomaticChoice() {
        let expected: ConvolutionAlgorithm = KernelISA.oneDNNHasAVX512 ? .oneDNNWinograd : .winograd(KernelISA.current)
        XCTAssertEqual(Conv2d(16, 32, kernel: 3, padding: 1).algorithm, expected)
    }

    func testOtherConvolutionsStayDirect() {
        XCTAssertEqual(Conv2d(16, 16, kernel: 3, stride: 2, padding: 1).algorithm, .direct)
        XCTAssertEqual(Conv2d(16, 16, kernel: 3, padding: 0).algorithm, .direct)
        XCTAssertEqual(Conv2d(3, 16, kernel: 3, padding: 1).algorithm, .direct)
        // 24 channels are three of AVX2's vectors, not whole AVX-512 ones (oneDNN's Winograd needs 16).
        XCTAssertEqual(Conv2d(16, 24, kernel: 3, padding: 1).algorithm, KernelISA.current == .avx2 ? .winograd(.avx2) : .direct)
        XCTAssertEqual(Conv2d(16, 20, kernel: 3, padding: 1).algorithm, .direct)
        XCTAssertEqual(Conv2d(16, 16, kernel: 5, padding: 2).algorithm, .direct)
    }
}
