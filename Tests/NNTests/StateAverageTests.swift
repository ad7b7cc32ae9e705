import XCTest
@testable import NN

/// airbench's lookahead average: weights and batch-norm statistics move together.
final class StateAverageTests: XCTestCase {
    private func state(_ network: Network) -> [[Float]] { network.state.map { Array($0.weight.value) } }

    func testUpdateInterpolatesEveryStateTensorAndPullsTheModelBack() throws {
        let network = Network(Sequential([Conv2d(3, 4, kernel: 3, bias: false), BatchNorm2d(4), ReLU()]), name: "average")
        let start = state(network)
        let average = StateAverage(of: network)
        let input = Tensor(shape: [2, 3, 5, 5], values: (0..<150).map { Float($0 % 7) / 7 })
        _ = try network.forward(input, training: true)  // moves the running statistics
        for p in network.parameters { for i in p.value.indices { p.value[i] += 1 } }
        let moved = state(network)
        XCTAssertNotEqual(moved, start)

        average.update(network, decay: 0.25)
        let expected = zip(start, moved).map { a, w in zip(a, w).map { $0 + (1 - 0.25) * ($1 - $0) } }
        XCTAssertEqual(state(network), expected, "the model takes the average, buffers included")

        for p in network.parameters { for i in p.value.indices { p.value[i] += 1 } }
        average.update(network, decay: 1)
        XCTAssertEqual(state(network), expected, "decay 1 puts the model back at the average")
        average.update(network, decay: 0)
        XCTAssertEqual(state(network), expected, "decay 0 leaves it where it is")

        var file = SafeTensors()
        average.save(into: &file, prefix: "lookahead.", of: network)
        let restored = StateAverage(of: Network(Sequential([Conv2d(3, 4, kernel: 3, bias: false), BatchNorm2d(4), ReLU()]), name: "other"))
        try restored.load(file, prefix: "lookahead.", of: network)
        for p in network.parameters { for i in p.value.indices { p.value[i] = 0 } }
        restored.update(network, decay: 1)
        XCTAssertEqual(state(network), expected, "a saved average loads whole")
    }
}
