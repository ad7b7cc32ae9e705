import Foundation
import XCTest
@testable import Data

final class CIFAR10Tests: XCTestCase {
    func testRecordsMatchTheRawFileBytes() throws {
        let folder = try realDataFolder()
        let dataset = try realTestSplit.get()
        let raw = [UInt8](try Foundation.Data(contentsOf: folder.appendingPathComponent("test_batch.bin")))
        XCTAssertEqual(dataset.count, 10_000)
        XCTAssertEqual(dataset.classNames, ["airplane", "automobile", "bird", "cat", "deer",
                                            "dog", "frog", "horse", "ship", "truck"])
        XCTAssertEqual(Array(dataset.labels.prefix(10)), [3, 8, 8, 0, 6, 6, 1, 6, 3, 1])  // SOURCE.md
        XCTAssertEqual(dataset.classCounts, [Int](repeating: 1_000, count: 10))
        for record in [0, 1, 4_321, 9_999] {
            let bytes = raw[(record * 3_073)..<((record + 1) * 3_073)]
            XCTAssertEqual(dataset.labels[record], bytes.first)
            XCTAssertEqual(Array(dataset.images[(record * 3_072)..<((record + 1) * 3_072)]), Array(bytes.dropFirst()))
        }
    }

    func testChannelStatisticsMatchThePublishedOnes() throws {
        let statistics = try realTestSplit.get().channelStatistics()
        // SOURCE.md, test split in [0, 1] units (4 decimals).
        for (value, expected) in zip(statistics.mean + statistics.std, [0.4942, 0.4851, 0.4504, 0.2467, 0.2429, 0.2616] as [Float]) {
            XCTAssertEqual(value, expected, accuracy: 6e-5)
        }
    }

    func testPrefixKeepsTheFirstImages() throws {
        let dataset = try realTestSplit.get()
        let subset = dataset.prefix(100)
        XCTAssertEqual(subset.count, 100)
        XCTAssertEqual(subset.labels, Array(dataset.labels.prefix(100)))
        XCTAssertEqual(subset.images, Array(dataset.images.prefix(100 * 3_072)))
        XCTAssertEqual(dataset.prefix(nil).count, 10_000)
        XCTAssertEqual(dataset.prefix(20_000).count, 10_000)
    }

    // MARK: - every file is validated, and errors name the file and the problem

    /// A folder holding the meta file and `test_batch.bin` given as bytes.
    private func folder(withTestBatch bytes: [UInt8]?) throws -> URL {
        let folder = try temporaryFolder(self)
        try FileManager.default.copyItem(at: try realDataFolder().appendingPathComponent("batches.meta.txt"),
                                         to: folder.appendingPathComponent("batches.meta.txt"))
        try bytes.map { try Foundation.Data($0).write(to: folder.appendingPathComponent("test_batch.bin")) }
        return folder
    }

    func testWrongSizeNamesTheFileAndBothSizes() throws {
        let folder = try folder(withTestBatch: [UInt8](repeating: 1, count: 3_073 * 10))
        let error = thrownDataError { try CIFAR10.load(.test, from: folder) }
        XCTAssertEqual(error?.description, "\(folder.path)/test_batch.bin: is 30,730 bytes, expected 30,730,000 "
            + "(10,000 records of 3,073 bytes); truncated or not CIFAR-10 binary")
    }

    func testBadLabelNamesTheFileAndTheRecord() throws {
        var bytes = [UInt8](try Foundation.Data(contentsOf: try realDataFolder().appendingPathComponent("test_batch.bin")))
        bytes[1_234 * 3_073] = 12
        let folder = try folder(withTestBatch: bytes)
        let error = thrownDataError { try CIFAR10.load(.test, from: folder) }
        XCTAssertEqual(error?.description, "\(folder.path)/test_batch.bin: record 1234 has label 12; labels must be 0–9")
    }

    func testMissingFileIsNamed() throws {
        let folder = try folder(withTestBatch: nil)
        let error = thrownDataError { try CIFAR10.load(.test, from: folder) }
        XCTAssertEqual(error?.description, "\(folder.path)/test_batch.bin: missing")
        let trainError = thrownDataError { try CIFAR10.load(.train, from: folder) }
        XCTAssertEqual(trainError?.description, "\(folder.path)/data_batch_1.bin: missing")
    }

