import CDNNL
import CKernels

/// 3×3 convolutions with stride 1 and padding 1 by Winograd's minimal filtering F(m×m, 3×3)
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each m×m output tile
/// comes from an α×α input tile d (α = m + 2, stride m, overlapping by 2) and each 3×3 filter g as
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// (the matrices are `F2x2`'s and `F4x4`'s), so per tile and channel pair the 9m² multiply-adds of
/// a direct convolution become α², done as α² matrix products over channels, one per element ε of
/// the transformed tile: M_ε[t, k] = Σ_c V_ε[t, c] · U_ε[c, k] with V = Bᵀ d B and U = G g Gᵀ.
/// Results equal a direct convolution's up to float rounding (F(4×4)'s larger constants round a
/// little more). The gradients are the same algebra transposed, with Z = A dY Aᵀ (dY's m×m tile):
/// - input: a 3×3 padding-1 convolution's adjoint is the convolution of dY with each filter rotated
///   by 180° and the channel roles swapped, so it runs the forward path;
/// - weights: dg = Gᵀ [ Σ_t Z ⊙ (Bᵀ d B) ] G, i.e. dU_ε[c, k] = Σ_t V_ε[t, c] · Z_ε[t, k].
///
/// oneDNN 2.6 has Winograd kernels for AVX-512 only; on AVX2 its direct kernels do 2.25× the
/// multiplications of F(2×2) and 4× those of F(4×4), at 166–188 GFLOP/s on two cores for vgg-small's
/// layers, about what a register-blocked FMA loop reaches (83 per core), so only fewer
/// multiplications could make them faster. Activations are nChw8c: 8 channels per vector.
enum Winograd {
    /// Whether a convolution can run by Winograd's algorithm in blocks of `channels` channels:
    /// 3×3, stride 1, padding 1, and channel counts that are multiples of it both ways. optlab's
    /// products take whole vectors of columns (forward: out channels; input gradient: in), so 8
    /// channels at a time with AVX2 (airbench94's 24-channel whitened input too) and 16 with
    /// AVX-512; oneDNN's Winograd takes 16.
    static func applies(kernel: Int, stride: Int, padding: Int, inChannels: Int, outChannels: Int, channels: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && inChannels % channels == 0 && outChannels % channels == 0
    }

    /// The output tiles of a batch, `size` × `size` pixels each, numbered image by image, row by row.
    struct Tiles {
        let images: Int, height: Int, width: Int, size: Int
        var rows: Int { (height + size - 1) / size }
        var columns: Int { (width + size - 1) / size }
        var count: Int { images * rows * columns }

        /// `body(row, image, y, x)` for each tile of `tiles` in order, its row in the range, image and
        /// top-left output pixel (its input tile starts one pixel up and left).
        @inline(__always)
        func forEach(_ tiles: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
            let perImage = rows * columns
            var (image, y, x) = (tiles.lowerBound / perImage, size * (tiles.lowerBound % perImage / columns), size * (tiles.lowerBound % columns))
            for row in 0..<tiles.count {
                body(row, image, y, x)
                x += size
                if x >= width { (x, y) = (0, y + size) }
                if y >= height { (y, image) = (0, image + 1) }
            }
        }
    }

    /// Tiles per block: a block's transformed input and products (α² · T · (C + K) floats) should
    /// stay in the core's cache; more tiles per block re-read U from memory less often. The weight
    /// gradient adds each block into all of dU (α² · C · K floats, 16 MB at 512 channels and α = 4),
    /// so it takes up to 192 tiles per block when dU outgrows the cache (measured at 512 channels,
    /// one core, α = 4: 34 GFLOP/s at 24 tiles, 49 at 192).
    static func blockTiles<T: WinogradTile>(_: T.Type, _ inChannels: Int, _ outChannels: Int, weightGradient: Bool = false) -> Int {
        let cached = min(96, max(24, 98304 / T.elements / (inChannels + outChannels) / 6 * 6))
        return weightGradient ? max(cached, min(192, inChannels * outChannels * T.elements / 16384 / 6 * 6)) : cached
    }

    /// Floats between the α² matrices of a block's tiles: padded by a cache line, since planes a
    /// multiple of 4 KiB apart (as unpadded blocks are) make the CPU's loads alias earlier stores.
    static func planeSize(_ tiles: Int, _ channels: Int) -> Int { tiles * channels + 16 }

