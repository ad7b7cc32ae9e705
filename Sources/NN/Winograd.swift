import CDNNL
import CKernels

/// 3×3 convolutions with stride 1 and padding 1 by Winograd's minimal filtering F(2×2, 3×3)
/// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Each 2×2 output tile
/// comes from a 4×4 input tile d (stride 2, overlapping by 2) and each 3×3 filter g as
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          Bᵀ = ⎡1  0 -1  0⎤   G = ⎡ 1   0   0 ⎤   Aᵀ = ⎡1 1  1  0⎤
///                                                    ⎢0  1  1  0⎥       ⎢1/2 1/2 1/2⎥        ⎣0 1 -1 -1⎦
///                                                    ⎢0 -1  1  0⎥       ⎢1/2 -1/2 1/2⎥
///                                                    ⎣0  1  0 -1⎦       ⎣ 0   0   1 ⎦
///
/// so per tile and channel pair the 36 multiply-adds of a direct convolution become 16, done as 16
/// matrix products over channels, one per element ε of the transformed 4×4 tile:
/// M_ε[t, k] = Σ_c V_ε[t, c] · U_ε[c, k] with V = Bᵀ d B and U = G g Gᵀ. The transforms only add,
/// subtract and halve, so results equal a direct convolution's up to float rounding. The gradients
/// are the same algebra transposed, with Z = A dY Aᵀ (dY's 2×2 tile):
/// - input: a 3×3 padding-1 convolution's adjoint is the convolution of dY with each filter rotated
///   by 180° and the channel roles swapped, so it runs the forward path;
/// - weights: dg = Gᵀ [ Σ_t Z ⊙ (Bᵀ d B) ] G, i.e. dU_ε[c, k] = Σ_t V_ε[t, c] · Z_ε[t, k].
///
/// oneDNN 2.6 has Winograd kernels for AVX-512 only; on AVX2 its direct kernels do 2.25× the
/// multiplications, at 166–188 GFLOP/s on two cores for vgg-small's layers, about what a register-
/// blocked FMA loop reaches (83 per core), so only fewer multiplications could make them faster.
/// Activations are nChw8c: 8 channels per vector.
enum Winograd {
    /// Whether a convolution runs this way: 3×3, stride 1, padding 1, and channel counts that fill
    /// the product kernel's 16 columns both ways (forward: out channels; input gradient: in).
    static func applies(kernel: Int, stride: Int, padding: Int, inChannels: Int, outChannels: Int) -> Bool {
        kernel == 3 && stride == 1 && padding == 1 && inChannels % 16 == 0 && outChannels % 16 == 0
    }

    /// The 2×2 output tiles of a batch, numbered image by image, row by row.
    struct Tiles {
        let images: Int, height: Int, width: Int
        var rows: Int { (height + 1) / 2 }
        var columns: Int { (width + 1) / 2 }
        var count: Int { images * rows * columns }

        /// `body(row, image, y, x)` for each tile of `tiles` in order, its row in the range, image and
        /// top-left output pixel (its input tile starts one pixel up and left).
        @inline(__always)
        func forEach(_ tiles: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
            let perImage = rows * columns
            var (image, y, x) = (tiles.lowerBound / perImage, 2 * (tiles.lowerBound % perImage / columns), 2 * (tiles.lowerBound % columns))
            for row in 0..<tiles.count {
                body(row, image, y, x)
                x += 2
                if x >= width { (x, y) = (0, y + 2) }
                if y >= height { (y, image) = (0, image + 1) }
            }
        }
    }

    /// Tiles per block: a block's transformed input and products (16 · T · (C + K) floats) should
    /// stay in the core's cache; more tiles per block re-read U from memory less often. The weight
    /// gradient adds each block into all of dU (16 · C · K floats, 16 MB at 512 channels), so it
    /// takes up to 192 tiles per block when dU outgrows the cache (measured at 512 channels, one
    /// core: 34 GFLOP/s at 24 tiles, 49 at 192).
    static func blockTiles(_ inChannels: Int, _ outChannels: Int, weightGradient: Bool = false) -> Int {
        let cached = min(96, max(24, 6144 / (inChannels + outChannels) / 6 * 6))
        return weightGradient ? max(cached, min(192, inChannels * outChannels / 1024 / 6 * 6)) : cached
    }

