import Foundation

/// `nn.CrossEntropyLoss(label_smoothing: ε)` with mean reduction over logits [N, C]:
/// loss = mean_n [ −(1 − ε)·log p(y_n) − (ε/C)·Σ_c log p(c) ],  p = softmax(logits_n);
/// d loss / d logits_n = (p − (1 − ε)·onehot(y_n) − ε/C) / N.
public final class CrossEntropyLoss {
    public let labelSmoothing: Float
    /// d(loss)/d(logits) of the last call, reused between calls (feed it to `Network.backward`).
    public private(set) var gradient = Tensor(shape: [0])

    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "label smoothing must be in [0, 1]")
        self.labelSmoothing = labelSmoothing
    }

    public func callAsFunction(_ logits: Tensor, _ labels: [Int]) throws -> Float {
        guard logits.shape.count == 2, logits.shape[0] == labels.count else {
            throw ShapeError("cross-entropy expects logits [N, C] and N labels, got \(logits.shape) and \(labels.count) labels")
        }
        let (n, c) = (logits.shape[0], logits.shape[1])
        if let bad = labels.first(where: { $0 < 0 || $0 >= c }) {
            throw ShapeError("cross-entropy: label \(bad) is outside 0..<\(c)")
        }
        if gradient.shape != logits.shape { gradient = Tensor(shape: logits.shape) }
        let x = logits.storage, g = gradient.storage
        let eps = labelSmoothing, scale = 1 / Float(n)
        var total: Double = 0
        for row in 0..<n {
            let base = row * c
            var maximum = -Float.infinity
            for j in 0..<c { maximum = max(maximum, x[base + j]) }
            var sum: Float = 0
            for j in 0..<c { sum += expf(x[base + j] - maximum) }
            let logSum = maximum + logf(sum)
            var smooth: Float = 0
            for j in 0..<c {
                smooth += logSum - x[base + j]
                g[base + j] = expf(x[base + j] - logSum) * scale - eps / Float(c) * scale
            }
            g[base + labels[row]] -= (1 - eps) * scale
            total += Double((1 - eps) * (logSum - x[base + labels[row]]) + eps / Float(c) * smooth)
        }
        return Float(total / Double(n))
    }
}

/// `nn.MSELoss()` with mean reduction: loss = mean((x − t)²); d loss / d x = 2(x − t)/n.
public final class MSELoss {
    public private(set) var gradient = Tensor(shape: [0])

    public init() {}

    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) throws -> Float {
        guard prediction.shape == target.shape else {
            throw ShapeError("MSE loss: prediction \(prediction.shape) and target \(target.shape) differ in shape")
        }
        if gradient.shape != prediction.shape { gradient = Tensor(shape: prediction.shape) }
        let n = prediction.count, scale = 2 / Float(n)
        var total: Double = 0
        for i in 0..<n {
            let d = prediction[i] - target[i]
            total += Double(d * d)
            gradient[i] = d * scale
        }
        return Float(total / Double(n))
    }
}
