import Foundation

/// Muon, momentum orthogonalized by Newton–Schulz: torch.optim.Muon, with the rest of a network
/// stepped by another optimizer as the Muon reference's MuonWithAuxAdam does.
///
///     b ← b + (1−μ)(g − b)                          momentum_buffer
///     u = g + μ(b − g) if nesterov, else b
///     O = NS(u)  in bfloat16: X ← u/max(‖u‖, ε) (transposed if taller than wide), then ns_steps times
///                A = XXᵀ;  B = bA + cA²;  X ← aX + BX        (a, b, c) = ns_coefficients
///     θ ← θ(1 − γλ)
///     θ ← θ − γ·s·O        s = √max(1, A/B) (original), 0.2·√max(A, B) (match_rms_adamw),
///                          √(A/B) (spectral_unclamped) for a parameter of A rows and B columns
/// Every intermediate of NS is rounded to bfloat16 where torch's bfloat16 tensors round it.
///
/// Muon steps matrices: every parameter of two or more dimensions viewed as [rows, the rest]
/// (a convolution's [out, in·kh·kw]) except the classifier head, the last 2-D parameter unless it
/// is the only matrix (a 2-D surface's 1×2 point). The others (biases, batch norm, the head) are
/// stepped by `rest=SPEC`, default adamw(lr=3e-4,betas=(0.9,0.95),weight_decay=0), whose learning
/// rate a schedule scales as it scales Muon's.
struct MuonOptions: AlgorithmOptions, Equatable {
    static let algorithm = Algorithm(names: ["muon"]) { _, r in try MuonOptions(&r) }
    static let adjustments = ["original", "match_rms_adamw", "spectral_unclamped"]

    var lr, weightDecay, momentum, eps: Double
    var nesterov: Bool
    var coefficients: [Double]
    var nsSteps: Int
    var adjustLR: String
    var rest: OptimizerSpec

    init(_ r: inout ArgumentReader) throws {
        lr = try r.number("lr", default: 1e-3)
        weightDecay = try r.number("weight_decay", default: 0.1)
        momentum = try r.number("momentum", default: 0.95)
        nesterov = try r.flag("nesterov", default: true)
        coefficients = try r.numbers("ns_coefficients", default: [3.4445, -4.775, 2.0315], optional: [false, false, false]).map { $0! }
        eps = try r.number("eps", default: 1e-7, .any)
        nsSteps = try r.integer("ns_steps", default: 5, minimum: 0)
        guard nsSteps < 100 else { throw OptimError("\(r.owner): ns_steps=\(nsSteps) must be less than 100") }
        adjustLR = try r.choice("adjust_lr_fn", Self.adjustments, default: "original")
        let rest = try r.call("rest") ?? SpecCall(name: "adamw", arguments: [
            SpecArgument(key: "lr", value: .number(3e-4)),
            SpecArgument(key: "betas", value: .tuple([.number(0.9), .number(0.95)])),
            SpecArgument(key: "weight_decay", value: .number(0)),
        ], text: "adamw(lr=0.0003,betas=(0.9,0.95),weight_decay=0)")
        self.rest = try OptimizerSpec(rest)
        guard self.rest.schedule == nil, self.rest.options.isSeparable, !self.rest.options.needsClosure else {
            throw OptimError("\(r.owner): rest=\(rest.name) must be a plain optimizer without a schedule (muon's schedule scales it too)")
        }
    }

    /// Which parameters Muon steps (the others go to `rest`).
    static func steps(_ shapes: [[Int]]) -> [Bool] {
        let matrices = shapes.indices.filter { shapes[$0].count >= 2 }
        let head = matrices.count > 1 ? matrices.last { shapes[$0].count == 2 } : nil
        return shapes.indices.map { shapes[$0].count >= 2 && $0 != head }
    }
}

extension MuonOptions {
    func rule(_ parameters: [Parameter<Float>]) throws -> AnyRule<Float> { try AnyRule(Muon(self, parameters)) }
    func rule(_ parameters: [Parameter<Double>]) throws -> AnyRule<Double> { try AnyRule(Muon(self, parameters)) }
    var cycledMomentum: CycledMomentum? { .momentum }
    mutating func setMomentum(_ m: Double) { momentum = m }
    /// Which parameters Muon steps depends on the whole set (the head is the last matrix).
    var isSeparable: Bool { false }
}

final class Muon<Scalar: BinaryFloatingPoint>: UpdateRule {
    let o: MuonOptions
    /// Muon's parameters and the rest, as indices into the optimizer's parameters.
    let own, others: [Int]
    let rest: AnyRule<Scalar>?
    let momentumBuffer: StateBuffers<Scalar>
    /// The rest rule's buffers, indexed like the optimizer's parameters.
    let restBuffers: [StateBuffers<Scalar>]
    @exclusivity(unchecked) var momentum: Double