    // MARK: - Transforms (one 8-channel vector at a time)

    typealias Vector = SIMD8<Float>

    /// U_ε[i, o] = (G g Gᵀ)_ε for a convolution from `inputs` to `outputs` channels, laid out
    /// [α²][inputs][outputs]. Forward: g = w[o, i] of weights w [outputs, inputs, 3, 3]. Adjoint
    /// (input gradient): g = w[i, o] rotated by 180°, w being the forward's [inputs, outputs, 3, 3].
    static func transformWeights<T: WinogradTile>(_: T.Type, _ w: UnsafePointer<Float>, inputs: Int, outputs: Int, adjoint: Bool,
                                                  into u: UnsafeMutablePointer<Float>) {
        let α = T.alpha
        parallelFor(inputs) { i in
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: T.elements) { t in
                let t = t.baseAddress!
                for o in stride(from: 0, to: outputs, by: 8) {
                    for tap in 0..<9 {
                        var v = Vector()
                        for lane in 0..<8 {
                            v[lane] = adjoint ? w[(i * outputs + o + lane) * 9 + 8 - tap] : w[((o + lane) * inputs + i) * 9 + tap]
                        }
                        t[tap / 3 * α + tap % 3] = v
                    }
                    // G along the filter's columns, then along the rows.
                    for column in 0..<3 { T.filter(t + column, α) }
                    for row in 0..<α { T.filter(t + row * α, 1) }
                    for e in 0..<T.elements { store(t[e], u + (e * inputs + i) * outputs + o) }
                }
            }
        }
    }

    /// V_ε[t, c] = (Bᵀ d B)_ε for `tiles` of x (`channels` channels; zero outside the image): tile t
    /// of the range is row t of each of the α² [tiles × channels] matrices of v, which start `plane`
    /// floats apart.
    static func transformInput<T: WinogradTile>(_: T.Type, _ x: some TileSource, channels: Int, _ geometry: Tiles,
                                                _ tiles: Range<Int>, into v: UnsafeMutablePointer<Float>, plane: Int) {
        let (h, w, α) = (geometry.height, geometry.width, T.alpha)
        transformTiles(T.self, channels: channels, geometry, tiles, into: v, plane: plane) { channelPlane, y0, x0, d in
            if y0 >= 1 && y0 + T.size < h && x0 >= 1 && x0 + T.size < w {
                for i in 0..<α { for j in 0..<α { d[α * i + j] = x.load(channelPlane, y0 - 1 + i, x0 - 1 + j) } }
            } else {
                for i in 0..<α {
                    let y = y0 - 1 + i
                    for j in 0..<α {
                        let xx = x0 - 1 + j
                        d[α * i + j] = y >= 0 && y < h && xx >= 0 && xx < w ? x.load(channelPlane, y, xx) : Vector()
                    }
                }
            }
            for j in 0..<α { T.input(d + j, α) }
            for i in 0..<α { T.input(d + α * i, 1) }
        }
    }

    /// Z_ε[t, k] = (A dY Aᵀ)_ε for `tiles` of dy (outputs outside the image contribute 0), laid out
    /// as `transformInput` lays out V.
    static func transformGradient<T: WinogradTile>(_: T.Type, _ dy: some TileSource, channels: Int, _ geometry: Tiles,
                                                   _ tiles: Range<Int>, into z: UnsafeMutablePointer<Float>, plane: Int) {
        let (h, w, α) = (geometry.height, geometry.width, T.alpha)
        transformTiles(T.self, channels: channels, geometry, tiles, into: z, plane: plane) { channelPlane, y0, x0, d in
            for i in 0..<T.size {
                for j in 0..<T.size {
                    d[α * i + j] = y0 + i < h && x0 + j < w ? dy.load(channelPlane, y0 + i, x0 + j) : Vector()
                }
            }
            for j in 0..<T.size { T.gradient(d + j, α) }
            for i in 0..<α { T.gradient(d + α * i, 1) }
        }
    }

    /// For each tile of `tiles` and 8-channel block: `transform(channelPlane, y, x, d)` leaves the
    /// tile's α² transformed vectors in d (`channelPlane` is image · channels/8 + block, (y, x) the
    /// tile's top-left output pixel); they are stored as the tile's row of the α² [tiles × channels]
    /// matrices of `out`, `plane` floats apart.
    @inline(__always)
    private static func transformTiles<T: WinogradTile>(_: T.Type, channels: Int, _ geometry: Tiles,
                                                        _ tiles: Range<Int>, into out: UnsafeMutablePointer<Float>, plane: Int,
                                                        _ transform: (Int, Int, Int, UnsafeMutablePointer<Vector>) -> Void) {
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: T.elements) { d in
            let d = d.baseAddress!
            // Channel blocks outermost: consecutive tiles then read neighbouring pixels of one plane.
            for block in 0..<channels / 8 {
                geometry.forEach(tiles) { row, image, y0, x0 in
                    transform(image * channels / 8 + block, y0, x0, d)
                    for e in 0..<T.elements { store(d[e], out + (e * plane + row * channels + block * 8)) }
                }
            }
        }
    }

    /// Where a 2×2 max pool of stride 2 that runs inside the output transform writes (a
    /// `Pool2d.fusedPlan`'s buffers): the pooled output (nChw8c, half the height and width) and, for
    /// its backward, each pooled value's place in its window, in the pool's own order.
    struct Pooling {
        let output: UnsafeMutablePointer<Float>
        let argmax: UnsafeMutablePointer<SIMD8<Float>>
    }

    /// Y = Aᵀ M A (+ bias) for `tiles`, written into y (nChw8c) where the tile lies in the image, or
    /// with `pooling` its 2×2 maxima (the height and width even, so no window straddles two tiles),
    /// which spares the unpooled output's trip through memory and back.
    static func transformOutput<T: WinogradTile>(_: T.Type, _ m: UnsafePointer<Float>, channels: Int, plane: Int,
                                                 bias: UnsafePointer<Float>?, _ geometry: Tiles, _ tiles: Range<Int>,
                                                 into y: UnsafeMutablePointer<Float>, pooling: Pooling?) {
        let (h, w, α) = (geometry.height, geometry.width, T.alpha)
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: T.elements) { r in
            let r = r.baseAddress!
            for block in 0..<channels / 8 {
                let b = bias.map { load($0 + block * 8) } ?? Vector()
                geometry.forEach(tiles) { row, image, y0, x0 in
                    for e in 0..<T.elements { r[e] = load(m + (e * plane + row * channels + block * 8)) }
                    for j in 0..<α { T.output(r + j, α) }
                    let (rows, columns) = (min(T.size, h - y0), min(T.size, w - x0))
                    for i in 0..<rows { T.output(r + α * i, 1) }
                    let channelPlane = image * channels / 8 + block
                    if let pooling {
                        let (ph, pw) = (h / 2, w / 2)
                        for i in stride(from: 0, to: rows, by: 2) {
                            for j in stride(from: 0, to: columns, by: 2) {
                                var maximum = WindowMaximum(firstIndex: Vector())
                                for k in 0..<4 { maximum.include(r[α * (i + k / 2) + j + k % 2] + b, at: Vector(repeating: Float(k))) }
                                let o = (channelPlane * ph + (y0 + i) / 2) * pw + (x0 + j) / 2
                                store(maximum.value, pooling.output + o * 8)
                                pooling.argmax[o] = maximum.index
                            }
                        }
                    } else {
                        let target = y + channelPlane * h * w * 8
                        for i in 0..<rows {
                            for j in 0..<columns { store(r[α * i + j] + b, target + ((y0 + i) * w + x0 + j) * 8) }
                        }
                    }
                }
            }
        }
    }

    /// dW[k, c] = Gᵀ dU[c, k] G for dU [α²][C][K], into PyTorch's [K, C, 3, 3].
    static func transformWeightGradient<T: WinogradTile>(_: T.Type, _ du: UnsafePointer<Float>, inputs: Int, outputs: Int,
                                                         into dw: UnsafeMutablePointer<Float>) {
        let α = T.alpha
        parallelFor(inputs) { c in
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: T.elements) { t in
                let t = t.baseAddress!
                for k in stride(from: 0, to: outputs, by: 8) {
                    for e in 0..<T.elements { t[e] = load(du + (e * inputs + c) * outputs + k) }
                    for j in 0..<α { T.filterGradient(t + j, α) }
                    for i in 0..<3 {
                        T.filterGradient(t + α * i, 1)
                        for lane in 0..<8 {
                            let base = ((k + lane) * inputs + c) * 9 + 3 * i
                            (dw[base], dw[base + 1], dw[base + 2]) = (t[α * i][lane], t[α * i + 1][lane], t[α * i + 2][lane])
                        }
                    }
                }
            }
        }
    }

    // MARK: - Products

    /// c[i, j] (+)= Σ_r a[i·aRow + r·aDepth] · b[r·bRow + j] for i < rows, j < columns (a multiple
    /// of 16), by `CKernels`' register-blocked kernel for `isa`. Each element's terms are fused
    /// multiply-adds in order of r at either width, so the ISA does not change a bit of the result.
    static func multiply(_ isa: KernelISA, rows: Int, columns: Int, depth: Int,
                         _ a: UnsafePointer<Float>, aRow: Int, aDepth: Int,
                         _ b: UnsafePointer<Float>, bRow: Int,
                         _ c: UnsafeMutablePointer<Float>, cRow: Int, accumulate: Bool) {
        switch isa {
        case .avx2:
            optlab_multiply_8lanes(rows, columns, depth, a, aRow, aDepth, b, bRow, c, cRow, accumulate)
        case .avx512:
            #if arch(x86_64)
            optlab_multiply_16lanes(rows, columns, depth, a, aRow, aDepth, b, bRow, c, cRow, accumulate)
            #else
            preconditionFailure("AVX-512 kernels on a CPU that is not x86-64")  // `KernelISA.available` excludes it
            #endif
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>) -> Vector { load(UnsafePointer(p)) }
    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }
}

