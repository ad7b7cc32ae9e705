/// The CIFAR-10 tutorial's `Net`: conv 3→6 5×5, max-pool 2, conv 6→16 5×5, max-pool 2,
/// linear 400→120→84→10 with ReLUs; names conv1, conv2, fc1, fc2, fc3.
@Sendable public func tutorialNet() -> Module {
    Sequential(named: [
        ("conv1", Conv2d(3, 6, kernel: 5)), ("relu1", ReLU(inPlace: true)), ("pool1", MaxPool2d(2)),
        ("conv2", Conv2d(6, 16, kernel: 5)), ("relu2", ReLU(inPlace: true)), ("pool2", MaxPool2d(2)),
        ("flatten", Flatten()),
        ("fc1", Linear(400, 120)), ("relu3", ReLU(inPlace: true)),
        ("fc2", Linear(120, 84)), ("relu4", ReLU(inPlace: true)),
        ("fc3", Linear(84, 10)),
    ])
}

/// Three stages of [conv 3×3 (no bias) → BN → ReLU] × 2 with widths 32, 64, 128, each ending in
/// max-pool 2, then linear 2048 → 10; a Sequential, so convs are 0, 3, 7, 10, 14, 17, batch norms
/// 1, 4, 8, 11, 15, 18 and the linear layer 22, as in PyTorch.
@Sendable public func vggSmall() -> Module {
    var layers: [Module] = []
    var channels = 3
    for width in [32, 64, 128] {
        for _ in 0..<2 {
            layers += [Conv2d(channels, width, kernel: 3, padding: 1, bias: false), BatchNorm2d(width), ReLU(inPlace: true)]
            channels = width
        }
        layers.append(MaxPool2d(2))
    }
    layers += [Flatten(), Linear(128 * 4 * 4, 10)]
    return Sequential(layers)
}

/// airbench94's network (Keller Jordan, "94% on CIFAR-10 in 3.29 seconds on a single GPU", 2024):
/// a 2×2 convolution 3→24 that training makes a frozen patch-whitening layer, GELU, three groups
/// of [conv 3×3 → max-pool 2 → BN → GELU → conv 3×3 → BN → GELU] (64, 256, 256 channels, every
/// 3×3 filter dirac-initialised, batch norms with γ frozen at 1 and ε = 1e-12), max-pool 3,
/// linear 256 → 10 without bias, logits × 1/9. ~118 M multiply-adds per image. `widths` are the
/// groups' channels (tests build it narrow).
@Sendable public func airbench94() -> Module { airbench(widths: (64, 256, 256)) }

public func airbench(widths: (Int, Int, Int)) -> Module {
    func group(_ input: Int, _ output: Int) -> Module {
        Sequential(named: [
            ("conv1", Conv2d(input, output, kernel: 3, padding: 1, bias: false, dirac: true)), ("pool", MaxPool2d(2)),
            ("norm1", BatchNorm2d(output, eps: 1e-12, learnsWeight: false)), ("activ1", GELU()),
            ("conv2", Conv2d(output, output, kernel: 3, padding: 1, bias: false, dirac: true)),
            ("norm2", BatchNorm2d(output, eps: 1e-12, learnsWeight: false)), ("activ2", GELU()),
        ])
    }
    return Sequential(named: [
        ("whiten", Conv2d(3, 24, kernel: 2)), ("activ", GELU()),
        ("block1", group(24, widths.0)), ("block2", group(widths.0, widths.1)), ("block3", group(widths.1, widths.2)),
        ("pool", MaxPool2d(3)), ("flatten", Flatten()), ("head", Linear(widths.2, 10, bias: false)), ("scale", Scale(1 / 9)),
    ])
}

/// torchvision's ResNet-18 in its CIFAR form: 3×3 stride-1 stem without max-pool, four stages of
/// two BasicBlocks (64, 128, 256, 512 channels), global average pool, linear → 10; torchvision's names.
@Sendable public func resnet18() -> Module {
    var named: [(String, Module)] = [
        ("conv1", Conv2d(3, 64, kernel: 3, stride: 1, padding: 1, bias: false)), ("bn1", BatchNorm2d(64)),
        ("relu", ReLU(inPlace: true)),
    ]
    var channels = 64
    for (stage, width) in [64, 128, 256, 512].enumerated() {
        let stride = stage == 0 ? 1 : 2
        named.append(("layer\(stage + 1)", Sequential([BasicBlock(channels, width, stride: stride), BasicBlock(width, width)])))
        channels = width
    }
    named += [("avgpool", AdaptiveAvgPool2d()), ("flatten", Flatten()), ("fc", Linear(512, 10))]
    return Sequential(named: named)
}
