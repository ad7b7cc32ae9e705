/// The loops of BatchNorm2d's training passes, over the layouts oneDNN gives convolution outputs:
/// plain NCHW, or channels in blocks of 8 or 16 (nChw8c, nChw16c) with each block's planes
/// contiguous. Work is split into channel groups (one block, or one channel when plain) that run in
/// parallel; within a group the order of every sum is fixed, so results do not depend on threads.
/// Sums run in double, as PyTorch's do (see BatchNorm2d for why that matters).
///
/// Data are walked in units of 8 floats: in a blocked layout a unit holds 8 channels at one
/// position (a 16-block has two units per position); in NCHW it holds 8 positions of one channel.
struct ChannelGroups: @unchecked Sendable {
    let images: Int, positions: Int, channels: Int
    /// Channels per group: the layout's block, or 1 for NCHW.
    let block: Int
    let imageStride: Int, groupStride: Int

    init?(_ layout: ChannelLayout, channels: Int) {
        let d = layout.dims
        guard [1, 8, 16].contains(layout.block), layout.sW == layout.block, layout.sH == d[3] * layout.block else { return nil }
        images = d[0]
        positions = d[2] * d[3]
        self.channels = channels
        block = layout.block
        imageStride = layout.sN
        groupStride = layout.sC
    }

    var groups: Int { (channels + block - 1) / block }
    /// Units of 8 floats per image and group, and the plain layout's leftover positions.
    private var units: Int { block == 1 ? positions / 8 : positions * block / 8 }
    private var tail: Int { block == 1 ? positions % 8 : 0 }
    /// How many consecutive units cover one position's channels (2 for a 16-block).
    private var slots: Int { max(1, block / 8) }

    /// Per-channel coefficients of a group as the units see them: slot s, lane l is channel
    /// `g·block + 8s + l` in a blocked layout; every lane is channel g in NCHW. Padding lanes get 0.
    func vectors(_ values: UnsafeMutableBufferPointer<Float>, group g: Int) -> (SIMD8<Float>, SIMD8<Float>) {
        if block == 1 { return (SIMD8(repeating: values[g]), SIMD8(repeating: values[g])) }
        var v = (SIMD8<Float>(), SIMD8<Float>())
        for lane in 0..<8 {
            let c0 = g * block + lane, c1 = c0 + 8
            if c0 < channels { v.0[lane] = values[c0] }
            if block == 16 && c1 < channels { v.1[lane] = values[c1] }
        }
        return v
    }

    typealias Terms = (SIMD8<Double>, SIMD8<Double>)

    /// Two sums per channel over every image: `body` maps a unit (and its slot) to two vectors of
    /// terms, `tailTerm` a leftover position to two terms; totals land in `first` and `second`.
    func sum(group g: Int, into first: UnsafeMutableBufferPointer<Double>, _ second: UnsafeMutableBufferPointer<Double>,
             _ body: (_ offset: Int, _ slot: Int) -> Terms, tailTerm: (_ offset: Int) -> (Double, Double)) {
        var acc: (Terms, Terms) = ((.zero, .zero), (.zero, .zero))  // [slot] -> (first, second)
        var scalar = (0.0, 0.0)
        for n in 0..<images {
            var offset = n * imageStride + g * groupStride
            if slots == 2 {
                for _ in 0..<(units / 2) {
                    let a = body(offset, 0), b = body(offset + 8, 1)
                    acc.0.0 += a.0; acc.0.1 += a.1
                    acc.1.0 += b.0; acc.1.1 += b.1
                    offset += 16
                }
            } else {
                for _ in 0..<units {
                    let a = body(offset, 0)
                    acc.0.0 += a.0; acc.0.1 += a.1
                    offset += 8
                }
            }
            for i in 0..<tail {
                let t = tailTerm(offset + i)
                scalar.0 += t.0; scalar.1 += t.1
            }
        }
        if block == 1 {
            first[g] = acc.0.0.sum() + scalar.0
            second[g] = acc.0.1.sum() + scalar.1
        } else {
            for lane in 0..<8 {
                let c0 = g * block + lane, c1 = c0 + 8
                if c0 < channels { (first[c0], second[c0]) = (acc.0.0[lane], acc.0.1[lane]) }
                if block == 16 && c1 < channels { (first[c1], second[c1]) = (acc.1.0[lane], acc.1.1[lane]) }
            }
        }
    }

    /// Applies `body(offset, slot)` to every unit of a group (and `tailBody` to leftover positions).
    func forEach(group g: Int, _ body: (_ offset: Int, _ slot: Int) -> Void, tailBody: (_ offset: Int) -> Void) {
        for n in 0..<images {
            var offset = n * imageStride + g * groupStride
            for u in 0..<units {
                body(offset, slots == 2 ? u & 1 : 0)
                offset += 8
            }
            for i in 0..<tail { tailBody(offset + i) }
        }
    }
}

/// Loads and stores of 8-float units.
extension UnsafeMutableBufferPointer where Element == Float {
    @inline(__always) func unit(_ offset: Int) -> SIMD8<Float> {
        UnsafeRawPointer(baseAddress! + offset).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) func setUnit(_ offset: Int, _ value: SIMD8<Float>) {
        UnsafeMutableRawPointer(baseAddress! + offset).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
