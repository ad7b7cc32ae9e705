import CDNNL

/// Max or average pooling over square windows with PyTorch's semantics: output size
/// ⌊(H + 2p − k)/s⌋ + 1 (floor mode), padded positions never win a max and count as zeros in an
/// average (count_include_pad, so the divisor is k²). Subclassed by the PyTorch-named layers below.
///
/// The loops are written here rather than run by oneDNN: oneDNN 2.6's AVX2 pooling took 3.4 ms
/// forward and 3.2 ms backward for the tutorial net's first pool at batch 64 (half of its training
/// step) on this machine, where a pass over those 1.2 MB takes about 0.1 ms. They work on the
/// activation in whatever layout arrives (plain NCHW, NHWC, or channels in blocks of 8 or 16) and
/// write the output in the same kind of layout, so the next layer sees what it saw before.
public class Pool2d: Module {
    enum Kind { case max, average, global }
    let kind: Kind
    let kernel: Int, stride: Int, padding: Int
    private var plans = PlanCache<Plan>()
    /// Plans whose pooling the convolution in front does as it writes its output (`fusedPlan`).
    private(set) var fusedPlans: [Plan] = []

    init(_ kind: Kind, kernel: Int, stride: Int, padding: Int) {
        precondition(kind == .global || (kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel),
                     "invalid pooling configuration")
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    final class Plan {
        /// A reorder to plain NCHW for the rare layout the loops do not address (empty otherwise).
        let calls: [Call]
        /// The input; nil when the convolution in front pools as it writes (`fusedPlan`), so no
        /// unpooled output exists, and unpools the gradient as it reads it.
        let input: Memory?
        let output: Memory
        let windows: Windows
        /// Training max pooling: for each output unit, where in the window each lane's maximum lies.
        let argmax: UnsafeMutableBufferPointer<SIMD8<Float>>?
        /// Below this much work, waking a second thread costs more than it takes over.
        let parallel: Bool
        var backward: (dy: Memory, calls: [Call], conformed: Memory, dx: Memory)?

        init(calls: [Call], input: Memory?, output: Memory, windows: Windows, recordsArgmax: Bool) {
            self.calls = calls; self.input = input; self.output = output; self.windows = windows
            argmax = recordsArgmax ? .allocate(capacity: windows.outputUnits) : nil
            parallel = windows.inputUnits >= Windows.parallelUnits
        }

        deinit { argmax?.deallocate() }

        func forEachItem(_ body: (Int) -> Void) {
            if parallel {
                parallelFor(windows.items, body)
            } else {
                for item in 0..<windows.items { body(item) }
            }
        }
    }

    override func forward(_ x: Memory, training: Bool) throws -> Memory {
        let fused = fusedPlans.first { $0.output === x }
        let plan = try plans.plan(x, training: training, eitherMode: fused != nil) { try fused ?? makePlan(x, training: training) }
        guard let unpooled = plan.input else { return plan.output }  // pooled already, as the convolution wrote
        if !plan.calls.isEmpty { run(plan.calls) }
        let (w, input, output) = (plan.windows, unpooled.floats.baseAddress!, plan.output.floats.baseAddress!)
        switch kind {
        case .max:
            let argmax = plan.argmax?.baseAddress
            plan.forEachItem { w.maxForward($0, input, output, argmax) }
        case .average, .global:
            plan.forEachItem { w.averageForward($0, input, output) }
        }
        return plan.output
    }

    private func makePlan(_ x: Memory, training: Bool) throws -> Plan {
        let s = x.shape
        guard s.count == 4 else { throw ShapeError("\(label) expects [N, C, H, W] input, got \(s)") }
        let (kh, kw, st) = kind == .global ? (s[2], s[3], 1) : (kernel, kernel, stride)
        let pad = kind == .global ? 0 : padding
        guard s[2] + 2 * pad >= kh, s[3] + 2 * pad >= kw else {
            throw ShapeError("\(label): input \(s[2])×\(s[3]) is smaller than the \(kh)×\(kw) window")
        }
        let oh = (s[2] + 2 * pad - kh) / st + 1, ow = (s[3] + 2 * pad - kw) / st + 1
        // Layouts the loops do not address (blocked other than by 8 or 16 channels) become plain NCHW.
        let addressable = ChannelLayout(x.desc).map { [1, 8, 16].contains($0.block) } ?? false
        let (input, reorder) = addressable ? (x, nil) : conform(x, to: plainDesc(s))
        let inputLayout = ChannelLayout(input.desc)!
        let output = outputMemory(denseDesc([s[0], s[1], oh, ow], like: input.desc, inputLayout))
        let windows = Windows(kernel: (kh, kw), stride: st, padding: pad, input: inputLayout,
                              output: ChannelLayout(output.desc)!, channels: s[1])
        return Plan(calls: [reorder].compactMap { $0 }, input: input, output: output, windows: windows,
                    recordsArgmax: training && kind == .max)
    }

    /// A plan for pooling a convolution's output of layout `desc` (nChw8c) that the convolution
    /// computes itself, tile by tile as it writes (`Winograd.transformOutput`), so that the unpooled
    /// output never goes through memory; nil unless this is a 2×2 max pool of stride 2 without
    /// padding over an even height and width, whose windows never straddle two of the tiles.
    func fusedPlan(convolutionOutput desc: Desc) -> Plan? {
        let s = desc.shape
        guard kind == .max, kernel == 2, stride == 2, padding == 0, s[2] % 2 == 0, s[3] % 2 == 0,
              let layout = ChannelLayout(desc), layout.block == 8 else { return nil }
        let output = outputMemory(denseDesc([s[0], s[1], s[2] / 2, s[3] / 2], like: desc, layout))
        let windows = Windows(kernel: (2, 2), stride: 2, padding: 0, input: layout, output: ChannelLayout(output.desc)!, channels: s[1])
        let plan = Plan(calls: [], input: nil, output: output, windows: windows, recordsArgmax: true)
        // One per plan the convolution makes, dropped in the same order as its PlanCache drops
        // them, so every convolution plan still cached finds its pooling here.
        if fusedPlans.count == PlanCache<Plan>.capacity { fusedPlans.removeFirst() }
        fusedPlans.append(plan)
        return plan
    }

    override func backward(_ dy: Memory, inputGradient: Bool) -> Memory? {
        guard inputGradient else { return nil }
        let plan = plans.lastPlan(label)
        // Pooled as the convolution wrote: it takes the pooled gradient and unpools it as it reads.
        guard let input = plan.input else { return dy }
        if plan.backward == nil || plan.backward!.dy !== dy {
            let (dyC, reorder) = conform(dy, to: plan.output.desc)
            plan.backward = (dy, [reorder].compactMap { $0 }, dyC, Memory(input.desc))
        }
        let b = plan.backward!
        if !b.calls.isEmpty { run(b.calls) }
        let (w, dyValues, dx) = (plan.windows, b.conformed.floats.baseAddress!, b.dx.floats.baseAddress!)
        switch kind {
        case .max:
            let argmax = plan.argmax!.baseAddress!
            plan.forEachItem { w.maxBackward($0, dyValues, dx, argmax) }
        case .average, .global:
            plan.forEachItem { w.averageBackward($0, dyValues, dx) }
        }
        return b.dx
    }
}

/// `nn.MaxPool2d(kernel, stride = kernel, padding)`.
public final class MaxPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.max, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
}

