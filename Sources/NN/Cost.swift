/// What one image's forward pass costs, counted from the layers themselves: the multiply-adds of
/// convolutions and linear layers (the convention papers and fvcore/ptflops report as MACs; batch
/// norm, ReLU, pooling and the residual additions are a few operations per activation and are
/// left out, as there).
extension Network {
    /// Multiply-adds of one image's forward pass, for an input image of `imageShape` [C, H, W].
    public func multiplyAddsPerImage(imageShape: [Int] = [3, 32, 32]) -> Int {
        forwardCost(root, imageShape).multiplyAdds
    }

    /// Learnable parameter values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

/// The output shape ([C, H, W] or [F]) of `module` for an input of `shape`, and its multiply-adds.
/// Containers other than a residual block apply their children in order, as `Sequential` does.
func forwardCost(_ module: Module, _ shape: [Int]) -> (shape: [Int], multiplyAdds: Int) {
    switch module {
    case let conv as Conv2d:
        let size = { ($0 + 2 * conv.padding - conv.kernel) / conv.stride + 1 }
        let output = [conv.outChannels, size(shape[1]), size(shape[2])]
        return (output, output.reduce(1, *) * conv.inChannels * conv.kernel * conv.kernel)
    case let linear as Linear:
        return ([linear.outFeatures], linear.inFeatures * linear.outFeatures)
    case let pool as Pool2d:
        if pool.kind == .global { return ([shape[0], 1, 1], 0) }
        let size = { ($0 + 2 * pool.padding - pool.kernel) / pool.stride + 1 }
        return ([shape[0], size(shape[1]), size(shape[2])], 0)
    case is Flatten:
        return ([shape.reduce(1, *)], 0)
    case let block as BasicBlock:
        // The main branch and the shortcut both read the block's input.
        let first = forwardCost(block.conv1, shape), second = forwardCost(block.conv2, first.shape)
        let shortcut = block.downsample.map { forwardCost($0, shape).multiplyAdds } ?? 0
        return (second.shape, first.multiplyAdds + second.multiplyAdds + shortcut)
    default:
        return module.children.reduce((shape, 0)) { total, child in
            let cost = forwardCost(child.module, total.shape)
            return (cost.shape, total.multiplyAdds + cost.multiplyAdds)
        }
    }
}
