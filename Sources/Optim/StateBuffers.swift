/// One optimizer state buffer per parameter (e.g. every parameter's `exp_avg`), owned here and
/// freed with the optimizer. Buffers are plain memory so the update loops mutate them without
/// copy-on-write checks.
final class StateBuffers<Scalar: BinaryFloatingPoint> {
    /// torch's name for this buffer in an optimizer state_dict, e.g. "exp_avg".
    let name: String
    let buffers: [UnsafeMutableBufferPointer<Scalar>]
    /// Views (`init(viewing:at:)`) share another's memory and free nothing.
    private let owns: Bool

    /// One buffer the size of each parameter.
    convenience init(_ name: String, like parameters: [Parameter<Scalar>], initialValue: Scalar = 0) {
        self.init(name, sizes: parameters.map(\.value.count), initialValue: initialValue)
    }

    /// Buffers of the given sizes (Adafactor's factored moments); size 0 means the parameter has
    /// no such buffer (it is neither saved nor loaded).
    init(_ name: String, sizes: [Int], initialValue: Scalar = 0) {
        self.name = name
        owns = true
        buffers = sizes.map { n in
            let b = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: n)
            b.initialize(repeating: initialValue)
            return b
        }
    }

    /// Another rule's buffers indexed like a larger parameter list: parameter i sees
    /// `other[positions[i]]`, or nothing (size 0) where the position is nil. Muon's `rest` rule
    /// steps a subset of the parameters; this lets the optimizer save its state by parameter.
    init(viewing other: StateBuffers, at positions: [Int?]) {
        name = other.name
        owns = false
        buffers = positions.map { $0.map { other[$0] } ?? UnsafeMutableBufferPointer(start: nil, count: 0) }
    }

    deinit { if owns { for b in buffers { b.deallocate() } } }

    subscript(_ i: Int) -> UnsafeMutableBufferPointer<Scalar> { buffers[i] }

    func count(_ i: Int) -> Int { buffers[i].count }
}
