import Foundation

/// A dense Float32 tensor in plain row-major layout (images are logical NCHW), 64-byte aligned.
/// It is how data enters and leaves a network; inside, activations live in oneDNN's own layouts.
public final class Tensor {
    public let shape: [Int]
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(shape: [Int], repeating value: Float = 0) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        let count = shape.reduce(1, *)
        var raw: UnsafeMutableRawPointer?
        precondition(posix_memalign(&raw, 64, max(count, 16) * 4) == 0, "out of memory for tensor \(shape)")
        storage = UnsafeMutableBufferPointer(start: raw!.bindMemory(to: Float.self, capacity: count), count: count)
        storage.initialize(repeating: value)
    }

    public convenience init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape)
        _ = storage.initialize(from: values)
    }

    public var count: Int { storage.count }
    public var values: [Float] { Array(storage) }
    public subscript(index: Int) -> Float {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    deinit { free(storage.baseAddress) }
}

/// A learnable tensor (value and gradient) or a buffer such as BatchNorm's running mean, stored
/// in PyTorch's layout so optimizers and safetensors see it directly.
final class Weight {
    let shape: [Int]
    let value: UnsafeMutableBufferPointer<Float>
    /// Written (not accumulated) by each backward pass; nil for buffers.
    let grad: UnsafeMutableBufferPointer<Float>?
    /// The weight whose values this one shares (a replica's), kept alive as long as this one.
    private let valueOwner: Weight?

    init(_ shape: [Int], learnable: Bool = true, fill: Float = 0) {
        self.shape = shape
        let count = shape.reduce(1, *)
        value = .allocate(capacity: count)
        value.initialize(repeating: fill)
        if learnable {
            let grad = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
            grad.initialize(repeating: 0)
            self.grad = grad
        } else {
            grad = nil
        }
        valueOwner = nil
    }

    /// A weight of a replica (see `batchReplica`): `other`'s values, read-only while the replica
    /// runs, and a gradient of its own.
    init(sharingValueOf other: Weight) {
        shape = other.shape
        value = other.value
        if other.grad != nil {
            let grad = UnsafeMutableBufferPointer<Float>.allocate(capacity: other.count)
            grad.initialize(repeating: 0)
            self.grad = grad
        } else {
            grad = nil
        }
        valueOwner = other
    }

    var count: Int { value.count }
    var valuePointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(value.baseAddress!) }
    var gradPointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(grad!.baseAddress!) }

    deinit {
        if valueOwner == nil { value.deallocate() }
        grad?.deallocate()
    }
}