    func testMetaFileMustListTenClasses() throws {
        let folder = try temporaryFolder(self)
        let meta = folder.appendingPathComponent("batches.meta.txt")
        XCTAssertEqual(thrownDataError { try CIFAR10.classNames(in: folder) }?.description,
                       "\(meta.path): missing or unreadable (it lists the ten class names)")
        try "cat\ndog\n".write(to: meta, atomically: true, encoding: .utf8)
        XCTAssertEqual(thrownDataError { try CIFAR10.classNames(in: folder) }?.description,
                       "\(meta.path): lists 2 class names, expected 10")
    }

    // MARK: - where the folder is looked for

    func testLookupOrder() throws {
        let root = try temporaryFolder(self)
        let work = root.appendingPathComponent("work")
        let local = work.appendingPathComponent("data/cifar-10-batches-bin")
        let shared = root.appendingPathComponent("shared/data/cifar-10-batches-bin")
        let mine = root.appendingPathComponent("mine")
        for folder in [local, shared, mine] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }

        func find(_ option: String?, _ environment: [String: String] = [:]) throws -> [String] {
            let location = try DataLocation.find(option: option, environment: environment, currentDirectory: work)
            return [location.folder.path, location.source]
        }
        XCTAssertEqual(try find("../mine", ["OPTLAB_DATA": shared.path]), [mine.path, "--data"])
        XCTAssertEqual(try find(nil, ["OPTLAB_DATA": shared.path]), [shared.path, "$OPTLAB_DATA"])
        XCTAssertEqual(try find(nil), [local.path, "default ./data/cifar-10-batches-bin"])
        try FileManager.default.removeItem(at: local)
        XCTAssertEqual(try find(nil), [shared.path, "default ../shared/data/cifar-10-batches-bin"])
        // The parent of cifar-10-batches-bin is accepted too.
        XCTAssertEqual(try find("../shared/data"), [shared.path, "--data"])
    }

    func testNothingFoundSaysWhereItLookedAndHowToGetTheData() throws {
        let work = try temporaryFolder(self).appendingPathComponent("work")
        let error = thrownDataError { try DataLocation.find(option: nil, environment: [:], currentDirectory: work) }
        let parent = work.deletingLastPathComponent().path
        XCTAssertEqual(error?.description, """
            CIFAR-10 not found. optlab looked in:
              - --data: not given
              - $OPTLAB_DATA: not set
              - ./data/cifar-10-batches-bin (\(work.path)/data/cifar-10-batches-bin): no such folder
              - ../shared/data/cifar-10-batches-bin (\(parent)/shared/data/cifar-10-batches-bin): no such folder
            Get it with `optlab data download` (fetches https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, 170 MB, into ./data),
            or copy an unpacked cifar-10-batches-bin folder to ./data/ (or point --data DIR or $OPTLAB_DATA at it).
            """)
    }

    func testAnExplicitFolderIsBinding() throws {
        let work = try temporaryFolder(self)
        try FileManager.default.createDirectory(at: work.appendingPathComponent("data/cifar-10-batches-bin"), withIntermediateDirectories: true)
        let fromOption = thrownDataError { try DataLocation.find(option: "nowhere", environment: [:], currentDirectory: work) }
        XCTAssertEqual(fromOption, .notFound(["--data nowhere (\(work.path)/nowhere): no such folder"]))
        let fromEnvironment = thrownDataError {
            try DataLocation.find(option: nil, environment: ["OPTLAB_DATA": "/no/such"], currentDirectory: work)
        }
        XCTAssertEqual(fromEnvironment, .notFound(["$OPTLAB_DATA /no/such (/no/such): no such folder"]))
    }

    func testGroupedNumbers() {
        XCTAssertEqual([0, 7, 999, 1_000, 30_730_000, -12_345].map(\.grouped), ["0", "7", "999", "1,000", "30,730,000", "-12,345"])
    }
}
