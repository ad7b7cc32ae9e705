import Data
import Foundation
import NN
import Optim
import Support

/// `optlab landscape`: the training loss of a real network over a plane through the common start
/// θ₀ of several optimizers' runs, with each run's path projected onto that plane.
///
/// Distances are filter-normalised (Li et al. 2018, "Visualizing the loss landscape of neural
/// nets"): a change of a convolution or linear filter (one output channel of its weight) is
/// measured relative to that filter's norm at θ₀, so filters of every scale count alike and
/// batch-norm's scale invariance cannot make one layer dominate. Li et al. rescale each filter of
/// a direction to θ₀'s norm; applied to the direction toward an endpoint, that rescaling moves the
/// plane off the endpoint. Here the normalisation is the plane's inner product instead,
/// ⟨a, b⟩ = Σᵢ sᵢ² aᵢ bᵢ with sᵢ = 1 / ‖θ₀'s filter holding i‖ (1 for biases and batch-norm
/// parameters, which have no filters), so the runs' ends lie exactly in the plane.
/// - Two runs: the x axis points to the first run's end, the y axis to the second's,
///   Gram–Schmidt-orthogonalised against x.
/// - More runs: the first two principal components of every saved iterate of every run, centred at
///   θ₀ (uncentred second moment about θ₀, not about the iterates' mean: the plane must go through
///   the common start).
/// Both axes are unit vectors of that metric, so the picture is to scale and a coordinate is a
/// filter-normalised distance (1 = every filter moved by its own norm, in the root-mean-square sense).
public enum Landscape {
    /// Training images the loss is evaluated on, by default: the first of the runs' training images.
    public static let defaultLossImages = 2000
    public static let defaultGrid = 21
    /// Iterates saved per run (evenly spaced in steps), by default, besides θ₀ and the end.
    public static let defaultSnapshots = 40

    /// The plane's window around the projected points: their span, widened by this fraction on each side.
    static let margin = 0.25

    /// Images a plan trains on per epoch: the training split less the validation split, cut to the subset.
    public static func trainingImages(_ plan: TrainingPlan, train: Dataset) -> Int {
        min(plan.trainSubset ?? .max, train.count - (plan.validation?.count ?? 0))
    }

    /// Optimizer steps of a plan's whole run (the loader keeps a last, smaller batch).
    public static func steps(of plan: TrainingPlan, train: Dataset) -> Int {
        plan.epochs * ((trainingImages(plan, train: train) + plan.batchSize - 1) / plan.batchSize)
    }
}

/// A network's parameters as one flat vector (`named_parameters()` order), and the filter-normalised
/// metric of the plane around the origin θ₀ (see `Landscape`).
public struct ParameterSpace: Sendable {
    public let origin: [Float]
    /// sᵢ: 1 / the norm of coordinate i's filter in θ₀; 1 for parameters without filters.
    public let scale: [Float]
    public var count: Int { origin.count }

    /// The space around `origin`, a flat vector of parameters of `shapes`.
    public init(origin: [Float], shapes: [[Int]]) {
        precondition(origin.count == shapes.reduce(0) { $0 + $1.reduce(1, *) }, "a point of another network")
        self.origin = origin
        var scale = [Float]()
        scale.reserveCapacity(origin.count)
        var offset = 0
        for shape in shapes {
            let filters = shape.count >= 2 ? shape[0] : 1
            let size = shape.reduce(1, *) / filters
            for _ in 0..<filters {
                let norm = origin[offset..<(offset + size)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                scale += repeatElement(shape.count >= 2 && norm > 0 ? Float(1 / norm) : 1, count: size)
                offset += size
            }
        }
        self.scale = scale
    }

    /// The space around a network's current parameters.
    public init(origin network: Network) {
        self.init(origin: Self.values(of: network), shapes: network.parameters.map(\.shape))
    }

    public static func values(of network: Network) -> [Float] { network.parameters.flatMap { Array($0.value) } }

    /// Writes a flat vector into the network's parameters.
    public static func load(_ values: [Float], into network: Network) {
        var offset = 0
        for parameter in network.parameters {
            _ = parameter.value.update(from: values[offset..<(offset + parameter.value.count)])
            offset += parameter.value.count
        }
    }

    /// sᵢ (θᵢ − θ₀ᵢ): a point in the coordinates where the metric is the plain dot product.
    public func scaled(_ point: [Float]) -> [Float] {
        precondition(point.count == count, "a point of another network")
        return (0..<count).map { scale[$0] * (point[$0] - origin[$0]) }
    }

    /// θ₀ + Σₖ cₖ aₖ / s for axes aₖ in scaled coordinates.
    func point(_ coordinates: [Double], axes: [[Float]]) -> [Float] {
        var point = origin
        for (c, axis) in zip(coordinates, axes) {
            let c = Float(c)
            for i in 0..<count { point[i] += c * axis[i] / scale[i] }
        }
        return point
    }
}

/// The plane the landscape is drawn on: two orthonormal axes in the scaled coordinates of a
/// `ParameterSpace`, and what they are.
public struct LandscapePlane: Sendable {
    public let space: ParameterSpace
    /// Orthonormal, in scaled coordinates; a point's coordinate along one is ⟨z, a⟩.
    public let axes: [[Float]]
    /// What each axis is, as the figure labels it.
    public let axisLabels: [String]
    /// The fraction of the iterates' second moment about θ₀ each principal component holds (nil
    /// for the plane toward two endpoints).
    public let varianceFractions: [Double]?

