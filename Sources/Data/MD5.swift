import Foundation

/// MD5 (RFC 1321), only to check a download against its published checksum — not for security.
/// Foundation on Linux has no digest API, and this is 60 lines instead of a crypto dependency.
public struct MD5 {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    public init() {}

    /// Per-round left-rotation amounts and the constants K[i] = floor(2^32 · |sin(i + 1)|).
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }

    public mutating func update<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        length &+= UInt64(bytes.count)
        pending.append(contentsOf: bytes)
        let whole = pending.count / 64 * 64
        pending.withUnsafeBufferPointer { buffer in
            for start in stride(from: 0, to: whole, by: 64) { compress(UnsafeBufferPointer(rebasing: buffer[start..<(start + 64)])) }
        }
        pending.removeFirst(whole)
    }

    /// The digest as 32 lowercase hex digits.
    public mutating func hexDigest() -> String {
        let bits = length &* 8
        update([0x80] + [UInt8](repeating: 0, count: (55 &- Int(length % 64) + 64) % 64))
        update((0..<8).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) })
        return [state.0, state.1, state.2, state.3]
            .flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
            .map { String(format: "%02x", $0) }.joined()
    }

    private mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
        let m = (0..<16).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(block[4 * i + $1]) << (8 * $1) } }
        var (a, b, c, d) = state
        for i in 0..<64 {
            let (f, g): (UInt32, Int)
            switch i / 16 {
            case 0: (f, g) = ((b & c) | (~b & d), i)
            case 1: (f, g) = ((d & b) | (~d & c), (5 * i + 1) % 16)
            case 2: (f, g) = (b ^ c ^ d, (3 * i + 5) % 16)
            default: (f, g) = (c ^ (b | ~d), (7 * i) % 16)
            }
            let sum = a &+ f &+ Self.constants[i] &+ m[g]
            let s = Self.shifts[(i / 16) * 4 + i % 4]
            (a, d, c) = (d, c, b)
            b = b &+ (sum << s | sum >> (32 - s))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}
