import XCTest
@testable import Data

final class DataLoaderTests: XCTestCase {
    private func subset(_ n: Int) throws -> Dataset { try realTestSplit.get().prefix(n) }

    func testBatchesCarryTheRecordsBytesAndLabels() throws {
        let dataset = try subset(300)
        let loader = DataLoader(dataset, batchSize: 64, shuffle: true, seed: 7)
        var seen: [Int] = []
        for batch in loader.batches(epoch: 0) {
            XCTAssertEqual(batch.images.shape, [batch.indices.count, 3, 32, 32])
            for (slot, record) in batch.indices.enumerated() {
                XCTAssertEqual(batch.labels[slot], Int(dataset.labels[record]))
                let expected = dataset.images[(record * 3_072)..<((record + 1) * 3_072)].map { Float($0) / 255 }
                XCTAssertEqual(Array(batch.images.pixels[(slot * 3_072)..<((slot + 1) * 3_072)]), expected)
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen.count, 300)
        XCTAssertEqual(seen.sorted(), Array(0..<300), "every record exactly once")
        XCTAssertNotEqual(seen, Array(0..<300), "shuffled")
    }

    func testBatchSizesWithAndWithoutDropLast() throws {
        let dataset = try subset(130)
        let keep = DataLoader(dataset, batchSize: 50)
        XCTAssertEqual(keep.batches(epoch: 0).map(\.labels.count), [50, 50, 30])
        XCTAssertEqual(keep.batches(epoch: 0).flatMap(\.indices), Array(0..<130), "unshuffled order is the file order")
        let drop = DataLoader(dataset, batchSize: 50, dropLast: true)
        XCTAssertEqual(drop.batches(epoch: 0).map(\.labels.count), [50, 50])
        XCTAssertEqual(drop.imagesPerEpoch, 100)
    }

    func testAugmentationKeepsLabelsAndShapes() throws {
        let dataset = try subset(200)
        let plain = DataLoader(dataset, batchSize: 32, shuffle: true, seed: 3)
        let augmented = DataLoader(dataset, batchSize: 32, shuffle: true, seed: 3,
                                   transforms: [.randomCrop(padding: 4), .horizontalFlip, .tutorialNormalization])
        for (a, b) in zip(plain.batches(epoch: 1), augmented.batches(epoch: 1)) {
            XCTAssertEqual(a.indices, b.indices)
            XCTAssertEqual(a.labels, b.labels)
            XCTAssertEqual(a.images.shape, b.images.shape)
            XCTAssertNotEqual(a.images.pixels, b.images.pixels)
            XCTAssert(b.images.pixels.allSatisfy { (-1...1).contains($0) })
        }
    }

    func testSeededOrderDependsOnlyOnSeedAndEpoch() throws {
        let dataset = try subset(500)
        let loader = DataLoader(dataset, batchSize: 100, shuffle: true, seed: 11,
                                transforms: [.randomCrop(padding: 4), .horizontalFlip])
        let again = DataLoader(dataset, batchSize: 100, shuffle: true, seed: 11,
                               transforms: [.randomCrop(padding: 4), .horizontalFlip])
        XCTAssertEqual(loader.order(epoch: 2), again.order(epoch: 2))
        XCTAssertNotEqual(loader.order(epoch: 2), loader.order(epoch: 3))
        XCTAssertNotEqual(loader.order(epoch: 2), DataLoader(dataset, batchSize: 100, shuffle: true, seed: 12).order(epoch: 2))

        // Epoch 2 seen whole, and resumed from batch 3 by a fresh loader, give identical batches.
        let whole = Array(loader.batches(epoch: 2))
        let resumed = Array(again.batches(epoch: 2, startingAt: 3))
        XCTAssertEqual(resumed.count, 2)
        for (a, b) in zip(whole.suffix(2), resumed) {
            XCTAssertEqual(a.indices, b.indices)
            XCTAssertEqual(a.images, b.images)
        }
    }

    func testLeavingAnEpochEarlyStopsThePrefetchThread() throws {
        func threads() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count }
        let loader = DataLoader(try subset(1_000), batchSize: 10)
        let before = try threads()
        for _ in 0..<20 {
            for batch in loader.batches(epoch: 0) {
                XCTAssertEqual(batch.indices.first, 0)
                break
            }
        }
        // Each abandoned stream's producer wakes up, sees the cancel and exits.
        let deadline = Date().addingTimeInterval(5)
        while try threads() > before && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertLessThanOrEqual(try threads(), before)
        XCTAssertEqual(loader.batches(epoch: 0).reduce(0) { $0 + $1.labels.count }, 1_000)
    }
}