    init(space: ParameterSpace, axes: [[Float]], axisLabels: [String], varianceFractions: [Double]? = nil) {
        self.space = space
        self.axes = axes
        self.axisLabels = axisLabels
        self.varianceFractions = varianceFractions
    }

    /// The plane through θ₀ and the two ends: x toward the first end, y toward the second,
    /// orthogonal to x. Throws when an end is θ₀ or both lie on one line through it.
    public static func towardEnds(_ space: ParameterSpace, _ first: (label: String, end: [Float]),
                                  _ second: (label: String, end: [Float])) throws -> LandscapePlane {
        let x = space.scaled(first.end), toSecond = space.scaled(second.end)
        let xx = dot(x, x)
        guard xx > 0 else { throw TrainingError.plan("\(first.label) ends where it started: no direction to draw") }
        let along = dot(toSecond, x) / xx
        let y = (0..<x.count).map { toSecond[$0] - Float(along) * x[$0] }
        let yy = dot(y, y)
        guard yy > 1e-12 * xx else {
            throw TrainingError.plan("\(first.label) and \(second.label) end on one line through the start: they span no plane")
        }
        return LandscapePlane(space: space, axes: [unit(x), unit(y)], axisLabels: [
            "toward \(first.label)'s end (filter-normalised distance)",
            "toward \(second.label)'s end, orthogonal to x",
        ])
    }

    /// The first two principal components of `iterates` about θ₀ (uncentred), unit length in the
    /// scaled coordinates; signs chosen so that the last iterate has non-negative coordinates.
    public static func principalComponents(_ space: ParameterSpace, iterates: [[Float]]) throws -> LandscapePlane {
        guard iterates.count >= 2 else { throw TrainingError.plan("fewer than two iterates besides the start: no plane to draw") }
        let z = iterates.map(space.scaled)
        let n = z.count
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                gram[i * n + j] = dot(z[i], z[j])
                gram[j * n + i] = gram[i * n + j]
            }
        }
        let (values, vectors) = symmetricEigen(gram, size: n)
        let order = values.indices.sorted { values[$0] > values[$1] }
        let total = values.reduce(0, +)
        guard total > 0, values[order[1]] > 1e-12 * total else {
            throw TrainingError.plan("the iterates span fewer than two dimensions: no plane to draw")
        }
        var axes: [[Float]] = []
        for k in order.prefix(2) {
            let norm = values[k].squareRoot()
            var axis = [Float](repeating: 0, count: space.count)
            for i in 0..<n {
                let weight = Float(vectors[i * n + k] / norm)
                for p in 0..<space.count { axis[p] += weight * z[i][p] }
            }
            if dot(axis, z[n - 1]) < 0 { axis = axis.map { -$0 } }
            axes.append(unit(axis))
        }
        let fractions = order.prefix(2).map { values[$0] / total }
        return LandscapePlane(space: space, axes: axes, axisLabels: fractions.enumerated().map { k, fraction in
            String(format: "PC%d (%.0f %% of the iterates' variance about θ₀), filter-normalised", k + 1, 100 * fraction)
        }, varianceFractions: fractions)
    }

    /// A point's coordinates (x, y) in the plane: its projection.
    public func project(_ point: [Float]) -> (x: Double, y: Double) {
        let z = space.scaled(point)
        return (dot(z, axes[0]), dot(z, axes[1]))
    }

    /// The parameters at (x, y) in the plane.
    public func point(x: Double, y: Double) -> [Float] { space.point([x, y], axes: axes) }

    /// `vector` scaled to length 1.
    static func unit(_ vector: [Float]) -> [Float] {
        let length = Float(dot(vector, vector).squareRoot())
        return vector.map { $0 / length }
    }
}

/// The dot product in double precision, summed in float blocks of 8 lanes (fast and accurate
/// enough for millions of parameters).
func dot(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    return a.withUnsafeBytes { a in
        b.withUnsafeBytes { b in
            let n = a.count / MemoryLayout<Float>.stride, lanes = 8, block = 4096
            var total = 0.0, start = 0
            while start < n {
                let end = min(n, start + block)
                var sum = SIMD8<Float>(), i = start
                while i + lanes <= end {
                    let offset = i * MemoryLayout<Float>.stride
                    sum += a.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        * b.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                    i += lanes
                }
                total += Double(sum.sum())
                while i < end {
                    total += Double(a.load(fromByteOffset: i * 4, as: Float.self)) * Double(b.load(fromByteOffset: i * 4, as: Float.self))
                    i += 1
                }
                start = end
            }
            return total
        }
    }
}
