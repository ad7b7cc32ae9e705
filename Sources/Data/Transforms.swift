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
    /// torchvision `RandomHorizontalFlip()`: mirror each image left–right with probability ½.
    case horizontalFlip
    /// torchvision `Normalize(mean, std)`: x ← (x − mean[c]) / std[c] per channel.
    case normalize(mean: [Float], std: [Float])

    /// The PyTorch CIFAR-10 tutorial's normalisation (`InputNormalization.tutorial`).
    public static let tutorialNormalization = InputNormalization.tutorial.transform

    /// Normalisation by the per-channel mean and standard deviation of `dataset`.
    public static func datasetNormalization(_ dataset: Dataset) -> Transform {
        InputNormalization(statisticsOf: dataset).transform
    }

    public func apply(to batch: inout ImageBatch, using random: inout SeededRandom) {
        switch self {
        case .randomCrop(let padding): Self.randomCrop(&batch, padding: padding, &random)
        case .horizontalFlip: Self.horizontalFlip(&batch, &random)
        case .normalize(let mean, let std): Self.normalize(&batch, mean: mean, std: std)
        }
    }

    private static func randomCrop(_ batch: inout ImageBatch, padding: Int, _ random: inout SeededRandom) {
        let (h, w) = (batch.height, batch.width)
        let plane = h * w, image = batch.channels * plane
        var window = [Float](repeating: 0, count: plane)
        batch.pixels.withUnsafeMutableBufferPointer { pixels in
            for n in 0..<batch.count {
                // Output (y, x) reads input (y + dy, x + dx); outside the image it is padding.
                let dy = random.below(2 * padding + 1) - padding
                let dx = random.below(2 * padding + 1) - padding
                let rows = max(0, -dy)..<min(h, h - dy), columns = max(0, -dx)..<min(w, w - dx)
                for c in 0..<batch.channels {
                    let base = n * image + c * plane
                    for i in 0..<plane { window[i] = 0 }
                    for y in rows {
                        for x in columns { window[y * w + x] = pixels[base + (y + dy) * w + x + dx] }
                    }
                    for i in 0..<plane { pixels[base + i] = window[i] }
                }
            }
        }
    }

    private static func horizontalFlip(_ batch: inout ImageBatch, _ random: inout SeededRandom) {
        let (h, w) = (batch.height, batch.width)
        batch.pixels.withUnsafeMutableBufferPointer { pixels in
            for n in 0..<batch.count where random.coin() {
                for row in 0..<(batch.channels * h) {
                    let start = (n * batch.channels * h + row) * w
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
