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
