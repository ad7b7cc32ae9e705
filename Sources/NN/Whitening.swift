import Foundation

/// What a learnable parameter is, by the layer that owns it: the handle for settings of a kind of
/// parameter (torch's parameter groups, e.g. airbench's ×64 learning rate for batch-norm biases).
public enum ParameterRole: String, CaseIterable, Codable, Sendable {
    /// A convolution's or linear layer's weight and bias.
    case weight, bias
    /// Batch norm's γ and β.
    case normWeight = "norm-weight", normBias = "norm-bias"

    init(module: Module, name: String) {
        let norm = module is BatchNorm2d
        switch name {
        case "bias": self = norm ? .normBias : .bias
        default: self = norm ? .normWeight : .weight
        }
    }
}

/// The patch statistics behind airbench's whitening layer: Σ = E[p pᵀ] over the k×k patches p of
/// a batch of images, each patch flattened in a convolution weight's [channel, row, column] order.
public struct PatchWhitening {
    /// Eigenvalues of Σ, largest first.
    public let eigenvalues: [Double]
    /// The unit eigenvectors, `eigenvectors[i]` for `eigenvalues[i]`.
    public let eigenvectors: [[Double]]

    /// Patches that need no padding: every position where the kernel fits inside the image.
    public init(images: Tensor, kernel k: Int) throws {
        let s = images.shape
        guard s.count == 4, s[0] > 0, s[2] >= k, s[3] >= k else {
            throw ShapeError("patch whitening needs images [N, C, H, W] of at least \(k)×\(k), got \(s)")
        }
        let (n, c, h, w) = (s[0], s[1], s[2], s[3])
        let d = c * k * k
        guard d <= Self.maximumPatchValues else {
            throw ShapeError("patch whitening of \(c)-channel \(k)×\(k) patches needs a \(d)×\(d) eigendecomposition; at most \(Self.maximumPatchValues) values per patch")
        }
        let positions = (h - k + 1) * (w - k + 1)
        var sigma = [Double](repeating: 0, count: d * d)
        var patch = [Double](repeating: 0, count: d)
        let x = images.storage
        for image in 0..<n {
            for y in 0...(h - k) {
                for xPosition in 0...(w - k) {
                    for channel in 0..<c {
                        let plane = (image * c + channel) * h * w
                        for row in 0..<k {
                            for column in 0..<k {
                                patch[(channel * k + row) * k + column] = Double(x[plane + (y + row) * w + xPosition + column])
                            }
                        }
                    }
                    // The upper triangle; mirrored below.
                    for i in 0..<d {
                        let pi = patch[i]
                        for j in i..<d { sigma[i * d + j] += pi * patch[j] }
                    }
                }
            }
        }
        let scale = 1 / Double(n * positions)
        for i in 0..<d {
            for j in i..<d {
                sigma[i * d + j] *= scale
                sigma[j * d + i] = sigma[i * d + j]
            }
        }
        let (values, vectors) = symmetricEigen(sigma, size: d)
        let order = values.indices.sorted { values[$0] > values[$1] }
        eigenvalues = order.map { values[$0] }
        eigenvectors = order.map { k in (0..<d).map { vectors[$0 * d + k] } }
    }

    /// Beyond this, the O(d³) Jacobi sweeps would take longer than training (3×3 RGB patches: 27).
    static let maximumPatchValues = 256
}

/// Eigenvalues and eigenvectors of a symmetric matrix (row-major, size × size) by cyclic Jacobi
/// rotations (unsorted); `vectors[i * size + k]` is component i of the eigenvector of `values[k]`.
/// Landscape planes (principal components of iterates) and whitening layers use it.
public func symmetricEigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    let scale = a.reduce(0) { $0 + $1 * $1 }
    for _ in 0..<100 {
        var off = 0.0
        for p in 0..<n { for q in 0..<n where q != p { off += a[p * n + q] * a[p * n + q] } }
        if off <= 1e-24 * scale { break }
        for p in 0..<(n - 1) {
            for q in (p + 1)..<n where a[p * n + q] != 0 {
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * a[p * n + q])
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let (kp, kq) = (a[k * n + p], a[k * n + q])
                    a[k * n + p] = c * kp - s * kq
                    a[k * n + q] = s * kp + c * kq
                }
                for k in 0..<n {
                    let (pk, qk) = (a[p * n + k], a[q * n + k])
                    a[p * n + k] = c * pk - s * qk
                    a[q * n + k] = s * pk + c * qk
                }
                for k in 0..<n {
                    let (kp, kq) = (v[k * n + p], v[k * n + q])
                    v[k * n + p] = c * kp - s * kq
                    v[k * n + q] = s * kp + c * kq
                }
            }
        }
    }
    return ((0..<n).map { a[$0 * n + $0] }, v)
}

extension Network {
    /// Makes the first convolution airbench's frozen patch-whitening layer: its filters are the
    /// eigenvectors of the patch statistics of `images` (`PatchWhitening`, patches of its kernel
    /// size), largest eigenvalue first, each divided by √(λ + eps) so that its outputs are
    /// decorrelated with unit variance; the first ⌈out/2⌉ filters are these, the rest their
    /// negatives, so a ReLU after keeps both signs. A layer with fewer than 2·C·k² filters keeps the
    /// leading eigenvectors (most of the variance). The weight then leaves `parameters`: no
    /// optimizer steps or decays it; a bias, if any, starts at zero (airbench's) and still learns.
    /// `images` must be training images only, normalised as the network sees them.
    public func whitenFirstConvolution(with images: Tensor, eps: Double = 5e-4) throws {
        var first: Conv2d?
        root.visit(prefix: "") { _, module in
            if first == nil, let conv = module as? Conv2d { first = conv }
        }
        guard let conv = first else { throw ShapeError("\(name) has no convolution to whiten") }
        guard images.shape.count == 4, images.shape[1] == conv.inChannels else {
            throw ShapeError("\(conv.label) whitens \(conv.inChannels)-channel images, got \(images.shape)")
        }
        let whitening = try PatchWhitening(images: images, kernel: conv.kernel)
        let d = whitening.eigenvalues.count, positives = (conv.outChannels + 1) / 2
        guard positives <= d else {
            throw ShapeError("\(conv.label) has \(conv.outChannels) filters; patch whitening fills at most 2 × \(d) (each eigenvector and its negative)")
        }
        let weights = conv.weight.value
        for filter in 0..<conv.outChannels {
            let vector = filter < positives ? filter : filter - positives
            let scale = (filter < positives ? 1 : -1) / (max(whitening.eigenvalues[vector], 0) + eps).squareRoot()
            for i in 0..<d { weights[filter * d + i] = Float(whitening.eigenvectors[vector][i] * scale) }
        }
        conv.bias?.value.update(repeating: 0)
        let frozen = (conv.path.isEmpty ? "" : conv.path + ".") + "weight"
        if let index = parameters.firstIndex(where: { $0.name == frozen }) {
            parameters.remove(at: index)
            parameterRoles.remove(at: index)
        }
    }
}