    init(_ o: MuonOptions, _ parameters: [Parameter<Scalar>]) throws {
        self.o = o
        momentum = o.momentum
        let mine = MuonOptions.steps(parameters.map(\.shape))
        own = parameters.indices.filter { mine[$0] }
        others = parameters.indices.filter { !mine[$0] }
        momentumBuffer = StateBuffers("momentum_buffer", sizes: parameters.indices.map { mine[$0] ? parameters[$0].value.count : 0 })
        if others.isEmpty {
            rest = nil
            restBuffers = []
        } else {
            let rest = try AnyRule(o.rest.options, others.map { parameters[$0] })
            self.rest = rest
            let position = Dictionary(uniqueKeysWithValues: others.enumerated().map { ($1, $0) })
            restBuffers = rest.rule.buffers.map { StateBuffers(viewing: $0, at: parameters.indices.map { position[$0] }) }
        }
    }

    var buffers: [StateBuffers<Scalar>] { [momentumBuffer] + restBuffers }

    func setMomentum(_ m: Double) { momentum = m }

    func scalarState(_ i: Int) -> [(name: String, value: Scalar)] {
        others.firstIndex(of: i).map { rest?.rule.scalarState($0) ?? [] } ?? []
    }

    func restore(t: Int, scalars: [[String: Scalar]]) {
        rest?.rule.restore(t: t, scalars: others.map { scalars[$0] })
    }

    func step(_ parameters: [Parameter<Scalar>], lr: [Double], t: Int) {
        let mu = Scalar(momentum), w = Scalar(1 - momentum)
        for i in own {
            let p = parameters[i], theta = p.value, grad = p.grad, b = momentumBuffer[i]
            let rows = p.shape[0], cols = theta.count / rows
            var u = [Float](repeating: 0, count: theta.count)
            for j in theta.indices {
                b[j] = b[j].lerp(to: grad[j], weight: w)
                u[j] = bfloat16(o.nesterov ? Double(grad[j].lerp(to: b[j], weight: mu)) : Double(b[j]))
            }
            let orthogonal = newtonSchulz(u, rows: rows, cols: cols)
            let (a, bCols) = (Double(rows), Double(cols))
            let ratio: Double
            switch o.adjustLR {
            case "match_rms_adamw": ratio = 0.2 * max(a, bCols).squareRoot()
            case "spectral_unclamped": ratio = (a / bCols).squareRoot()
            default: ratio = max(1, a / bCols).squareRoot()
            }
            let decay = Scalar(1 - lr[i] * o.weightDecay), step = Scalar(-(lr[i] * ratio))
            for j in theta.indices {
                theta[j] *= decay
                theta[j] = theta[j].addingProduct(step, Scalar(orthogonal[j]))
            }
        }
        if let rest {
            let scale = o.lr > 0 ? o.rest.options.lr / o.lr : 0
            rest.step(others.map { parameters[$0] }, others.map { lr[$0] * scale }, t)
        }
    }

    /// torch's `_zeropower_via_newtonschulz` on a rows×cols matrix of bfloat16 values (held in
    /// Float): products accumulate in double and every result is rounded to float, then to
    /// bfloat16, which reproduces torch's bfloat16 kernels on these sizes.
    private func newtonSchulz(_ g: [Float], rows: Int, cols: Int) -> [Float] {
        let transposed = rows > cols
        let (n, m) = transposed ? (cols, rows) : (rows, cols)  // X is n×m with n ≤ m
        var x = transposed ? (0..<n * m).map { g[($0 % m) * cols + $0 / m] } : g
        let norm = bfloat16(Double(Float(x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())))
        let divisor = max(norm, bfloat16(o.eps))
        for k in x.indices { x[k] = bfloat16(Double(x[k] / divisor)) }
        let (a, b, c) = (o.coefficients[0], o.coefficients[1], o.coefficients[2])
        var gram = [Float](repeating: 0, count: n * n), update = gram, next = x
        for _ in 0..<o.nsSteps {
            for r in 0..<n {
                for s in 0..<n {
                    var sum = 0.0
                    for k in 0..<m { sum += Double(x[r * m + k]) * Double(x[s * m + k]) }
                    gram[r * n + s] = bfloat16(Double(Float(sum)))
                }
            }
            for r in 0..<n {
                for s in 0..<n {
                    var sum = 0.0
                    for k in 0..<n { sum += Double(gram[r * n + k]) * Double(gram[k * n + s]) }
                    update[r * n + s] = bfloat16(Double(Float(b * Double(gram[r * n + s]) + c * sum)))
                }
            }
            for r in 0..<n {
                for s in 0..<m {
                    var sum = 0.0
                    for k in 0..<n { sum += Double(update[r * n + k]) * Double(x[k * m + s]) }
                    next[r * m + s] = bfloat16(Double(Float(a * Double(x[r * m + s]) + sum)))
                }
            }
            swap(&x, &next)
        }
        return transposed ? (0..<rows * cols).map { x[($0 % cols) * m + $0 / cols] } : x
    }
}

/// Rounds to the nearest bfloat16 (8 significant bits, ties to even), as torch's `.to(bfloat16)`.
func bfloat16(_ x: Double) -> Float {
    guard x.isFinite, x != 0 else { return Float(x) }
    let dropped: UInt64 = 45  // 52 − 7 stored mantissa bits
    let bits = x.bitPattern
    let half: UInt64 = (1 << (dropped - 1)) - 1, lastKept: UInt64 = (bits >> dropped) & 1
    let mask: UInt64 = ~((1 << dropped) - 1)
    let rounded = (bits &+ half &+ lastKept) & mask
    return Float(Double(bitPattern: rounded))
}
