import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny generator whose whole state is one UInt64, so a
/// stream is fully determined by its seed. The loader derives one stream per (seed, epoch, batch),
/// which makes every epoch's order and every batch's augmentation independent of what ran before:
/// a resumed run sees exactly the data an uninterrupted one would have seen. The 2-D lab draws its
/// gradient noise from one stream per seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// An independent stream for `seed` and the given path (e.g. epoch, batch index).
    public init(seed: UInt64, stream path: Int...) {
        state = Self.mix(seed)
        for component in path { state = Self.mix(state ^ UInt64(bitPattern: Int64(component))) }
    }

    /// SplitMix64's output function: a bijection that scatters nearby inputs far apart.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return Self.mix(state)
    }

    /// Uniform in 0..<bound, by rejection so there is no modulo bias; written out (rather than
    /// `Int.random(in:using:)`) so the sequence never changes with the standard library.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let n = UInt64(bound)
        let limit = UInt64.max - UInt64.max % n
        while true {
            let x = next()
            if x < limit { return Int(x % n) }
        }
    }

    /// A standard normal number (Box–Muller on two uniforms in (0, 1]), written out so the
    /// sequence never changes with the standard library.
    public mutating func normal() -> Double {
        let u1 = Double((next() >> 11) + 1) / 9_007_199_254_740_992, u2 = Double(next() >> 11) / 9_007_199_254_740_992
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// A fair coin.
    public mutating func coin() -> Bool { next() >> 63 == 1 }

    /// A Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            order.swapAt(i, below(i + 1))
        }
        return order
    }
}
