/// One optimizer state buffer per parameter (e.g. every parameter's `exp_avg`), owned here and
/// freed with the optimizer. Buffers are plain memory so the update loops mutate them without
/// copy-on-write checks.
final class StateBuffers<Scalar: BinaryFloatingPoint> {
    /// torch's name for this buffer in an optimizer state_dict, e.g. "exp_avg".
    let name: String
    let buffers: [UnsafeMutableBufferPointer<Scalar>]

    init(_ name: String, like parameters: [Parameter<Scalar>], initialValue: Scalar = 0) {
        self.name = name
        buffers = parameters.map { p in
            let b = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: p.value.count)
            b.initialize(repeating: initialValue)
            return b
        }
    }

    deinit { for b in buffers { b.deallocate() } }

    subscript(_ i: Int) -> UnsafeMutableBufferPointer<Scalar> { buffers[i] }
}