/// `nn.AvgPool2d(kernel, stride = kernel, padding)` (padded positions count, as in PyTorch).
public final class AvgPool2d: Pool2d {
    public init(_ kernel: Int, stride: Int? = nil, padding: Int = 0) {
        super.init(.average, kernel: kernel, stride: stride ?? kernel, padding: padding)
    }
}

/// `nn.AdaptiveAvgPool2d((1, 1))`: global average pooling, [N, C, H, W] → [N, C, 1, 1].
public final class AdaptiveAvgPool2d: Pool2d {
    public init() { super.init(.global, kernel: 0, stride: 1, padding: 0) }
}

/// A dense descriptor for `dims` in the same kind of layout as `like`: its dimensions in the same
/// order (largest stride outermost) and the same channel block innermost.
private func denseDesc(_ dims: [Int], like: Desc, _ layout: ChannelLayout) -> Desc {
    let b = layout.block
    let padded = [dims[0], (dims[1] + b - 1) / b * b, dims[2], dims[3]]
    let old = [layout.sN, layout.sC, layout.sH, layout.sW]
    // Equal strides come from dimensions of size 1, whose place does not matter; keep them in index order.
    let outerToInner = (0..<4).sorted { old[$0] > old[$1] || (old[$0] == old[$1] && $0 < $1) }
    var strides = [0, 0, 0, 0], next = b
    for d in outerToInner.reversed() {
        strides[d] = next
        next *= d == 1 ? padded[1] / b : padded[d]
    }
    var desc = like
    _ = withUnsafeMutableBytes(of: &desc.dims) { $0.bindMemory(to: Int64.self).update(fromContentsOf: dims.map(Int64.init)) }
    _ = withUnsafeMutableBytes(of: &desc.padded_dims) { $0.bindMemory(to: Int64.self).update(fromContentsOf: padded.map(Int64.init)) }
    _ = withUnsafeMutableBytes(of: &desc.format_desc.blocking.strides) {
        $0.bindMemory(to: Int64.self).update(fromContentsOf: strides.map(Int64.init))
    }
    return desc
}

