import Foundation
import XCTest
@testable import Optim

/// Optimizer<Float> against torch.optim in float32 (Tests/Fixtures/float32-steps.json, written by
/// make_float32_steps.py beside it): the path the CNN uses, with its casts of double coefficients
/// to float. Every step agrees within 1e-5 relative; most are bit-identical.
final class Float32ParityTests: XCTestCase {
    struct Fixture: Decodable { let cases: [Case] }
    struct Case: Decodable {
        let spec: String
        let start: [Float]
        let trajectory: [[Float]]
    }

    func testEveryCaseMatchesTorchInFloat32() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/float32-steps.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 11)
        var identical = 0, total = 0
        for c in fixture.cases {
            let buffers = Buffers([c.start])
            let optimizer = try Optimizer(OptimizerSpec.parse(c.spec), parameters: buffers.parameters)
            let p = buffers.parameters[0]
            for (k, expected) in c.trajectory.enumerated() {
                for j in p.value.indices { p.grad[j] = 6 * p.value[j] + 1 }
                optimizer.step()
                try optimizer.scheduleStep()
                for j in p.value.indices {
                    total += 1
                    if p.value[j] == expected[j] { identical += 1 }
                    XCTAssertEqual(p.value[j], expected[j], accuracy: 1e-5 * abs(expected[j]), "\(c.spec) step \(k + 1)")
                }
            }
        }
        XCTAssertGreaterThan(Double(identical) / Double(total), 0.9, "\(identical) of \(total) values bit-identical")
    }
}

extension Float32ParityTests {
    struct NetworkCase: Decodable {
        let spec: String
        let shapes: [[Int]]
        let start: [Float]
        let trajectory: [[Float]]
    }

    /// The newer optimizers on a network-shaped float32 parameter set (conv weight and bias, linear
    /// head and bias), each against its reference (modern-float32-steps.json, written by
    /// make_modern_float32_steps.py beside it): Muon's matrix, Adafactor's factored moments, SAM's
    /// and Prodigy's sums over all parameters. Every value within 1e-5 relative (1e-7 absolute)
    /// for 12 steps.
    func testNewerOptimizersMatchTheirReferencesOnANetworkShape() throws {
        struct Fixture: Decodable { let cases: [NetworkCase] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/modern-float32-steps.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 10)
        for c in fixture.cases {
            var offset = 0
            let values = c.shapes.map { shape -> [Float] in
                let n = shape.reduce(1, *)
                defer { offset += n }
                return Array(c.start[offset..<(offset + n)])
            }
            let buffers = Buffers(values, shapes: c.shapes)
            let optimizer = try Optimizer(OptimizerSpec.parse(c.spec), parameters: buffers.parameters)
            var worst: Float = 0
            steps: for (k, expected) in c.trajectory.enumerated() {
                try buffers.step(optimizer)
                for (got, want) in zip(buffers.values.joined(), expected) {
                    worst = max(worst, abs(got - want) / max(abs(want), 1e-7))
                    if abs(got - want) > 1e-5 * abs(want) + 1e-7 {
                        XCTFail("\(c.spec) step \(k + 1): \(got) vs \(want)")
                        break steps
                    }
                }
            }
            print("float32 network shape \(c.spec): worst relative error \(worst)")
        }
    }
}
