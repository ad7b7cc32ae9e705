/// hlb-cifar10's lookahead as airbench trains with it: a running average A of every float tensor
/// of the model's state (weights and batch-norm statistics alike), which the model is pulled back
/// to each time it is updated:
///
///     A ← A + (1 − decay)·(W − A),   W ← A
///
/// decay 0 leaves the model as it is (A catches up to it); decay 1 puts the model at A. Unlike the
/// `lookahead` optimizer wrapper it averages the buffers too, so the running statistics stay those
/// of the weights the model holds.
public final class StateAverage {
    private var average: [[Float]]

    /// An average that starts at the model's current state.
    public init(of network: Network) {
        average = network.state.map { Array($0.weight.value) }
    }

    public func update(_ network: Network, decay: Float) {
        for (index, entry) in network.state.enumerated() {
            let weights = entry.weight.value
            average[index].withUnsafeMutableBufferPointer { a in
                for i in a.indices {
                    a[i] += (1 - decay) * (weights[i] - a[i])
                    weights[i] = a[i]
                }
            }
        }
    }

    /// The average under the model's state names, after `prefix`.
    public func save(into file: inout SafeTensors, prefix: String, of network: Network) {
        for (entry, values) in zip(network.state, average) {
            file.set(prefix + entry.name, floats: values, shape: entry.weight.shape)
        }
    }

    public func load(_ file: SafeTensors, prefix: String, of network: Network) throws {
        average = try network.state.map { try file.floats(prefix + $0.name, shape: $0.weight.shape) }
    }
}
