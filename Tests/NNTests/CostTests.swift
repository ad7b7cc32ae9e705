import XCTest
@testable import NN

/// Parameters and multiply-adds counted from the layers, against counts done by hand.
final class CostTests: XCTestCase {
    func testTheTutorialNetAndResNet18() throws {
        let tutorial = try Models.make("tutorial", seed: 0)
        // conv1 6·28²·3·25 + conv2 16·10²·6·25 + fc 400·120 + 120·84 + 84·10
        XCTAssertEqual(tutorial.multiplyAddsPerImage(), 352_800 + 240_000 + 48_000 + 10_080 + 840)
        XCTAssertEqual(tutorial.parameterCount, 62_006)
        let resnet = try Models.make("resnet18", seed: 0)
        // stem 64·32²·3·9; layer1 4 × 64·64·9·32²; layers 2–4 each 128·(their size)… the same
        // 134,217,728 (3×3 convs 18,874,368 + 3 × 37,748,736, 1×1 shortcut 2,097,152); fc 512·10.
        XCTAssertEqual(resnet.multiplyAddsPerImage(), 1_769_472 + 150_994_944 + 3 * 134_217_728 + 5_120)
        XCTAssertEqual(resnet.parameterCount, 11_173_962, "torchvision's resnet18 with 10 classes")
    }

    func testAirbench94() throws {
        let net = try Models.make("airbench94", seed: 0)
        // whiten 24·31²·12; block1 64·31²·24·9 + 64·15²·64·9 (the pool comes after the first conv);
        // block2 256·15²·64·9 + 256·7²·256·9; block3 256·7²·256·9 + 256·3²·256·9; head 256·10.
        XCTAssertEqual(net.multiplyAddsPerImage(), 276_768 + 13_284_864 + 8_294_400 + 33_177_600 + 2 * 28_901_376 + 5_308_416 + 2_560)
        // whitening conv 288 + 24, the 3×3 convs, batch-norm biases only (γ frozen), head.
        XCTAssertEqual(net.parameterCount, 312 + 1_967_616 + 1_152 + 2_560)
    }
}