// MARK: - Whole layers

extension Winograd {
    /// y = x ⋆ g (+ bias) from transformed weights u ([α²][inputs][outputs]). Blocks of tiles are
    /// split across the threads in contiguous runs; each thread has its own V and M blocks.
    static func convolve<T: WinogradTile>(_: T.Type, _ isa: KernelISA, _ x: some TileSource, inputs: Int,
                                          _ u: UnsafePointer<Float>, outputs: Int, bias: UnsafePointer<Float>?,
                                          _ geometry: Tiles, into y: UnsafeMutablePointer<Float>, pooling: Pooling? = nil,
                                          _ context: ExecutionContext) {
        let tilesPerBlock = blockTiles(T.self, inputs, outputs)
        let blocks = (geometry.count + tilesPerBlock - 1) / tilesPerBlock
        let workers = min(blocks, Threads.count)
        let (vPlane, mPlane) = (planeSize(tilesPerBlock, inputs), planeSize(tilesPerBlock, outputs))
        let scratch = (0..<workers).map {
            (v: context.floats(1 + 3 * $0, T.elements * vPlane), m: context.floats(2 + 3 * $0, T.elements * mPlane))
        }
        parallelFor(workers) { worker in
            let (v, m) = scratch[worker]
            for block in blocks * worker / workers ..< blocks * (worker + 1) / workers {
                let tiles = block * tilesPerBlock ..< min(geometry.count, (block + 1) * tilesPerBlock)
                transformInput(T.self, x, channels: inputs, geometry, tiles, into: v, plane: vPlane)
                for e in 0..<T.elements {
                    multiply(isa, rows: tiles.count, columns: outputs, depth: inputs,
                             v + e * vPlane, aRow: inputs, aDepth: 1,
                             u + e * inputs * outputs, bRow: outputs,
                             m + e * mPlane, cRow: outputs, accumulate: false)
                }
                transformOutput(T.self, m, channels: outputs, plane: mPlane, bias: bias, geometry, tiles, into: y, pooling: pooling)
            }
        }
    }

