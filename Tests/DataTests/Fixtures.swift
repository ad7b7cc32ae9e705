import Foundation
import XCTest
@testable import Data

/// The real CIFAR-10 folder the tests read small slices of, found as optlab finds it (`$OPTLAB_DATA`,
/// ./data, ../shared/data from the package root, the working directory of `swift test`); its
/// absence is a failure naming every place looked, never a silent skip.
func realDataFolder() throws -> URL { try DataLocation.find(option: nil).folder }

/// The test split, read once for all tests (its 30 MB are the smallest real slice with every check).
let realTestSplit: Result<Dataset, Error> = Result { try CIFAR10.load(.test, from: try realDataFolder()) }

/// A fresh empty folder removed when the test ends.
func temporaryFolder(_ test: XCTestCase) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-data-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
    return folder
}

/// The error a throwing call raised, or a test failure if it returned.
func thrownDataError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> DataError? {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as DataError {
        return error
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}
