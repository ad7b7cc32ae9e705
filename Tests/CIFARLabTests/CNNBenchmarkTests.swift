import CIFARLab
import XCTest

final class CNNBenchmarkTests: XCTestCase {
    /// `optlab bench` measures every model `optlab train` knows.
    func testEveryTrainableModelIsMeasured() {
        XCTAssertEqual(Set(CNNBenchmark.cases.map(\.model)), Set(CIFARModels.names))
    }
}