/// The geometry of one pooling and how its loops walk the data.
///
/// Work items are (image, channel group): a group is one channel block (8 or 16 channels) or, in a
/// plain layout, 8 consecutive channels. The loops move units of 8 lanes (channels) at one
/// position: a block of 16 is two units; in a plain layout a unit's lanes lie sC apart (1 in NHWC).
/// Element (n, c, h, w) of unit s of group g sits at `base(n, g) + 8·s + h·sH + w·sW + lane·laneStride`.
struct Windows: @unchecked Sendable {
    let kh: Int, kw: Int, stride: Int, padding: Int
    let height: Int, width: Int, outHeight: Int, outWidth: Int
    let images: Int, channels: Int, groups: Int, units: Int
    let x: ChannelLayout, y: ChannelLayout
    /// Average pooling's divisor: the window's area, padding included.
    let divisor: Float
    /// Whether the windows cover the input exactly once (stride = kernel, no padding, sizes a
    /// multiple of it), so max pooling's backward writes each input position once, unread.
    let tilesExactly: Bool

    /// Units of input below which the loops run on the calling thread alone: 8192 units take a few
    /// tens of µs, while handing work to a second thread costs µs and, on a busy machine, often more
    /// than it saves. The tutorial net's pools at batch 4 (3136 and 800 units) stay serial.
    static let parallelUnits = 1 << 13

    init(kernel: (Int, Int), stride: Int, padding: Int, input: ChannelLayout, output: ChannelLayout, channels: Int) {
        (kh, kw) = kernel
        self.stride = stride
        self.padding = padding
        (images, height, width) = (input.dims[0], input.dims[2], input.dims[3])
        (outHeight, outWidth) = (output.dims[2], output.dims[3])
        self.channels = channels
        let groupWidth = max(input.block, 8)
        groups = (channels + groupWidth - 1) / groupWidth
        units = groupWidth / 8
        (x, y) = (input, output)
        divisor = Float(kh * kw)
        tilesExactly = stride == kh && stride == kw && padding == 0 && height % kh == 0 && width % kw == 0
    }

    var items: Int { images * groups }
    var inputUnits: Int { items * units * height * width }
    var outputUnits: Int { items * units * outHeight * outWidth }

    /// Where group g of image n starts; its unit s lies 8·s floats further (a block of 16 holds two
    /// units, a plain layout's group only one).
    @inline(__always) func base(_ layout: ChannelLayout, _ n: Int, _ g: Int) -> Int {
        layout.block == 1 ? n * layout.sN + 8 * g * layout.sC : n * layout.sN + g * layout.sC
    }

    /// The lanes of group g's units in a layout: plain layouts may end with fewer than 8 channels;
    /// a block's padding lanes hold zeros and are carried along (they stay zero).
    @inline(__always) func lanes(_ layout: ChannelLayout, _ g: Int) -> Lanes {
        layout.block == 1 ? Lanes(count: min(8, channels - 8 * g), stride: layout.sC) : Lanes(count: 8, stride: 1)
    }

