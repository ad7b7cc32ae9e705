import Foundation

/// Requests too big to finish are refused before any work starts, with the estimate and the
/// limit, rather than ending in an out-of-memory kill or hours of computing.
public enum Budget {
    /// Half the machine's memory, so the rest of the system keeps running.
    public static var memoryLimit: Double { Double(ProcessInfo.processInfo.physicalMemory) / 2 }
    /// 2-D optimizer steps in one request: about ten minutes on one core (≈ 20 M steps/s).
    public static let stepLimit = 1e10
    /// Multiply-adds of network passes in one request (a landscape's loss evaluations): about half
    /// an hour of labnet's forward passes on two AVX-512 cores (≈ 60 G multiply-adds/s).
    public static let multiplyAddLimit = 1e14

    /// Throws when `bytes` or `steps` exceed the limits; `request` names the work ("lr-sweep: 101
    /// learning rates × 9 optimizers × 100 steps") and `advice` says what to make smaller.
    public static func check(_ request: String, bytes: Double, steps: Double, advice: String) throws {
        if bytes > memoryLimit {
            throw BudgetError("\(request) would need about \(size(bytes)) of memory; the limit is \(size(memoryLimit)) (half this machine's): \(advice)")
        }
        if steps > stepLimit {
            throw BudgetError("\(request) is \(String(format: "%.2g", steps)) optimizer steps; the limit is \(String(format: "%.2g", stepLimit)) (about ten minutes): \(advice)")
        }
    }

    /// Pixels of one image: 100 megapixels, 400 MB as a 32-bit surface and as much again while it
    /// is encoded, and about a minute to draw.
    public static let imagePixelLimit = 1e8
    /// Pixels an animation draws in all (frames × width × height): about ten minutes of drawing and
    /// encoding.
    public static let animationPixelLimit = 2e9

    /// Throws when an image of `width` × `height` pixels, or `frames` of them (an animation), is
    /// over the pixel limits; `advice` says what to make smaller.
    public static func checkPixels(width: Double, height: Double, frames: Int? = nil, advice: String) throws {
        let pixels = width * height, image = String(format: "%.0f×%.0f", width, height)
        if pixels > imagePixelLimit {
            throw BudgetError("a \(image)-pixel image is \(String(format: "%.0f", pixels / 1e6)) megapixels (about \(size(8 * pixels)) "
                              + "of memory to draw); the limit is \(String(format: "%.0f", imagePixelLimit / 1e6)) megapixels: \(advice)")
        }
        if let frames, Double(frames) * pixels > animationPixelLimit {
            throw BudgetError("\(frames.grouped) frames of \(image) pixels are \(String(format: "%.1f", Double(frames) * pixels / 1e9)) "
                              + "gigapixels to draw; the limit is \(String(format: "%.0f", animationPixelLimit / 1e9)) gigapixels (about ten minutes): \(advice)")
        }
    }

    /// Throws when a request's network passes exceed `multiplyAddLimit`, with the estimate.
    public static func check(_ request: String, multiplyAdds: Double, advice: String) throws {
        if multiplyAdds > multiplyAddLimit {
            throw BudgetError("\(request) is \(String(format: "%.2g", multiplyAdds)) multiply-adds; the limit is \(String(format: "%.2g", multiplyAddLimit)) (about half an hour on two cores): \(advice)")
        }
    }

    static func size(_ bytes: Double) -> String {
        bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : String(format: "%.0f MB", bytes / 1e6)
    }
}

/// A request over the budget; one line with the estimate and the limit.
public struct BudgetError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}