    /// Floats between the 16 matrices of a block's tiles: padded by a cache line, since planes a
    /// multiple of 4 KiB apart (as unpadded blocks are) make the CPU's loads alias earlier stores.
    static func planeSize(_ tiles: Int, _ channels: Int) -> Int { tiles * channels + 16 }

    // MARK: - Transforms (one 8-channel vector at a time)

    typealias Vector = SIMD8<Float>

    /// U_ε[i, o] = (G g Gᵀ)_ε for a convolution from `inputs` to `outputs` channels, laid out
    /// [16][inputs][outputs]. Forward: g = w[o, i] of weights w [outputs, inputs, 3, 3]. Adjoint
    /// (input gradient): g = w[i, o] rotated by 180°, w being the forward's [inputs, outputs, 3, 3].
    static func transformWeights(_ w: UnsafePointer<Float>, inputs: Int, outputs: Int, adjoint: Bool,
                                 into u: UnsafeMutablePointer<Float>) {
        parallelFor(inputs) { i in
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: 16) { m in
                for o in stride(from: 0, to: outputs, by: 8) {
                    func g(_ tap: Int) -> Vector {
                        var v = Vector()
                        for lane in 0..<8 {
                            v[lane] = adjoint ? w[(i * outputs + o + lane) * 9 + 8 - tap] : w[((o + lane) * inputs + i) * 9 + tap]
                        }
                        return v
                    }
                    // G along the filter's rows, then along its columns.
                    for column in 0..<3 {
                        let (a, b, c) = (g(column), g(3 + column), g(6 + column))
                        (m[column], m[4 + column], m[8 + column], m[12 + column]) = (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
                    }
                    for row in 0..<4 {
                        let (a, b, c) = (m[4 * row], m[4 * row + 1], m[4 * row + 2])
                        (m[4 * row], m[4 * row + 1], m[4 * row + 2], m[4 * row + 3]) = (a, 0.5 * (a + b + c), 0.5 * (a - b + c), c)
                    }
                    for e in 0..<16 { store(m[e], u + (e * inputs + i) * outputs + o) }
                }
            }
        }
    }

