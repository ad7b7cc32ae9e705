import Support
import Foundation

/// Images and labels for one step.
public struct Batch: Sendable {
    public let images: ImageBatch
    public let labels: [Int]
    /// Which dataset records these are, in batch order.
    public let indices: [Int]
}

/// torch.utils.data.DataLoader for a `Dataset`: batch size, seeded shuffling, drop-last and
/// transforms, with the next batch prepared on a background thread while the current one trains.
///
/// Everything random is a pure function of (seed, epoch, batch index): the order of epoch e is
/// `order(epoch: e)` and batch b's augmentation uses its own stream, so any epoch or batch can be
/// reproduced on its own — which is what resuming from a checkpoint needs.
public struct DataLoader: Sendable {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let dropLast: Bool
    public let seed: UInt64
    public let transforms: [Transform]

    public init(_ dataset: Dataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                seed: UInt64 = 0, transforms: [Transform] = []) {
        precondition(batchSize > 0, "batch size must be positive")
        self.dataset = dataset
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.transforms = transforms
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Images per epoch (fewer than the dataset when the last partial batch is dropped).
    public var imagesPerEpoch: Int { dropLast ? batchCount * batchSize : dataset.count }

    /// The record order of epoch `epoch`; the identity when not shuffling.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var random = SeededRandom(seed: seed, stream: 0, epoch)
        return random.permutation(dataset.count)
    }

    /// Batch `index` of an epoch whose order is `order`, built on the calling thread.
    public func batch(_ index: Int, epoch: Int, order: [Int]) -> Batch {
        precondition((0..<batchCount).contains(index), "batch \(index) out of 0..<\(batchCount)")
        let indices = Array(order[(index * batchSize)..<min(order.count, (index + 1) * batchSize)])
        let size = CIFAR10.imageBytes
        var pixels = [Float](repeating: 0, count: indices.count * size)
        pixels.withUnsafeMutableBufferPointer { out in
            dataset.images.withUnsafeBufferPointer { bytes in
                for (slot, record) in indices.enumerated() {
                    for i in 0..<size { out[slot * size + i] = Float(bytes[record * size + i]) / 255 }
                }
            }
        }
        var images = ImageBatch(pixels: pixels, count: indices.count)
        var random = SeededRandom(seed: seed, stream: 1, epoch, index)
        let origin = BatchOrigin(seed: seed, epoch: epoch, records: indices)
        for transform in transforms { transform.apply(to: &images, using: &random, origin: origin) }
        return Batch(images: images, labels: indices.map { Int(dataset.labels[$0]) }, indices: indices)
    }

    /// The batches of epoch `epoch` from batch `start` on, each prepared one step ahead on a
    /// background thread. Dropping the stream early (a `break`, an error) stops the thread.
    public func batches(epoch: Int, startingAt start: Int = 0) -> BatchStream {
        BatchStream(loader: self, epoch: epoch, range: min(start, batchCount)..<batchCount)
    }
}

/// A single-pass sequence of batches fed by one producer thread through a buffer of at most
/// `capacity` ready batches, so memory stays bounded and the consumer rarely waits.
public final class BatchStream: Sequence, IteratorProtocol {
    private let channel: Channel

    init(loader: DataLoader, epoch: Int, range: Range<Int>, capacity: Int = 2) {
        let channel = Channel(capacity: capacity)
        self.channel = channel
        let producer = Thread {
            defer { channel.producerExited() }
            let order = loader.order(epoch: epoch)
            for index in range {
                guard channel.put(loader.batch(index, epoch: epoch, order: order)) else { return }
            }
            channel.finish()
        }
        producer.name = "optlab.data.prefetch"
        producer.start()
    }

    /// Stops the producer and waits for it, so no batch is still being made once the stream is
    /// gone (a Ctrl-C exits right after, and a crash at such an exit showed the producer still at work).
    deinit { channel.cancel() }

    /// The next batch, waiting for the producer if it is not ready yet; nil after the last one.
    public func next() -> Batch? { channel.take() }

    /// A bounded hand-over between the producer thread and the consumer.
    private final class Channel: @unchecked Sendable {  // all state is guarded by `condition`
        private let condition = NSCondition()
        private let capacity: Int
        private var ready: [Batch] = []
        private var finished = false, cancelled = false, producing = true

        init(capacity: Int) { self.capacity = capacity }

        /// Waits for room; false when the consumer has gone and the producer should stop.
        func put(_ batch: Batch) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while ready.count >= capacity && !cancelled { condition.wait() }
            guard !cancelled else { return false }
            ready.append(batch)
            condition.broadcast()
            return true
        }

        func take() -> Batch? {
            condition.lock()
            defer { condition.unlock() }
            while ready.isEmpty && !finished { condition.wait() }
            guard !ready.isEmpty else { return nil }
            condition.broadcast()
            return ready.removeFirst()
        }

        func finish() {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }

        func producerExited() {
            condition.lock()
            producing = false
            condition.broadcast()
            condition.unlock()
        }

        /// Drops the ready batches and returns once the producer has stopped.
        func cancel() {
            condition.lock()
            cancelled = true
            ready.removeAll()
            condition.broadcast()
            while producing { condition.wait() }
            condition.unlock()
        }
    }
}
