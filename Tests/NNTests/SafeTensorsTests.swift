import Foundation
import XCTest
@testable import NN

final class SafeTensorsTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("nn-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func sample() -> SafeTensors {
        var file = SafeTensors()
        file.set("a.weight", floats: [1, -2, 3.5, 4, 5, 6], shape: [2, 3])
        file.set("b", doubles: [0.25, -1e300], shape: [2])
        file.set("steps", int64s: [42], shape: [])
        file.metadata = ["model": "tutorial", "epoch": "3"]
        return file
    }

    func testRoundTrip() throws {
        let url = folder.appendingPathComponent("x.safetensors")
        try sample().write(to: url)
        let back = try SafeTensors(contentsOf: url)
        XCTAssertEqual(back.names, ["a.weight", "b", "steps"])
        XCTAssertEqual(try back.floats("a.weight", shape: [2, 3]), [1, -2, 3.5, 4, 5, 6])
        XCTAssertEqual(try back.doubles("b"), [0.25, -1e300])
        XCTAssertEqual(try back.int64s("steps", shape: []), [42])
        XCTAssertEqual(back.metadata, ["model": "tutorial", "epoch": "3"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["x.safetensors"], "no temporary file left")
    }

    func testReadsPyTorchFixture() throws {
        let file = try SafeTensors(contentsOf: referenceFile("tutorial-net.safetensors"))
        XCTAssertEqual(file.entries["conv1.weight"]?.shape, [6, 3, 5, 5])
        XCTAssertEqual(file.entries["labels"]?.dtype, .i64)
        XCTAssertEqual(try file.int64s("labels").count, 8)
    }

    func assertRejects(_ data: Data, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors(data, source: "t.safetensors"), file: file, line: line) { error in
            XCTAssert("\(error)".contains(fragment), "\"\(error)\" should mention \"\(fragment)\"", file: file, line: line)
        }
    }

    func testRejectsTruncatedAndCorruptFiles() throws {
        let good = try sample().serialized()
        assertRejects(good.prefix(5), "truncated")
        assertRejects(good.prefix(20), "truncated")
        assertRejects(good.prefix(good.count - 3), "tensor steps extends past the end")
        var corrupt = good
        corrupt[9] = 0x7B  // breaks the JSON header
        corrupt[10] = 0x7B
        assertRejects(corrupt, "corrupt header")
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        var mismatched = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { mismatched.append(contentsOf: $0) }
        mismatched.append(contentsOf: Array(header.utf8) + [UInt8](repeating: 0, count: 8))
        assertRejects(mismatched, "tensor w has 8 bytes but F32 [3] needs 12")
        // A shape whose byte count overflows Int trapped (the safetensors fuzz target on this input).
        assertRejects(file(header: #"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#),
                      "tensor w has an impossible shape [4294967296, 4294967296]")
    }

    /// A file of `header` (JSON) and no tensor bytes.
    private func file(header: String) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    func testNamesMissingOrMisshapedTensors() throws {
        let file = sample()
        XCTAssertThrowsError(try file.floats("nope")) { XCTAssert("\($0)".contains("missing tensor nope")) }
        XCTAssertThrowsError(try file.floats("a.weight", shape: [3, 2])) { XCTAssert("\($0)".contains("a.weight has shape [2, 3]")) }
        XCTAssertThrowsError(try file.floats("b")) { XCTAssert("\($0)".contains("b is F64, expected F32")) }
    }

    func testNetworkCheckpointRoundTripAndErrors() throws {
        let url = folder.appendingPathComponent("vgg.safetensors")
        let network = try Models.make("vgg-small", seed: 3)
        var random = Random(seed: 2)
        let input = Tensor(shape: [2, 3, 32, 32], values: (0..<(2 * 3 * 32 * 32)).map { _ in random.uniform(-1, 1) })
        _ = try network.forward(input, training: true)  // moves the running statistics
        var file = SafeTensors()
        network.save(into: &file)
        try file.write(to: url)
        XCTAssertEqual(try SafeTensors(contentsOf: url).int64s("1.num_batches_tracked"), [1])

        let copy = try Models.make("vgg-small", seed: 99)
        try copy.load(try SafeTensors(contentsOf: url))
        XCTAssertEqual(try copy.forward(input, training: false).values, try network.forward(input, training: false).values)

        var missing = SafeTensors()
        for name in file.names where name != "17.weight" {
            let entry = file.entries[name]!
            if entry.dtype == .f32 { missing.set(name, floats: try file.floats(name), shape: entry.shape) }
        }
        XCTAssertThrowsError(try copy.load(missing)) { XCTAssert("\($0)".contains("missing tensor 17.weight"), "\($0)") }
        XCTAssertThrowsError(try Models.make("tutorial").load(file)) { XCTAssert("\($0)".contains("missing tensor conv1.weight"), "\($0)") }
    }
}