    /// Input rows (or columns) under the window of output index o: [o·s − p, o·s − p + k) ∩ [0, size).
    @inline(__always) func window(_ o: Int, kernel: Int, size: Int) -> Range<Int> {
        let start = o * stride - padding
        return max(start, 0)..<min(start + kernel, size)
    }

    /// y[o] = max over window(o) of x, per lane; the first maximum in row-major window order wins,
    /// and a NaN wins (PyTorch: `val > maxval || isnan(val)`). `argmax[o]` gets its window index
    /// (ih − top)·kw + (iw − left) with top = o_h·s − p, left = o_w·s − p, held as a Float (exact:
    /// windows are small) so that it blends under the same mask as the values.
    func maxForward(_ item: Int, _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>,
                    _ argmax: UnsafeMutablePointer<SIMD8<Float>>?) {
        let (n, g) = item.quotientAndRemainder(dividingBy: groups)
        let (xl, yl) = (lanes(x, g), lanes(y, g))
        let (from, to) = (input + base(x, n, g), output + base(y, n, g))
        var record = argmax.map { $0 + item * outHeight * outWidth * units }  // argmax is in loop order
        for oh in 0..<outHeight {
            let rows = window(oh, kernel: kh, size: height), top = oh * stride - padding
            for ow in 0..<outWidth {
                let cols = window(ow, kernel: kw, size: width), left = ow * stride - padding
                for s in 0..<units {
                    var row = from + 8 * s + rows.lowerBound * x.sH + cols.lowerBound * x.sW
                    var rowIndex = SIMD8<Float>(repeating: Float((rows.lowerBound - top) * kw + cols.lowerBound - left))
                    var maximum = WindowMaximum(firstIndex: rowIndex)
                    for _ in rows {
                        var p = row, index = rowIndex
                        for _ in cols {
                            maximum.include(xl.load(p), at: index)
                            p += x.sW
                            index += 1
                        }
                        row += x.sH
                        rowIndex += Float(kw)
                    }
                    yl.store(to + 8 * s + oh * y.sH + ow * y.sW, maximum.value)
                    if let r = record {
                        r.pointee = maximum.index
                        record = r + 1
                    }
                }
            }
        }
    }

    /// y[o] = Σ over window(o) of x / k² (padding adds zeros), summed in row-major window order.
    func averageForward(_ item: Int, _ input: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>) {
        let (n, g) = item.quotientAndRemainder(dividingBy: groups)
        let (xl, yl) = (lanes(x, g), lanes(y, g))
        let (from, to) = (input + base(x, n, g), output + base(y, n, g))
        let divisor = SIMD8<Float>(repeating: divisor)
        for oh in 0..<outHeight {
            let rows = window(oh, kernel: kh, size: height)
            for ow in 0..<outWidth {
                let cols = window(ow, kernel: kw, size: width)
                for s in 0..<units {
                    var row = from + 8 * s + rows.lowerBound * x.sH + cols.lowerBound * x.sW
                    var sum = SIMD8<Float>()
                    for _ in rows {
                        var p = row
                        for _ in cols {
                            sum += xl.load(p)
                            p += x.sW
                        }
                        row += x.sH
                    }
                    yl.store(to + 8 * s + oh * y.sH + ow * y.sW, sum / divisor)
                }
            }
        }
    }

    // Backward scatters each output's gradient over its window into dx, zeroed first (positions in
    // no window get nothing; max pooling skips that pass when the windows tile the input exactly);
    // overlapping windows add, in row-major output order as PyTorch adds them.

