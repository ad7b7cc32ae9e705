import Foundation
import XCTest
@testable import NN

/// A PyTorch fixture: from `$OPTLAB_REFERENCE_DIR` when set, else the package's Tests/Fixtures
/// (written by the scripts beside them).
func referenceFile(_ name: String) -> URL {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    let override = ProcessInfo.processInfo.environment["OPTLAB_REFERENCE_DIR"].map { URL(fileURLWithPath: $0) }
    return (override ?? fixtures).appendingPathComponent(name)
}

/// ‖a − b‖ / ‖b‖ over whole tensors (norm-wise relative error).
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, norm = 0.0
    for (x, y) in zip(a, b) {
        diff += Double(x - y) * Double(x - y)
        norm += Double(y) * Double(y)
    }
    return (diff / max(norm, 1e-30)).squareRoot()
}

func assertClose(_ a: [Float], _ b: [Float], tolerance: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    let error = relativeError(a, b)
    XCTAssert(error <= tolerance, "\(what): relative error \(error) > \(tolerance)", file: file, line: line)
}
