import XCTest
@testable import NN

final class ShapeErrorTests: XCTestCase {
    func testWrongInputsNameTheLayer() throws {
        let network = try Models.make("tutorial")
        XCTAssertThrowsError(try network.forward(Tensor(shape: [2, 4, 32, 32]), training: true)) {
            XCTAssert("\($0)".contains("conv1 (Conv2d) expects [N, 3, H, W] input, got [2, 4, 32, 32]"), "\($0)")
        }
        XCTAssertThrowsError(try network.forward(Tensor(shape: [2, 3, 28, 28]), training: true)) {
            XCTAssert("\($0)".contains("fc1 (Linear) expects [N, 400] input, got [2, 256]"), "\($0)")
        }
        XCTAssertThrowsError(try network.forward(Tensor(shape: [2, 3, 4, 4]), training: false)) {
            XCTAssert("\($0)".contains("conv1 (Conv2d): input 4×4 is smaller than the 5×5 kernel"), "\($0)")
        }
        XCTAssertThrowsError(try network.forward(Tensor(shape: [3, 32, 32]), training: false))
        XCTAssertThrowsError(try Models.make("resnet9000")) { XCTAssert("\($0)".contains("unknown model resnet9000")) }
        XCTAssertThrowsError(try CrossEntropyLoss()(Tensor(shape: [2, 10]), [1, 10])) { XCTAssert("\($0)".contains("label 10")) }
    }

    func testResNet18HasTorchvisionNamesAndRuns() throws {
        let network = try Models.make("resnet18")
        let names = network.stateShapes.map(\.name)
        XCTAssertEqual(names.first, "conv1.weight")
        for expected in ["layer1.0.conv1.weight", "layer1.1.bn2.running_var", "layer2.0.downsample.0.weight",
                         "layer2.0.downsample.1.bias", "layer4.1.bn2.weight", "fc.weight", "fc.bias"] {
            XCTAssert(names.contains(expected), expected)
        }
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"))
        XCTAssertEqual(network.parameters.reduce(0) { $0 + $1.value.count }, 11_173_962)  // torchvision, CIFAR stem
        let logits = try network.forward(Tensor(shape: [2, 3, 32, 32], repeating: 0.5), training: true)
        XCTAssertEqual(logits.shape, [2, 10])
        let loss = CrossEntropyLoss()
        _ = try loss(logits, [3, 7])
        network.backward(loss.gradient)
        XCTAssert(network.parameters.allSatisfy { $0.grad.allSatisfy(\.isFinite) })
    }
}
