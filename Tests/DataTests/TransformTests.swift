import Support
import XCTest
@testable import Data

final class TransformTests: XCTestCase {
    /// 16 real test images as a [0, 1] batch.
    private func realBatch() throws -> ImageBatch {
        let dataset = try realTestSplit.get().prefix(16)
        return ImageBatch(bytes: dataset.images, count: dataset.count)
    }

    private func pixel(_ batch: ImageBatch, _ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Float {
        batch.pixels[((n * batch.channels + c) * batch.height + y) * batch.width + x]
    }

    func testRandomCropIsAShiftedWindowWithZeroPadding() throws {
        let original = try realBatch()
        var cropped = original
        var random = SeededRandom(seed: 1)
        Transform.randomCrop(padding: 4).apply(to: &cropped, using: &random)
        XCTAssertEqual(cropped.shape, [16, 3, 32, 32])
        var shifts = Set<[Int]>()
        for n in 0..<16 {
            // Exactly one shift (dy, dx) in −4...4 explains every output pixel.
            let matches = (-4...4).flatMap { dy in (-4...4).map { dx in [dy, dx] } }.filter { shift in
                (0..<3).allSatisfy { c in (0..<32).allSatisfy { y in (0..<32).allSatisfy { x in
                    let (sy, sx) = (y + shift[0], x + shift[1])
                    let expected = (0..<32).contains(sy) && (0..<32).contains(sx) ? pixel(original, n, c, sy, sx) : 0
                    return pixel(cropped, n, c, y, x) == expected
                } } }
            }
            XCTAssertEqual(matches.count, 1, "image \(n)")
            shifts.formUnion(matches)
        }
        XCTAssertGreaterThan(shifts.count, 8, "offsets should vary between images")
    }

    /// airbench's translation: every image is one reflect-padded shift in −2...2 of itself (no
    /// zeros appear), and the shifts vary.
    func testRandomTranslateIsAReflectedShift() throws {
        let original = try realBatch()
        var moved = original
        var random = SeededRandom(seed: 3)
        Transform.randomTranslate(pixels: 2).apply(to: &moved, using: &random)
        var shifts = Set<[Int]>()
        for n in 0..<16 {
            let image = ImageBatch(pixels: Array(original.pixels[(n * 3072)..<((n + 1) * 3072)]), count: 1)
            let result = Array(moved.pixels[(n * 3072)..<((n + 1) * 3072)])
            let matches = (-2...2).flatMap { dy in (-2...2).map { dx in [dy, dx] } }.filter {
                image.shifted(dy: $0[0], dx: $0[1]).pixels == result
            }
            XCTAssertEqual(matches.count, 1, "image \(n)")
            shifts.formUnion(matches)
        }
        XCTAssertGreaterThan(shifts.count, 6, "offsets should vary between images")
    }

    func testHorizontalFlipMirrorsAboutHalfTheImages() throws {
        let original = try realBatch()
        var flipped = original
        var random = SeededRandom(seed: 2)
        Transform.horizontalFlip.apply(to: &flipped, using: &random)
        var mirroredCount = 0
        for n in 0..<16 {
            let same = (0..<3).allSatisfy { c in (0..<32).allSatisfy { y in (0..<32).allSatisfy { x in
                pixel(flipped, n, c, y, x) == pixel(original, n, c, y, x) } } }
            let mirrored = (0..<3).allSatisfy { c in (0..<32).allSatisfy { y in (0..<32).allSatisfy { x in
                pixel(flipped, n, c, y, x) == pixel(original, n, c, y, 31 - x) } } }
            XCTAssertTrue(same || mirrored, "image \(n) is neither kept nor mirrored")
            if mirrored && !same { mirroredCount += 1 }
        }
        XCTAssert((3...13).contains(mirroredCount), "\(mirroredCount) of 16 mirrored")
    }

    func testTutorialNormalisationMapsZeroOneToMinusOneOne() {
        var batch = ImageBatch(pixels: [0, 0.5, 1, 0.25] + [Float](repeating: 1, count: 3 * 32 * 32 - 4), count: 1)
        var random = SeededRandom(seed: 0)
        Transform.tutorialNormalization.apply(to: &batch, using: &random)
        XCTAssertEqual(Array(batch.pixels.prefix(4)), [-1, 0, 1, -0.5])
    }

    func testDatasetNormalisationGivesZeroMeanUnitStd() throws {
        let dataset = try realTestSplit.get().prefix(500)
        var batch = ImageBatch(bytes: dataset.images, count: dataset.count)
        var random = SeededRandom(seed: 0)
        Transform.datasetNormalization(dataset).apply(to: &batch, using: &random)
        let plane = 32 * 32
        for c in 0..<3 {
            var values: [Double] = []
            for n in 0..<500 {
                let start = (n * 3 + c) * plane
                values += batch.pixels[start..<(start + plane)].map { Double($0) }
            }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0.0) { sum, v in sum + (v - mean) * (v - mean) } / Double(values.count)
            XCTAssertEqual(mean, 0, accuracy: 1e-4, "channel \(c)")
            XCTAssertEqual(variance.squareRoot(), 1, accuracy: 1e-4, "channel \(c)")
        }
    }