    /// V_ε[t, c] = (Bᵀ d B)_ε for `tiles` of x (nChw8c, `channels` channels; zero outside the
    /// image): tile t of the range is row t of each of the 16 [tiles × channels] matrices of v, which
    /// start `plane` floats apart.
    static func transformInput(_ x: UnsafePointer<Float>, channels: Int, _ geometry: Tiles, _ tiles: Range<Int>,
                               into v: UnsafeMutablePointer<Float>, plane: Int) {
        let (h, w) = (geometry.height, geometry.width)
        transformTiles(x, channels: channels, geometry, tiles, into: v, plane: plane) { source, y0, x0, d in
            if y0 >= 1 && y0 + 2 < h && x0 >= 1 && x0 + 2 < w {
                let corner = source + ((y0 - 1) * w + x0 - 1) * 8
                for i in 0..<4 { for j in 0..<4 { d[4 * i + j] = load(corner + (i * w + j) * 8) } }
            } else {
                for i in 0..<4 {
                    let y = y0 - 1 + i
                    for j in 0..<4 {
                        let xx = x0 - 1 + j
                        d[4 * i + j] = y >= 0 && y < h && xx >= 0 && xx < w ? load(source + (y * w + xx) * 8) : Vector()
                    }
                }
            }
            for j in 0..<4 { (d[j], d[4 + j], d[8 + j], d[12 + j]) = inputTransform(d[j], d[4 + j], d[8 + j], d[12 + j]) }
            for i in 0..<4 { (d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]) = inputTransform(d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]) }
        }
    }

    /// Z_ε[t, k] = (A dY Aᵀ)_ε for `tiles` of dy (nChw8c; outputs outside the image contribute 0),
    /// laid out as `transformInput` lays out V.
    static func transformGradient(_ dy: UnsafePointer<Float>, channels: Int, _ geometry: Tiles, _ tiles: Range<Int>,
                                  into z: UnsafeMutablePointer<Float>, plane: Int) {
        let (h, w) = (geometry.height, geometry.width)
        transformTiles(dy, channels: channels, geometry, tiles, into: z, plane: plane) { source, y0, x0, d in
            func value(_ i: Int, _ j: Int) -> Vector {
                y0 + i < h && x0 + j < w ? load(source + ((y0 + i) * w + x0 + j) * 8) : Vector()
            }
            for j in 0..<2 { (d[j], d[4 + j], d[8 + j], d[12 + j]) = gradientTransform(value(0, j), value(1, j)) }
            for i in 0..<4 { (d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]) = gradientTransform(d[4 * i], d[4 * i + 1]) }
        }
    }

    /// For each tile of `tiles` and 8-channel block of x (nChw8c): `transform(source, y, x, d)`
    /// leaves the tile's 16 transformed vectors in d (`source` is the block's plane in the tile's
    /// image, (y, x) the tile's top-left output pixel); they are stored as the tile's row of the 16
    /// [tiles × channels] matrices of `out`, `plane` floats apart.
    @inline(__always)
    private static func transformTiles(_ x: UnsafePointer<Float>, channels: Int, _ geometry: Tiles, _ tiles: Range<Int>,
                                       into out: UnsafeMutablePointer<Float>, plane: Int,
                                       _ transform: (UnsafePointer<Float>, Int, Int, UnsafeMutableBufferPointer<Vector>) -> Void) {
        let pixels = geometry.height * geometry.width
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 16) { d in
            // Channel blocks outermost: consecutive tiles then read neighbouring pixels of one plane.
            for block in 0..<channels / 8 {
                geometry.forEach(tiles) { row, image, y0, x0 in
                    transform(x + (image * channels / 8 + block) * pixels * 8, y0, x0, d)
                    for e in 0..<16 { store(d[e], out + (e * plane + row * channels + block * 8)) }
                }
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) for `tiles`, written into y (nChw8c) where the tile lies in the image.
    static func transformOutput(_ m: UnsafePointer<Float>, channels: Int, plane: Int, bias: UnsafePointer<Float>?,
                                _ geometry: Tiles, _ tiles: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        let (h, w) = (geometry.height, geometry.width)
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 8) { r in
            for block in 0..<channels / 8 {
                let b = bias.map { load($0 + block * 8) } ?? Vector()
                geometry.forEach(tiles) { row, image, y0, x0 in
                    func product(_ e: Int) -> Vector { load(m + (e * plane + row * channels + block * 8)) }
                    for j in 0..<4 { (r[j], r[4 + j]) = outputTransform(product(j), product(4 + j), product(8 + j), product(12 + j)) }
                    let target = y + (image * channels / 8 + block) * h * w * 8
                    for i in 0..<2 where y0 + i < h {
                        let (left, right) = outputTransform(r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3])
                        store(left + b, target + ((y0 + i) * w + x0) * 8)
                        if x0 + 1 < w { store(right + b, target + ((y0 + i) * w + x0 + 1) * 8) }
                    }
                }
            }
        }
    }

    /// Bᵀ applied to one column (or row) of a tile.
    @inline(__always)
    static func inputTransform(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector, Vector, Vector) {
        (a - c, b + c, c - b, b - d)
    }

    /// A applied to one column (or row) of a 2×2 gradient tile.
    @inline(__always)
    static func gradientTransform(_ a: Vector, _ b: Vector) -> (Vector, Vector, Vector, Vector) {
        (a, a + b, a - b, -b)
    }

    /// Aᵀ applied to one column (or row) of a product tile.
    @inline(__always)
    static func outputTransform(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector) {
        (a + b + c, b - c - d)
    }

    /// dW[k, c] = Gᵀ dU[c, k] G for dU [16][C][K], into PyTorch's [K, C, 3, 3].
    static func transformWeightGradient(_ du: UnsafePointer<Float>, inputs: Int, outputs: Int,
                                        into dw: UnsafeMutablePointer<Float>) {
        parallelFor(inputs) { c in
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: 12) { m in
                for k in stride(from: 0, to: outputs, by: 8) {
                    func product(_ e: Int) -> Vector { load(du + (e * inputs + c) * outputs + k) }
                    // Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1] along the rows, then along the columns.
                    for j in 0..<4 {
                        let (a, b, cc, d) = (product(j), product(4 + j), product(8 + j), product(12 + j))
                        (m[j], m[4 + j], m[8 + j]) = (a + 0.5 * (b + cc), 0.5 * (b - cc), 0.5 * (b + cc) + d)
                    }
                    for i in 0..<3 {
                        let (a, b, cc, d) = (m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3])
                        let taps = (a + 0.5 * (b + cc), 0.5 * (b - cc), 0.5 * (b + cc) + d)
                        for lane in 0..<8 {
                            let base = ((k + lane) * inputs + c) * 9 + 3 * i
                            (dw[base], dw[base + 1], dw[base + 2]) = (taps.0[lane], taps.1[lane], taps.2[lane])
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
    /// y = x ⋆ g (+ bias) from transformed weights u ([16][inputs][outputs]). Blocks of tiles are
    /// split across the threads in contiguous runs; each thread has its own V and M blocks.
    static func convolve(_ isa: KernelISA, _ x: UnsafePointer<Float>, inputs: Int, _ u: UnsafePointer<Float>, outputs: Int,
                         bias: UnsafePointer<Float>?, _ geometry: Tiles, into y: UnsafeMutablePointer<Float>,
                         _ context: ExecutionContext) {
        let tilesPerBlock = blockTiles(inputs, outputs)
        let blocks = (geometry.count + tilesPerBlock - 1) / tilesPerBlock
        let workers = min(blocks, Threads.count)
        let (vPlane, mPlane) = (planeSize(tilesPerBlock, inputs), planeSize(tilesPerBlock, outputs))
        let scratch = (0..<workers).map {
            (v: context.floats(1 + 3 * $0, 16 * vPlane), m: context.floats(2 + 3 * $0, 16 * mPlane))
        }
        parallelFor(workers) { worker in
            let (v, m) = scratch[worker]
            for block in blocks * worker / workers ..< blocks * (worker + 1) / workers {
                let tiles = block * tilesPerBlock ..< min(geometry.count, (block + 1) * tilesPerBlock)
                transformInput(x, channels: inputs, geometry, tiles, into: v, plane: vPlane)
                for e in 0..<16 {
                    multiply(isa, rows: tiles.count, columns: outputs, depth: inputs,
                             v + e * vPlane, aRow: inputs, aDepth: 1,
                             u + e * inputs * outputs, bRow: outputs,
                             m + e * mPlane, cRow: outputs, accumulate: false)
                }
                transformOutput(m, channels: outputs, plane: mPlane, bias: bias, geometry, tiles, into: y)
            }
        }
    }

    /// dW = Gᵀ [Σ_t Z ⊙ V] G for input x (`inputs` channels) and output gradient dy, into weights
    /// gradient dw ([outputs, inputs, 3, 3]). Each thread sums its tiles into its own dU; the sums
    /// are added in thread order, so a thread count gives the same bits every run.
    static func weightGradient(_ isa: KernelISA, _ x: UnsafePointer<Float>, inputs: Int, _ dy: UnsafePointer<Float>, outputs: Int,
                               _ geometry: Tiles, into dw: UnsafeMutablePointer<Float>, _ context: ExecutionContext) {
        let tilesPerBlock = blockTiles(inputs, outputs, weightGradient: true)
        let blocks = (geometry.count + tilesPerBlock - 1) / tilesPerBlock
        let workers = max(1, min(blocks, Threads.count))  // one writes zeros for an empty batch
        let (vPlane, mPlane) = (planeSize(tilesPerBlock, inputs), planeSize(tilesPerBlock, outputs))
        let products = 16 * inputs * outputs
        let scratch = (0..<workers).map {
            (v: context.floats(1 + 3 * $0, 16 * vPlane), z: context.floats(2 + 3 * $0, 16 * mPlane),
             du: context.floats(3 + 3 * $0, products))
        }
        parallelFor(workers) { worker in
            let (v, z, du) = scratch[worker]
            du.initialize(repeating: 0, count: products)
            for block in blocks * worker / workers ..< blocks * (worker + 1) / workers {
                let tiles = block * tilesPerBlock ..< min(geometry.count, (block + 1) * tilesPerBlock)
                transformInput(x, channels: inputs, geometry, tiles, into: v, plane: vPlane)
                transformGradient(dy, channels: outputs, geometry, tiles, into: z, plane: mPlane)
                for e in 0..<16 {
                    multiply(isa, rows: inputs, columns: outputs, depth: tiles.count,
                             v + e * vPlane, aRow: 1, aDepth: inputs,
                             z + e * mPlane, bRow: outputs,
                             du + e * inputs * outputs, cRow: outputs, accumulate: true)
                }
            }
        }
        let total = scratch[0].du
        if workers > 1 {
            parallelFor(16 * inputs) { row in
                for worker in 1..<workers {
                    for k in stride(from: row * outputs, to: (row + 1) * outputs, by: 8) {
                        store(load(total + k) + load(scratch[worker].du + k), total + k)
                    }
                }
            }
        }
        transformWeightGradient(total, inputs: inputs, outputs: outputs, into: dw)
    }

    /// db[k] = Σ over images and pixels of dy[·, k] (nChw8c).
    static func biasGradient(_ dy: UnsafePointer<Float>, channels: Int, images: Int, pixels: Int,
                             into db: UnsafeMutablePointer<Float>) {
        parallelFor(channels / 8) { block in
            var sum = Vector()
            for image in 0..<images {
                let plane = dy + (image * channels / 8 + block) * pixels * 8
                for p in 0..<pixels { sum += load(plane + p * 8) }
            }
            store(sum, db + block * 8)
        }
    }
}

/// One input shape's forward and backward of a `Conv2d` that runs by `Winograd`, on activations in
/// nChw8c (other layouts are reordered on the way in). The transformed weights and tiles live in
/// the execution context's scratch, shared by all layers, so this keeps no copy of the weights.
final class WinogradPlan: LayerPlan {
    let output: Memory
    /// Unowned: the layer owns its plans, and a strong reference back would keep both alive.
    private unowned let conv: Conv2d
    private let isa: KernelISA
    private let geometry: Winograd.Tiles
    private let input: Memory
    private let inputReorder: Call?
    private var gradient: (dy: Memory, conformed: Memory, reorder: Call?)?
    private var inputGradient: Memory?

    init(_ conv: Conv2d, isa: KernelISA, input x: Memory, outputMemory: (Desc) -> Memory) {
        self.conv = conv
        self.isa = isa
        let s = x.shape
        geometry = Winograd.Tiles(images: s[0], height: s[2], width: s[3])
        (input, inputReorder) = conform(x, to: desc(s, dnnl_aBcd8b))
        output = outputMemory(desc([s[0], conv.outChannels, s[2], s[3]], dnnl_aBcd8b))
    }

    func runForward() {
        Threads.use(Threads.count)
        if let inputReorder { run([inputReorder]) }
        let context = ExecutionContext.current
        let (c, k) = (conv.inChannels, conv.outChannels)
        let u = context.floats(0, 16 * c * k)
        Winograd.transformWeights(conv.weight.value.baseAddress!, inputs: c, outputs: k, adjoint: false, into: u)
        Winograd.convolve(isa, input.floats.baseAddress!, inputs: c, u, outputs: k, bias: conv.bias?.value.baseAddress,
                          geometry, into: output.floats.baseAddress!, context)
    }

    func runBackward(_ dy: Memory, inputGradient wanted: Bool) -> Memory? {
        Threads.use(Threads.count)
        if gradient?.dy !== dy {
            let (conformed, reorder) = conform(dy, to: output.desc)
            gradient = (dy, conformed, reorder)
        }
        let (_, conformed, reorder) = gradient!
        if let reorder { run([reorder]) }
        let context = ExecutionContext.current
        let (c, k) = (conv.inChannels, conv.outChannels)
        let g = conformed.floats.baseAddress!
        Winograd.weightGradient(isa, input.floats.baseAddress!, inputs: c, g, outputs: k, geometry,
                                into: conv.weight.grad!.baseAddress!, context)
        if let bias = conv.bias {
            Winograd.biasGradient(g, channels: k, images: geometry.images, pixels: geometry.height * geometry.width,
                                  into: bias.grad!.baseAddress!)
        }
        guard wanted else { return nil }
        let dx = inputGradient ?? Memory(input.desc)
        inputGradient = dx
        let u = context.floats(0, 16 * c * k)
        Winograd.transformWeights(conv.weight.value.baseAddress!, inputs: k, outputs: c, adjoint: true, into: u)
        Winograd.convolve(isa, g, inputs: k, u, outputs: c, bias: nil, geometry, into: dx.floats.baseAddress!, context)
        return dx
    }
}
