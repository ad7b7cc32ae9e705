/// One tensor an optimizer updates: its values and its gradient, both borrowed buffers.
///
/// The optimizer writes `value` in place and only reads `grad`, so a 2-D point (2 doubles) and a
/// CNN layer's weights (millions of floats) are stepped by the same code without copying.
public struct Parameter<Scalar: BinaryFloatingPoint> {
    /// The PyTorch state_dict name (e.g. "features.0.weight"), "" for a 2-D point.
    public var name: String
    /// Updated in place by `Optimizer.step()`.
    public var value: UnsafeMutableBufferPointer<Scalar>
    /// Read by `Optimizer.step()`; must have as many elements as `value`.
    public var grad: UnsafeMutableBufferPointer<Scalar>
    /// The tensor's shape (row-major), which Adafactor (factored moments for ≥ 2 dimensions) and
    /// Muon (matrices only) look at; a flat vector unless given.
    public var shape: [Int]

    public init(name: String, value: UnsafeMutableBufferPointer<Scalar>, grad: UnsafeMutableBufferPointer<Scalar>,
                shape: [Int]? = nil) {
        self.name = name
        self.value = value
        self.grad = grad
        self.shape = shape ?? [value.count]
    }
}
