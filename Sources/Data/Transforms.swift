import Support

/// A batch of images as Float32 in NCHW order, the layout the network takes.
public struct ImageBatch: Sendable, Equatable {
    public var pixels: [Float]
    public let count: Int, channels: Int, height: Int, width: Int

    public init(pixels: [Float], count: Int, channels: Int = CIFAR10.channels,
                height: Int = CIFAR10.height, width: Int = CIFAR10.width) {
        precondition(pixels.count == count * channels * height * width, "pixels do not fill the shape")
        self.pixels = pixels
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var shape: [Int] { [count, channels, height, width] }

    /// Mirrors left–right the images `n` for which `selected(n)` holds.
    mutating func mirror(where selected: (Int) -> Bool) {
        let (channels, h, w) = (channels, height, width)
        pixels.withUnsafeMutableBufferPointer { pixels in
            for n in 0..<count where selected(n) {
                for row in 0..<(channels * h) {
                    let start = (n * channels * h + row) * w
                    var (left, right) = (start, start + w - 1)
                    while left < right {
                        pixels.swapAt(left, right)
                        left += 1
                        right -= 1
                    }
                }
            }
        }
    }

    /// The batch with every image moved by (dy, dx) pixels, the uncovered border filled by
    /// reflection (torch's `F.pad(x, …, 'reflect')`, then a window): output (y, x) reads input
    /// (y − dy, x − dx), reflected back inside the image. |dy|, |dx| must be below the image size.
    public func shifted(dy: Int, dx: Int) -> ImageBatch {
        precondition(abs(dy) < height && abs(dx) < width, "a shift must be smaller than the image")
        let rows = (0..<height).map { reflected($0 - dy, height) }, columns = (0..<width).map { reflected($0 - dx, width) }
        var out = self
        out.pixels.withUnsafeMutableBufferPointer { out in
            pixels.withUnsafeBufferPointer { pixels in
                for plane in 0..<(count * channels) {
                    let base = plane * height * width
                    for y in 0..<height {
                        for x in 0..<width { out[base + y * width + x] = pixels[base + rows[y] * width + columns[x]] }
                    }
                }
            }
        }
        return out
    }

    /// Bytes 0–255 scaled to [0, 1], as torchvision's `ToTensor`.
    public init(bytes: [UInt8], count: Int) {
        self.init(pixels: bytes.map { Float($0) / 255 }, count: count)
    }
}

/// The per-channel mean and standard deviation a network's inputs are normalised with; checkpoints
/// store it, so evaluation normalises as training did.
public struct InputNormalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// The PyTorch CIFAR-10 tutorial's `Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`: [0, 1] → [−1, 1].
    public static let tutorial = InputNormalization(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])

    /// The per-channel mean and standard deviation of a dataset's images.
    public init(statisticsOf dataset: Dataset) {
        let statistics = dataset.channelStatistics()
        self.init(mean: statistics.mean, std: statistics.std)
    }

    public var transform: Transform { .normalize(mean: mean, std: std) }
}

/// The torchvision transforms a CIFAR-10 recipe uses, applied per image to a whole batch. Order
/// matters as in torchvision: crop and flip come before `normalize`, so crop padding is black (0).
public enum Transform: Sendable, Equatable {
    /// torchvision `RandomCrop(size, padding:)`: pad each side with zeros, cut a window of the
    /// original size at a uniformly random offset in 0...2·padding on each axis.
    case randomCrop(padding: Int)
    /// airbench's translation: each image moved by a uniformly random offset in −pixels...pixels on
    /// each axis, the uncovered border reflected (`F.pad(x, …, 'reflect')`, then a random window).
    case randomTranslate(pixels: Int)
    /// torchvision `RandomHorizontalFlip()`: mirror each image left–right with probability ½.
    case horizontalFlip
    /// airbench's alternating flip: each training image is mirrored with probability ½ in epoch 0
    /// and in every later epoch exactly when it was not in the one before, so every pair of
    /// epochs sees both orientations (a coin per image and seed, flipped on odd epochs).
    case alternatingFlip
    /// torchvision `Normalize(mean, std)`: x ← (x − mean[c]) / std[c] per channel.
    case normalize(mean: [Float], std: [Float])

    /// The PyTorch CIFAR-10 tutorial's normalisation (`InputNormalization.tutorial`).
    public static let tutorialNormalization = InputNormalization.tutorial.transform

    /// Normalisation by the per-channel mean and standard deviation of `dataset`.
    public static func datasetNormalization(_ dataset: Dataset) -> Transform {
        InputNormalization(statisticsOf: dataset).transform
    }

