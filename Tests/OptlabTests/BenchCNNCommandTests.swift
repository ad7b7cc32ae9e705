import Foundation
import NN
import XCTest

/// `optlab bench cnn` runs and reports; its figures are never judged here (benchmarks are not tests).
final class BenchCNNCommandTests: XCTestCase {
    func testShortRunWritesTheCSV() throws {
        let csv = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: csv) }
        let result = try runOptlab(["bench", "--models", "tutorial", "--seconds", "0.05", "--csv", csv.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssert(result.stdout.contains("tutorial   batch    4: train"), result.stdout)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "model,batch,train_img_per_s,eval_img_per_s,peak_rss_mb,train_img_per_cpu_s")
        XCTAssertEqual(lines.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }, ["tutorial,4", "tutorial,64"])
        for line in lines.dropFirst() {
            XCTAssert(line.split(separator: ",").dropFirst(2).allSatisfy { Double($0).map { $0 > 0 } ?? false }, String(line))
        }
    }

    func testUnknownModelIsAOneLineError() throws {
        let result = try runOptlab(["bench", "cnn", "--models", "alexnet"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssert(result.stderr.contains("unknown model 'alexnet'"), result.stderr)
    }

    func testConvolutionChoice() throws {
        let direct = try runOptlab(["bench", "cnn", "--models", "vgg-small", "--seconds", "0.05", "--convolutions", "direct"])
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssert(direct.stdout.contains("direct 3×3 convolutions"), direct.stdout)
        let unknown = try runOptlab(["bench", "cnn", "--convolutions", "fft"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssert(unknown.stderr.contains("'fft'") && unknown.stderr.contains("winograd"), unknown.stderr)
    }

    /// Winograd computes in float32: asking for it beside a bf16 product is refused, saying so (on
    /// a CPU without bf16, the precision is refused first, for the CPU).
    func testWinogradWithBF16IsRefused() throws {
        let reason = Precision.bf16.unsupportedReason == nil ? "Winograd computes in float32" : "needs a CPU with AVX512_BF16"
        for (precision, convolutions) in [("bf16", "winograd"), ("bf16", "onednn-winograd"), ("bf16-backward", "winograd")] {
            let result = try runOptlab(["bench", "--models", "tutorial", "--seconds", "0.05",
                                        "--precision", precision, "--convolutions", convolutions])
            XCTAssertNotEqual(result.status, 0)
            XCTAssert(result.stderr.contains(reason), result.stderr)
        }
    }

    /// vgg-small: six convolutions (the stem runs direct, its 3 channels fill no vector) and a linear layer.
    func testExplainNamesEachLayersAlgorithm() throws {
        let result = try runOptlab(["bench", "--models", "vgg-small", "--seconds", "0.05", "--explain"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ") }
        let layers = lines.filter { $0.count == 5 && $0.last == "%" }
        XCTAssertEqual(layers.map { String($0[0]) }, ["0", "3", "7", "10", "14", "17", "22"], result.stdout)
        XCTAssertEqual(layers.first?[1], "onednn-direct")
        XCTAssertEqual(layers.last?[1], "onednn-inner-product")
        XCTAssert(result.stdout.contains("everything else"), result.stdout)
    }

    func testInstructionSetCaps() throws {
        let avx2 = try runOptlab(["bench", "--models", "tutorial", "--seconds", "0.05"], environment: ["OPTLAB_MAX_ISA": "avx2"])
        XCTAssertEqual(avx2.status, 0, avx2.stderr)
        XCTAssert(avx2.stdout.contains("optlab kernels: avx2"), avx2.stdout)
        let unknown = try runOptlab(["bench", "--models", "tutorial"], environment: ["OPTLAB_MAX_ISA": "sse9"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssert(unknown.stderr.contains("OPTLAB_MAX_ISA=sse9"), unknown.stderr)
        let capped = try runOptlab(["bench", "--models", "vgg-small", "--convolutions", "onednn-winograd"],
                                   environment: ["ONEDNN_MAX_CPU_ISA": "AVX2"])
        XCTAssertNotEqual(capped.status, 0)
        XCTAssert(capped.stderr.contains("need AVX-512"), capped.stderr)
    }
}