    /// dx[i] += dy[o] where i is the position of output o's maximum (per lane; other positions add 0).
    func maxBackward(_ item: Int, _ dy: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                     _ argmax: UnsafeMutablePointer<SIMD8<Float>>) {
        let (n, g) = item.quotientAndRemainder(dividingBy: groups)
        let (xl, yl) = (lanes(x, g), lanes(y, g))
        let (from, to) = (dy + base(y, n, g), dx + base(x, n, g))
        if !tilesExactly { clear(to, xl) }
        var record = argmax + item * outHeight * outWidth * units
        for oh in 0..<outHeight {
            let rows = window(oh, kernel: kh, size: height), top = oh * stride - padding
            for ow in 0..<outWidth {
                let cols = window(ow, kernel: kw, size: width), left = ow * stride - padding
                for s in 0..<units {
                    let d = yl.load(from + 8 * s + oh * y.sH + ow * y.sW), at = record.pointee
                    var row = to + 8 * s + rows.lowerBound * x.sH + cols.lowerBound * x.sW
                    var rowIndex = SIMD8<Float>(repeating: Float((rows.lowerBound - top) * kw + cols.lowerBound - left))
                    for _ in rows {
                        var p = row, index = rowIndex
                        for _ in cols {
                            let share = d.replacing(with: 0, where: at .!= index)
                            xl.store(p, (tilesExactly ? SIMD8() : xl.load(p)) + share)  // 0 + share: the bits of a cleared sum
                            p += x.sW
                            index += 1
                        }
                        row += x.sH
                        rowIndex += Float(kw)
                    }
                    record += 1
                }
            }
        }
    }

    /// dx[i] += dy[o] / k² for every position i in window(o).
    func averageBackward(_ item: Int, _ dy: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let (n, g) = item.quotientAndRemainder(dividingBy: groups)
        let (xl, yl) = (lanes(x, g), lanes(y, g))
        let (from, to) = (dy + base(y, n, g), dx + base(x, n, g))
        let divisor = SIMD8<Float>(repeating: divisor)
        clear(to, xl)
        for oh in 0..<outHeight {
            let rows = window(oh, kernel: kh, size: height)
            for ow in 0..<outWidth {
                let cols = window(ow, kernel: kw, size: width)
                for s in 0..<units {
                    let share = yl.load(from + 8 * s + oh * y.sH + ow * y.sW) / divisor
                    var row = to + 8 * s + rows.lowerBound * x.sH + cols.lowerBound * x.sW
                    for _ in rows {
                        var p = row
                        for _ in cols {
                            xl.store(p, xl.load(p) + share)
                            p += x.sW
                        }
                        row += x.sH
                    }
                }
            }
        }
    }

    /// Zeroes one group's input-shaped values.
    private func clear(_ group: UnsafeMutablePointer<Float>, _ lanes: Lanes) {
        for h in 0..<height {
            for w in 0..<width {
                for s in 0..<units { lanes.store(group + 8 * s + h * x.sH + w * x.sW, SIMD8()) }
            }
        }
    }
}

/// A window's running maximum per lane and where in the window it lies, by PyTorch's rule: the
/// first maximum in window order wins, and a NaN wins (`val > maxval || isnan(val)`). Shared by the
/// pooling loops and the convolutions that pool as they write, so both give the same bits.
struct WindowMaximum {
    private(set) var value = SIMD8<Float>(repeating: -.infinity)
    private(set) var index: SIMD8<Float>

    /// `firstIndex`: the window index of the first value to come (kept if no value beats −∞).
    @inline(__always) init(firstIndex: SIMD8<Float>) { index = firstIndex }

    @inline(__always) mutating func include(_ v: SIMD8<Float>, at i: SIMD8<Float>) {
        let wins = v .> value .| v .!= v
        value.replace(with: v, where: wins)
        index.replace(with: i, where: wins)
    }
}

/// The lanes of one unit: `count` channels (8, fewer at the end of a plain layout) `stride` floats
/// apart. Missing lanes load as 0 and are not stored.
struct Lanes {
    let count: Int, stride: Int

    @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        if count == 8 && stride == 1 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
        return gather(p)
    }

    @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
        if count == 8 && stride == 1 { return UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self) }
        scatter(p, v)
    }

    // Out of line, so the contiguous path keeps its vectors in registers.
    @inline(never) private func gather(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for lane in 0..<count { v[lane] = p[lane * stride] }
        return v
    }

    @inline(never) private func scatter(_ p: UnsafeMutablePointer<Float>, _ v: SIMD8<Float>) {
        for lane in 0..<count { p[lane * stride] = v[lane] }
    }
}
