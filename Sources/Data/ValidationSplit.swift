import Support

/// A fixed, class-balanced hold-out of the training split: `count / 10` images of every class,
/// never trained on, for everything that chooses (tuning, early stopping, `plateau`), so the test
/// set only ever reports.
///
/// Which images are held out depends on `count` and `seed` alone — not on a run's seed, optimizer
/// or subset — so every run of a comparison, every trial of a tuning and every resume sees the same
/// split. Within each class the images are shuffled by their own stream of `seed` and the first
/// `count / 10` taken, so a larger split contains every smaller one.
public struct ValidationSplit: Codable, Equatable, Sendable {
    /// Images held out, a multiple of 10.
    public let count: Int
    /// Chooses the images; the default is the same for every run on purpose.
    public let seed: UInt64

    public static let defaultSeed: UInt64 = 0x7A11_DA7E

    public init(count: Int, seed: UInt64 = defaultSeed) throws {
        guard count > 0, count % CIFAR10.classCount == 0 else {
            throw DataError.split("validation must be a positive multiple of \(CIFAR10.classCount) (an equal share of every class), got \(count)")
        }
        self.count = count
        self.seed = seed
    }

    /// The held-out indices into `dataset`, ascending.
    public func indices(in dataset: Dataset) throws -> [Int] {
        let perClass = count / CIFAR10.classCount
        var byClass = [[Int]](repeating: [], count: CIFAR10.classCount)
        for (index, label) in dataset.labels.enumerated() { byClass[Int(label)].append(index) }
        let smallest = byClass.map(\.count).min() ?? 0
        guard perClass < smallest else {
            throw DataError.split("validation \(count) needs \(perClass) images of every class and leaves none to train on; "
                + "the \(dataset.split.rawValue) split has \(smallest) of its rarest class")
        }
        var held: [Int] = []
        for (label, members) in byClass.enumerated() {
            var random = SeededRandom(seed: seed, stream: label)
            held += random.permutation(members.count).prefix(perClass).map { members[$0] }
        }
        return held.sorted()
    }

    /// The images left to train on (in file order) and the held-out ones (in file order).
    public func apply(to dataset: Dataset) throws -> (train: Dataset, validation: Dataset) {
        let held = try indices(in: dataset)
        var isHeld = [Bool](repeating: false, count: dataset.count)
        for i in held { isHeld[i] = true }
        return (dataset.subset((0..<dataset.count).filter { !isHeld[$0] }), dataset.subset(held))
    }
}