    /// dW = Gᵀ [Σ_t Z ⊙ V] G for input x (`inputs` channels) and output gradient dy, into weights
    /// gradient dw ([outputs, inputs, 3, 3]). Each thread sums its tiles into its own dU; the sums
    /// are added in thread order, so a thread count gives the same bits every run.
    static func weightGradient<T: WinogradTile>(_: T.Type, _ isa: KernelISA, _ x: some TileSource, inputs: Int,
                                                _ dy: some TileSource, outputs: Int, _ geometry: Tiles,
                                                into dw: UnsafeMutablePointer<Float>, _ context: ExecutionContext) {
        let tilesPerBlock = blockTiles(T.self, inputs, outputs, weightGradient: true)
        let blocks = (geometry.count + tilesPerBlock - 1) / tilesPerBlock
        let workers = max(1, min(blocks, Threads.count))  // one writes zeros for an empty batch
        let (vPlane, mPlane) = (planeSize(tilesPerBlock, inputs), planeSize(tilesPerBlock, outputs))
        let products = T.elements * inputs * outputs
        let scratch = (0..<workers).map {
            (v: context.floats(1 + 3 * $0, T.elements * vPlane), z: context.floats(2 + 3 * $0, T.elements * mPlane),
             du: context.floats(3 + 3 * $0, products))
        }
        parallelFor(workers) { worker in
            let (v, z, du) = scratch[worker]
            du.initialize(repeating: 0, count: products)
            for block in blocks * worker / workers ..< blocks * (worker + 1) / workers {
                let tiles = block * tilesPerBlock ..< min(geometry.count, (block + 1) * tilesPerBlock)
                transformInput(T.self, x, channels: inputs, geometry, tiles, into: v, plane: vPlane)
                transformGradient(T.self, dy, channels: outputs, geometry, tiles, into: z, plane: mPlane)
                for e in 0..<T.elements {
                    multiply(isa, rows: inputs, columns: outputs, depth: tiles.count,
                             v + e * vPlane, aRow: 1, aDepth: inputs,
                             z + e * mPlane, bRow: outputs,
                             du + e * inputs * outputs, cRow: outputs, accumulate: true)
                }
            }
        }
        let total = scratch[0].du
        if workers > 1 {
            parallelFor(T.elements * inputs) { row in
                for worker in 1..<workers {
                    for k in stride(from: row * outputs, to: (row + 1) * outputs, by: 8) {
                        store(load(total + k) + load(scratch[worker].du + k), total + k)
                    }
                }
            }
        }
        transformWeightGradient(T.self, total, inputs: inputs, outputs: outputs, into: dw)
    }

