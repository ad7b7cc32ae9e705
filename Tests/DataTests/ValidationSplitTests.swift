import XCTest
@testable import Data

final class ValidationSplitTests: XCTestCase {
    func testHeldOutImagesAreBalancedDisjointAndStable() throws {
        let dataset = try realTestSplit.get()
        let split = try ValidationSplit(count: 500)
        let held = try split.indices(in: dataset)
        XCTAssertEqual(held.count, 500)
        XCTAssertEqual(Set(held).count, 500)
        XCTAssertEqual(dataset.subset(held).classCounts, [Int](repeating: 50, count: 10))
        XCTAssertEqual(try ValidationSplit(count: 500).indices(in: dataset), held, "the same images every time")
        XCTAssertTrue(Set(try ValidationSplit(count: 1000).indices(in: dataset)).isSuperset(of: held), "a larger split holds a smaller one")
        XCTAssertNotEqual(try ValidationSplit(count: 500, seed: 1).indices(in: dataset), held)

        let (train, validation) = try split.apply(to: dataset)
        XCTAssertEqual(train.count + validation.count, dataset.count)
        XCTAssertEqual(validation.labels, held.map { dataset.labels[$0] })
        let heldSet = Set(held)
        let kept = (0..<dataset.count).filter { !heldSet.contains($0) }
        XCTAssertEqual(train.labels, kept.map { dataset.labels[$0] })
        let imageBytes = CIFAR10.imageBytes
        XCTAssertEqual(Array(train.images[0..<imageBytes]), Array(dataset.images[(kept[0] * imageBytes)..<((kept[0] + 1) * imageBytes)]))
        XCTAssertEqual(Array(validation.images.suffix(imageBytes)), Array(dataset.images[(held.last! * imageBytes)..<((held.last! + 1) * imageBytes)]))
    }

    func testRefusesSplitsThatAreUnbalancedOrLeaveNothing() throws {
        let dataset = try realTestSplit.get()
        for count in [0, -10, 15] {
            XCTAssertThrowsError(try ValidationSplit(count: count)) {
                XCTAssertEqual("\($0)", "validation must be a positive multiple of 10 (an equal share of every class), got \(count)")
            }
        }
        XCTAssertThrowsError(try ValidationSplit(count: 10_000).indices(in: dataset)) {
            XCTAssertEqual("\($0)", "validation 10000 needs 1000 images of every class and leaves none to train on; the test split has 1000 of its rarest class")
        }
    }
}