    /// `origin` says which records the batch holds and when; only `alternatingFlip` reads it.
    public func apply(to batch: inout ImageBatch, using random: inout SeededRandom, origin: BatchOrigin? = nil) {
        switch self {
        case .randomCrop(let padding): Self.randomShift(&batch, upTo: padding, reflecting: false, &random)
        case .randomTranslate(let pixels): Self.randomShift(&batch, upTo: pixels, reflecting: true, &random)
        case .horizontalFlip: batch.mirror { _ in random.coin() }
        case .alternatingFlip:
            guard let origin else { preconditionFailure("alternatingFlip needs the batch's records and epoch") }
            precondition(origin.records.count == batch.count, "one record per image")
            batch.mirror { n in
                var coin = SeededRandom(seed: origin.seed, stream: 2, origin.records[n])
                return coin.coin() != origin.epoch.isMultiple(of: 2)
            }
        case .normalize(let mean, let std): Self.normalize(&batch, mean: mean, std: std)
        }
    }

    /// Output (y, x) reads input (y + dy, x + dx) for a random (dy, dx) per image; outside the
    /// image it reads zero padding (RandomCrop) or the reflected pixel (airbench's translation).
    private static func randomShift(_ batch: inout ImageBatch, upTo padding: Int, reflecting: Bool, _ random: inout SeededRandom) {
        let (h, w) = (batch.height, batch.width)
        precondition(!reflecting || (padding < h && padding < w), "a reflected shift must be smaller than the image")
        let plane = h * w, image = batch.channels * plane
        var window = [Float](repeating: 0, count: plane)
        batch.pixels.withUnsafeMutableBufferPointer { pixels in
            for n in 0..<batch.count {
                let dy = random.below(2 * padding + 1) - padding
                let dx = random.below(2 * padding + 1) - padding
                let rows = reflecting ? 0..<h : max(0, -dy)..<min(h, h - dy)
                let columns = reflecting ? 0..<w : max(0, -dx)..<min(w, w - dx)
                for c in 0..<batch.channels {
                    let base = n * image + c * plane
                    for i in 0..<plane { window[i] = 0 }
                    for y in rows {
                        let source = base + reflected(y + dy, h) * w
                        for x in columns { window[y * w + x] = pixels[source + reflected(x + dx, w)] }
                    }
                    for i in 0..<plane { pixels[base + i] = window[i] }
                }
            }
        }
    }

    private static func normalize(_ batch: inout ImageBatch, mean: [Float], std: [Float]) {
        precondition(mean.count == batch.channels && std.count == batch.channels, "one mean and std per channel")
        let plane = batch.height * batch.width
        batch.pixels.withUnsafeMutableBufferPointer { pixels in
            for n in 0..<batch.count {
                for c in 0..<batch.channels {
                    let base = (n * batch.channels + c) * plane
                    for i in base..<(base + plane) { pixels[i] = (pixels[i] - mean[c]) / std[c] }
                }
            }
        }
    }
}

/// Which dataset records a batch holds, in batch order, in which epoch of a run with which seed.
public struct BatchOrigin: Sendable {
    public var seed: UInt64
    public var epoch: Int
    public var records: [Int]

    public init(seed: UInt64, epoch: Int, records: [Int]) {
        self.seed = seed
        self.epoch = epoch
        self.records = records
    }
}

/// airbench's test-time augmentation: a network's logits averaged over views of each image,
/// weighted ¼ the image, ¼ its mirror, and ⅛ each the image moved one pixel down-right and
/// up-left (reflect-padded) and their mirrors.
public enum TestTimeAugmentation {
    public struct View: Sendable {
        public var weight: Float
        public var mirrored: Bool
        /// Pixels moved down and right (negative: up and left).
        public var shift: Int
    }

    public static let views: [View] = [
        View(weight: 0.25, mirrored: false, shift: 0), View(weight: 0.25, mirrored: true, shift: 0),
        View(weight: 0.125, mirrored: false, shift: 1), View(weight: 0.125, mirrored: true, shift: 1),
        View(weight: 0.125, mirrored: false, shift: -1), View(weight: 0.125, mirrored: true, shift: -1),
    ]

    /// `batch` as `view` sees it.
    public static func apply(_ view: View, to batch: ImageBatch) -> ImageBatch {
        var out = view.shift == 0 ? batch : batch.shifted(dy: view.shift, dx: view.shift)
        if view.mirrored { out.mirror { _ in true } }
        return out
    }
}

/// Index i of a row or column of `size`, reflected back inside it without repeating the edge
/// (torch's 'reflect' padding): −1 → 1, size → size − 2.
private func reflected(_ i: Int, _ size: Int) -> Int { i < 0 ? -i : (i >= size ? 2 * (size - 1) - i : i) }