    /// db[k] = Σ over images and pixels of dy[·, k], pixels in row-major order.
    static func biasGradient(_ dy: some TileSource, channels: Int, _ geometry: Tiles, into db: UnsafeMutablePointer<Float>) {
        parallelFor(channels / 8) { block in
            var sum = Vector()
            for image in 0..<geometry.images {
                for y in 0..<geometry.height {
                    for x in 0..<geometry.width { sum += dy.load(image * channels / 8 + block, y, x) }
                }
            }
            store(sum, db + block * 8)
        }
    }
}

/// One input shape's forward and backward of a `Conv2d` that runs by `Winograd`, on activations in
/// nChw8c (other layouts are reordered on the way in). The transformed weights and tiles live in
/// the execution context's scratch, shared by all layers, so this keeps no copy of the weights.
/// With a max pool after it that can run inside the output transform (`Pool2d.fusedPlan`), its
/// output is the pooled one, and its backward takes that output's gradient.
final class WinogradPlan: LayerPlan {
    let output: Memory
    /// The convolution's own output: `output`'s layout, or the unpooled one when it pools.
    let convolutionOutput: Desc
    private let pooling: Pool2d.Plan?
    /// Unowned: the layer owns its plans, and a strong reference back would keep both alive.
    private unowned let conv: Conv2d
    private let isa: KernelISA
    /// m of the tiles (`Winograd.tileSize`); the transforms are specialised for each.
    let tileSize: Int
    private let geometry: Winograd.Tiles
    private let input: Memory
    private let inputReorder: Call?
    private var gradient: (dy: Memory, conformed: Memory, reorder: Call?)?
    private var inputGradient: Memory?

    init(_ conv: Conv2d, isa: KernelISA, input x: Memory, pool: Pool2d?, outputMemory: (Desc) -> Memory) {
        self.conv = conv
        self.isa = isa
        let s = x.shape
        tileSize = Winograd.tileSize(height: s[2], width: s[3])
        geometry = Winograd.Tiles(images: s[0], height: s[2], width: s[3], size: tileSize)
        (input, inputReorder) = conform(x, to: desc(s, dnnl_aBcd8b))
        convolutionOutput = desc([s[0], conv.outChannels, s[2], s[3]], dnnl_aBcd8b)
        pooling = pool?.fusedPlan(convolutionOutput: convolutionOutput)
        output = pooling?.output ?? outputMemory(convolutionOutput)
    }