    /// torch's `F.pad(x, (1, 1, 1, 1), 'reflect')` windowed at [0:3, 0:3] and [2:5, 2:5].
    func testShiftReflectsLikeTorchPadding() {
        let batch = ImageBatch(pixels: (0..<9).map(Float.init), count: 1, channels: 1, height: 3, width: 3)
        XCTAssertEqual(batch.shifted(dy: 1, dx: 1).pixels, [4, 3, 4, 1, 0, 1, 4, 3, 4])
        XCTAssertEqual(batch.shifted(dy: -1, dx: -1).pixels, [4, 5, 4, 7, 8, 7, 4, 5, 4])
        XCTAssertEqual(batch.shifted(dy: 0, dx: 0), batch)
    }

    func testTestTimeViewsAreWeightedToOneAndMirrorSymmetric() throws {
        let views = TestTimeAugmentation.views
        XCTAssertEqual(views.map(\.weight).reduce(0, +), 1)
        for view in views {
            XCTAssert(views.contains { $0.shift == view.shift && $0.mirrored != view.mirrored && $0.weight == view.weight })
        }
        let original = try realBatch()
        let mirrored = TestTimeAugmentation.apply(views.first { $0.mirrored && $0.shift == 0 }!, to: original)
        XCTAssertEqual(pixel(mirrored, 3, 1, 5, 0), pixel(original, 3, 1, 5, 31))
        let moved = TestTimeAugmentation.apply(views.first { !$0.mirrored && $0.shift == 1 }!, to: original)
        XCTAssertEqual(pixel(moved, 3, 1, 5, 7), pixel(original, 3, 1, 4, 6))
    }

    /// Each image is mirrored in exactly one of two consecutive epochs, whatever batch slot it
    /// lands in; about half of them in the first.
    func testAlternatingFlipMirrorsEachImageEveryOtherEpoch() throws {
        let original = try realBatch()
        let records = Array(100..<116)
        func flipped(epoch: Int, records: [Int]) -> [Bool] {
            var batch = original, random = SeededRandom(seed: 0)
            Transform.alternatingFlip.apply(to: &batch, using: &random, origin: BatchOrigin(seed: 7, epoch: epoch, records: records))
            return (0..<16).map { n in
                (0..<3).allSatisfy { c in (0..<32).allSatisfy { y in (0..<32).allSatisfy { x in
                    pixel(batch, n, c, y, x) == pixel(original, n, c, y, 31 - x) } } }
            }
        }
        let first = flipped(epoch: 0, records: records), second = flipped(epoch: 1, records: records)
        XCTAssertEqual(zip(first, second).map { $0 != $1 }, Array(repeating: true, count: 16))
        XCTAssertEqual(flipped(epoch: 2, records: records), first)
        XCTAssert((3...13).contains(first.filter { $0 }.count), "\(first.filter { $0 }.count) of 16 mirrored")
        // The same records in another order: each image's flip follows its record.
        XCTAssertEqual(flipped(epoch: 0, records: records.reversed()), first.reversed())
    }

    func testSeededRandomIsFixedAndUniform() {
        var random = SeededRandom(seed: 42)
        // SplitMix64 from state 42 (reference values from the published algorithm).
        XCTAssertEqual([random.next(), random.next()], [13_679_457_532_755_275_413, 2_949_826_092_126_892_291])
        var counts = [Int](repeating: 0, count: 9)
        for _ in 0..<9_000 { counts[random.below(9)] += 1 }
        XCTAssert(counts.allSatisfy { (850...1_150).contains($0) }, "\(counts)")
        XCTAssertEqual(random.permutation(1_000).sorted(), Array(0..<1_000))
        var a = SeededRandom(seed: 1, stream: 0, 1), b = SeededRandom(seed: 1, stream: 1, 0)
        XCTAssertNotEqual(a.next(), b.next(), "streams are not symmetric in their path")
    }
}