    /// The algorithm as `optlab bench --explain` names it: its tile and the products' ISA.
    var name: String { "winograd-f\(tileSize)x\(tileSize)-\(isa.rawValue)" }

    func runForward() {
        Threads.use(Threads.count)
        if let inputReorder { run([inputReorder]) }
        tileSize == F4x4.size ? forward(F4x4.self) : forward(F2x2.self)
    }

    private func forward<T: WinogradTile>(_: T.Type) {
        let context = ExecutionContext.current
        let (c, k) = (conv.inChannels, conv.outChannels)
        let u = context.floats(0, T.elements * c * k)
        Winograd.transformWeights(T.self, conv.weight.value.baseAddress!, inputs: c, outputs: k, adjoint: false, into: u)
        Winograd.convolve(T.self, isa, Winograd.Stored(input.floats.baseAddress!, geometry), inputs: c, u, outputs: k,
                          bias: conv.bias?.value.baseAddress,
                          geometry, into: output.floats.baseAddress!,
                          pooling: pooling.map { .init(output: $0.output.floats.baseAddress!, argmax: $0.argmax!.baseAddress!) }, context)
    }

    /// dy is the gradient of `output`: the pooled output's when it pools (`Pool2d` passes it
    /// through), which the transforms unpool as they read it.
    func runBackward(_ dy: Memory, inputGradient wanted: Bool) -> Memory? {
        Threads.use(Threads.count)
        if gradient?.dy !== dy {
            let (conformed, reorder) = conform(dy, to: pooling?.output.desc ?? convolutionOutput)
            gradient = (dy, conformed, reorder)
        }
        let (_, conformed, reorder) = gradient!
        if let reorder { run([reorder]) }
        let g = conformed.floats.baseAddress!
        guard let pooling else { return backward(Winograd.Stored(g, geometry), inputGradient: wanted) }
        return backward(Winograd.Unpooled(pooled: g, argmax: pooling.argmax!.baseAddress!, height: geometry.height / 2,
                                          width: geometry.width / 2), inputGradient: wanted)
    }

    private func backward(_ g: some TileSource, inputGradient wanted: Bool) -> Memory? {
        tileSize == F4x4.size ? backward(F4x4.self, g, inputGradient: wanted) : backward(F2x2.self, g, inputGradient: wanted)
    }

    private func backward<T: WinogradTile>(_: T.Type, _ g: some TileSource, inputGradient wanted: Bool) -> Memory? {
        let context = ExecutionContext.current
        let (c, k) = (conv.inChannels, conv.outChannels)
        Winograd.weightGradient(T.self, isa, Winograd.Stored(input.floats.baseAddress!, geometry), inputs: c, g, outputs: k,
                                geometry, into: conv.weight.grad!.baseAddress!, context)
        if let bias = conv.bias { Winograd.biasGradient(g, channels: k, geometry, into: bias.grad!.baseAddress!) }
        guard wanted else { return nil }
        let dx = inputGradient ?? Memory(input.desc)
        inputGradient = dx
        let u = context.floats(0, T.elements * c * k)
        Winograd.transformWeights(T.self, conv.weight.value.baseAddress!, inputs: k, outputs: c, adjoint: true, into: u)
        Winograd.convolve(T.self, isa, g, inputs: k, u, outputs: c, bias: nil, geometry, into: dx.floats.baseAddress!, context)
        return dx
    }
}

/// An activation (nChw8c) as the transforms read it: the 8 channels of block `channelPlane`
/// (image · channels/8 + block) at pixel (y, x), which lies in the image.
protocol TileSource {
    func load(_ channelPlane: Int, _ y: Int, _ x: Int) -> Winograd.Vector
}

extension Winograd {
    /// An activation stored whole: planes of `height` × `width` pixels.
    struct Stored: TileSource {
        let base: UnsafePointer<Float>, height: Int, width: Int

        init(_ base: UnsafePointer<Float>, _ geometry: Tiles) { (self.base, height, width) = (base, geometry.height, geometry.width) }

        @inline(__always) func load(_ channelPlane: Int, _ y: Int, _ x: Int) -> Vector {
            Winograd.load(base + ((channelPlane * height + y) * width + x) * 8)
        }
    }

    /// The gradient of a 2×2 max pool's input (stride 2, even sizes), read from the pool's output
    /// gradient and argmax as the transforms need it instead of being written out whole and read
    /// back: each window's gradient at its maximum, 0 + it there (the bits `Windows.maxBackward`
    /// writes) and 0 at the window's three other pixels.
    struct Unpooled: TileSource {
        let pooled: UnsafePointer<Float>, argmax: UnsafePointer<SIMD8<Float>>
        /// The pooled height and width: half the convolution's.
        let height: Int, width: Int

        @inline(__always) func load(_ channelPlane: Int, _ y: Int, _ x: Int) -> Vector {
            let o = (channelPlane * height + y / 2) * width + x / 2
            let here = Vector(repeating: Float(y % 2 * 2 + x % 2))
            return Vector() + Winograd.load(pooled + o * 8).replacing(with: 0, where: argmax[o] .!= here)
        }
    }
}

/// One size of Winograd's tiles: its 1-D transforms, each applied in place to the vectors at
/// t[0], t[step], t[2·step], … (a column of an α×α tile with step α, a row with step 1).
protocol WinogradTile {
    /// m: output pixels along a tile's side.
    static var size: Int { get }
    /// G: a filter's 3 taps → α.
    static func filter(_ t: UnsafeMutablePointer<Winograd.Vector>, _ step: Int)
    /// Bᵀ: α inputs → α.
    static func input(_ t: UnsafeMutablePointer<Winograd.Vector>, _ step: Int)
    /// Aᵀ: α products → m outputs.
    static func output(_ t: UnsafeMutablePointer<Winograd.Vector>, _ step: Int)
    /// A: m output gradients → α.
    static func gradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ step: Int)
    /// Gᵀ: α products → the filter gradient's 3 taps.
    static func filterGradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ step: Int)
}

extension WinogradTile {
    /// α = m + 2: input pixels along a tile's side.
    static var alpha: Int { size + 2 }
    /// α²: transformed values per tile, each one matrix product.
    static var elements: Int { alpha * alpha }
}

/// F(2×2, 3×3): 16 multiplications per 4 outputs (2.25× fewer than direct); only adds and halves.
///
///     Bᵀ = ⎡1  0 -1  0⎤   G = ⎡ 1   0   0 ⎤   Aᵀ = ⎡1 1  1  0⎤
///          ⎢0  1  1  0⎥       ⎢1/2 1/2 1/2⎥        ⎣0 1 -1 -1⎦
///          ⎢0 -1  1  0⎥       ⎢1/2 -1/2 1/2⎥
///          ⎣0  1  0 -1⎦       ⎣ 0   0   1 ⎦
enum F2x2: WinogradTile {
    static var size: Int { 2 }

    @inline(__always) static func filter(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b, c) = (t[0], t[s], t[2 * s])
        (t[s], t[2 * s], t[3 * s]) = (0.5 * (a + b + c), 0.5 * (a - b + c), c)
    }

    @inline(__always) static func input(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b, c, d) = (t[0], t[s], t[2 * s], t[3 * s])
        (t[0], t[s], t[2 * s], t[3 * s]) = (a - c, b + c, c - b, b - d)
    }

    @inline(__always) static func output(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b, c, d) = (t[0], t[s], t[2 * s], t[3 * s])
        (t[0], t[s]) = (a + b + c, b - c - d)
    }

    @inline(__always) static func gradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b) = (t[0], t[s])
        (t[s], t[2 * s], t[3 * s]) = (a + b, a - b, -b)
    }

    @inline(__always) static func filterGradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b, c, d) = (t[0], t[s], t[2 * s], t[3 * s])
        (t[0], t[s], t[2 * s]) = (a + 0.5 * (b + c), 0.5 * (b - c), 0.5 * (b + c) + d)
    }
}

/// F(4×4, 3×3): 36 multiplications per 16 outputs (4× fewer than direct), as oneDNN's AVX-512
/// Winograd; its transforms scale by up to 8 and 1/24, so it rounds a little more than F(2×2).
///
///     Bᵀ = ⎡4  0 -5  0  1  0⎤   G = ⎡ 1/4    0     0  ⎤   Aᵀ = ⎡1 1  1 1  1 0⎤
///          ⎢0 -4 -4  1  1  0⎥       ⎢-1/6  -1/6  -1/6 ⎥        ⎢0 1 -1 2 -2 0⎥
///          ⎢0  4 -4 -1  1  0⎥       ⎢-1/6   1/6  -1/6 ⎥        ⎢0 1  1 4  4 0⎥
///          ⎢0 -2 -1  2  1  0⎥       ⎢1/24  1/12   1/6 ⎥        ⎣0 1 -1 8 -8 1⎦
///          ⎢0  2 -1 -2  1  0⎥       ⎢1/24 -1/12   1/6 ⎥
///          ⎣0  4  0 -5  0  1⎦       ⎣  0     0     1  ⎦
enum F4x4: WinogradTile {
    static var size: Int { 4 }

    @inline(__always) static func filter(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (a, b, c) = (t[0], t[s], t[2 * s])
        let (outer, inner) = (a + c, (1 / 24) * a + (1 / 6) * c)
        (t[0], t[s], t[2 * s], t[3 * s], t[4 * s], t[5 * s]) =
            (0.25 * a, (-1 / 6) * (outer + b), (-1 / 6) * (outer - b), inner + (1 / 12) * b, inner - (1 / 12) * b, c)
    }

    @inline(__always) static func input(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (d0, d1, d2, d3, d4, d5) = (t[0], t[s], t[2 * s], t[3 * s], t[4 * s], t[5 * s])
        let (sum, difference, even, odd) = (d3 + d4, d4 - d3, d4 - d2, 2 * (d3 - d1))
        (t[0], t[s], t[2 * s], t[3 * s], t[4 * s], t[5 * s]) =
            (4 * d0 - 5 * d2 + d4, sum - 4 * (d1 + d2), difference + 4 * (d1 - d2), even + odd, even - odd, 4 * d1 - 5 * d3 + d5)
    }

    @inline(__always) static func output(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (m0, m5) = (t[0], t[5 * s])
        let (p12, d12, p34, d34) = (t[s] + t[2 * s], t[s] - t[2 * s], t[3 * s] + t[4 * s], t[3 * s] - t[4 * s])
        (t[0], t[s], t[2 * s], t[3 * s]) = (m0 + p12 + p34, d12 + 2 * d34, p12 + 4 * p34, d12 + 8 * d34 + m5)
    }

    @inline(__always) static func gradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (y0, y1, y2, y3) = (t[0], t[s], t[2 * s], t[3 * s])
        let (p02, p13, q02, q13) = (y0 + y2, y1 + y3, y0 + 4 * y2, 2 * y1 + 8 * y3)
        (t[s], t[2 * s], t[3 * s], t[4 * s], t[5 * s]) = (p02 + p13, p02 - p13, q02 + q13, q02 - q13, y3)
    }

    @inline(__always) static func filterGradient(_ t: UnsafeMutablePointer<Winograd.Vector>, _ s: Int) {
        let (u0, u1, u2, u3, u4, u5) = (t[0], t[s], t[2 * s], t[3 * s], t[4 * s], t[5 * s])
        let (p12, p34) = (u1 + u2, u3 + u4)
        (t[0], t[s], t[2 * s]) = (0.25 * u0 - (1 / 6) * p12 + (1 / 24) * p34, (1 / 6) * (u2 - u1) + (1 / 12) * (u3 - u4),
                                  (1 / 6) * (p34 - p12) + u5)
    }
}

extension Winograd {
    /// m for a convolution of `height` × `width` images: the tile with fewer multiplications, F(2×2)
    /// on a tie (it rounds less). F(4×4) does 0.56× F(2×2)'s wherever its tiles fill the image; its
    /// partial tiles waste more, so F(2×2) wins at 1 or 2 pixels along a side and ties at 5 or 6.
    /// Training on the AVX2-only AMD EPYC (Zen 3), three rounds: vgg-small at 1.25–1.44× F(2×2)'s
    /// images per second, labnet 1.15–1.29×, resnet18 1.05–1.65×.
    static func tileSize(height: Int, width: Int) -> Int {
        func multiplications<T: WinogradTile>(_: T.Type) -> Int {
            (height + T.size - 1) / T.size * ((width + T.size - 1) / T.size) * T.elements
        }
        return multiplications(F4x4.self) < multiplications(F2x2.self) ? F4x4.size : F2x2.size
    }
}
